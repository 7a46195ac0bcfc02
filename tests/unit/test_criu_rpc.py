"""pyoci.criu.rpc, the one way checkpoint and restore run CRIU, against a
stand-in `criu swrk`: the request's fields (the image directory as a
descriptor CRIU resolves through /proc, the flags as a configuration
file), notifications and their answers, CRIU's failures quoting its log,
the feature check, and the protobuf coding.  The real CRIU runs in the
integration suite (test_checkpoint.py)."""
import json
import os
import sys

import pytest

from pyoci.core.errors import PyociError
from pyoci.criu import rpc
from pyoci.criu.options import Options

# A stand-in for `criu swrk FD`: it records what it was asked (and what its
# peer's descriptors resolve to, as CRIU resolves them) in $FAKE_CRIU_SEEN,
# sends the notifications $FAKE_CRIU_PLAN lists, then answers as told.
FAKE_CRIU = """#!{python}
import json, os, socket, struct, sys
sys.path[:0] = {path!r}
from pyoci.criu import rpc

plan = json.loads(os.environ["FAKE_CRIU_PLAN"])
sock = socket.socket(fileno=int(sys.argv[2]))
peer = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
req = rpc.decode(sock.recv(65536))
opts = rpc.decode(req[rpc.REQ_OPTS][0])
seen = {{"argv": sys.argv[1:], "type": req[rpc.REQ_TYPE][0],
        "opts": {{str(k): [v.decode() if isinstance(v, bytes) else v for v in vs] for k, vs in opts.items()}},
        "images": os.readlink(f"/proc/{{peer}}/fd/{{opts[rpc.IMAGES_DIR_FD][0]}}"),
        "features": {{str(k): v for k, v in rpc.decode(req.get(rpc.REQ_FEATURES, [b""])[0]).items()}},
        "notified": []}}
with open(opts[rpc.CONFIG_FILE][0].decode()) as f:
    seen["config"] = f.read()
for script in plan.get("notify", []):
    note = rpc.encode([(rpc.NOTIFY_SCRIPT, script), (rpc.NOTIFY_PID, 4242)])
    r, w = os.pipe()
    socket.send_fds(sock, [rpc.encode([(rpc.RESP_TYPE, rpc.NOTIFY), (rpc.RESP_SUCCESS, True), (rpc.RESP_NOTIFY, note)])], [r])
    seen["notified"].append(rpc.decode(sock.recv(65536))[rpc.REQ_NOTIFY_SUCCESS][0])
with open(os.environ["FAKE_CRIU_SEEN"], "w") as f:
    json.dump(seen, f)
if "log" in plan:
    with open(os.path.join(seen["images"], opts[rpc.LOG_FILE][0].decode()), "w") as f:
        f.write(plan["log"])
if plan.get("answer", True):
    resp = [(rpc.RESP_TYPE, seen["type"]), (rpc.RESP_SUCCESS, plan.get("success", True))]
    if "errmsg" in plan:
        resp.append((rpc.RESP_CR_ERRMSG, plan["errmsg"]))
    if "restored" in plan:
        resp.append((rpc.RESP_RESTORE, rpc.encode([(rpc.RESTORED_PID, plan["restored"])])))
    if "features" in plan:
        resp.append((rpc.RESP_FEATURES, rpc.encode([(rpc.FEATURES[n], True) for n in plan["features"]])))
    sock.send(rpc.encode(resp))
sys.exit(plan.get("status", 0))
"""


@pytest.fixture
def fake_criu(tmp_path, monkeypatch):
    """(path of the stand-in, plan(**how) to tell it what to do, seen() to read what it got)."""
    binary = tmp_path / "criu"
    binary.write_text(FAKE_CRIU.format(python=sys.executable, path=sys.path))
    binary.chmod(0o755)
    seen_path = tmp_path / "seen.json"
    monkeypatch.setenv("FAKE_CRIU_SEEN", str(seen_path))

    def plan(**how):
        monkeypatch.setenv("FAKE_CRIU_PLAN", json.dumps(how))

    plan()
    return str(binary), plan, lambda: json.loads(seen_path.read_text())


@pytest.fixture
def images(tmp_path):
    path = tmp_path / "images"
    path.mkdir()
    return Options(image_path=str(path))


def open_fds():
    return set(os.listdir("/proc/self/fd"))


def test_a_dump_names_the_images_by_descriptor_and_the_flags_by_configuration(fake_criu, images):
    binary, _plan, seen = fake_criu
    before = open_fds()
    worker = rpc.Worker(binary, images, "dump.log", ["--root", "/r", "--leave-running", "--external", "mnt[/a]:/a"])
    config_path = worker.config_path
    worker.call(rpc.DUMP, pid=77)
    got = seen()
    assert got["argv"][0] == "swrk" and got["type"] == rpc.DUMP
    assert got["images"] == images.image_path
    assert got["opts"][str(rpc.PID)] == [77]
    assert got["opts"][str(rpc.LOG_FILE)] == ["dump.log"]
    assert got["opts"][str(rpc.LOG_LEVEL)] == [4]
    assert str(rpc.RST_SIBLING) not in got["opts"] and str(rpc.NOTIFY_SCRIPTS) not in got["opts"]
    assert got["opts"][str(rpc.EXTERNAL)] == ["mnt[/a]:/a"]
    assert got["opts"][str(rpc.ORPHAN_PTS_MASTER)] == [1]
    assert got["config"] == 'root "/r"\nleave-running\n'
    assert not os.path.exists(config_path)
    assert open_fds() == before


def test_a_work_path_is_a_descriptor_too(fake_criu, tmp_path):
    binary, _plan, seen = fake_criu
    (tmp_path / "images").mkdir()
    (tmp_path / "work").mkdir()
    opts = Options(image_path=str(tmp_path / "images"), work_path=str(tmp_path / "work"))
    worker = rpc.Worker(binary, opts, "dump.log")
    assert os.readlink(f"/proc/self/fd/{dict(worker.request)[rpc.WORK_DIR_FD]}") == str(tmp_path / "work")
    worker.call(rpc.DUMP, pid=1)
    assert rpc.WORK_DIR_FD in [int(k) for k in seen()["opts"]]


def test_a_restore_is_a_sibling_and_is_told_each_step(fake_criu, images):
    binary, plan, seen = fake_criu
    plan(notify=["setup-namespaces", "post-restore"], restored=4242)
    told = []

    def notify(script, pid, fds):
        told.append((script, pid, len(fds)))
        for fd in fds:
            os.close(fd)

    answer = rpc.Worker(binary, images, "restore.log").call(rpc.RESTORE, sibling=True, notify=notify)
    assert rpc.restored_pid(answer) == 4242
    assert told == [("setup-namespaces", 4242, 1), ("post-restore", 4242, 1)]
    got = seen()
    for field in (rpc.RST_SIBLING, rpc.NOTIFY_SCRIPTS):
        assert got["opts"][str(field)] == [1]
    assert got["notified"] == [1, 1]


def test_a_failed_step_is_told_to_criu_and_raised(fake_criu, images):
    binary, plan, seen = fake_criu
    plan(notify=["setup-namespaces", "post-restore"], success=False, status=1)

    def notify(script, pid, fds):
        for fd in fds:
            os.close(fd)
        raise PyociError("the prestart hook failed")

    with pytest.raises(PyociError, match="^the prestart hook failed$"):
        rpc.Worker(binary, images, "restore.log").call(rpc.RESTORE, notify=notify)
    assert seen()["notified"] == [0, 0]


def test_a_failure_quotes_criu_s_log(fake_criu, images):
    binary, plan, _seen = fake_criu
    plan(success=False, status=1, log="(00.01) Error (criu/cr-dump.c:1): Can't setup RLIMIT_NOFILE\n"
                                       "(00.02)  7: Error (criu/mount.c:99): mnt: No external for /x\n")
    with pytest.raises(PyociError) as e:
        rpc.Worker(binary, images, "dump.log").call(rpc.DUMP, pid=1)
    assert str(e.value) == f"criu dump failed: mnt: No external for /x (log: {images.image_path}/dump.log)"


def test_without_a_log_the_answer_says_why(fake_criu, images):
    binary, plan, _seen = fake_criu
    plan(success=False, status=1, errmsg="Error (criu/cr-service.c:361): Can't open images directory")
    with pytest.raises(PyociError, match="^criu pre-dump failed: Can't open images directory "):
        rpc.Worker(binary, images, "dump.log").call(rpc.PRE_DUMP, pid=1)


@pytest.mark.parametrize("req_type, fails", [(rpc.PRE_DUMP, False), (rpc.DUMP, True)])
def test_a_pre_dump_is_its_answer_though_criu_then_exits_failing(fake_criu, images, req_type, fails):
    """CRIU's pre-dump loop waits for the next request on the connection and
    fails once it is closed: a pre-dump's success is its answer.  Any other
    request's is the answer and CRIU's exit."""
    binary, plan, _seen = fake_criu
    plan(success=True, status=1)
    if fails:
        with pytest.raises(PyociError, match="^criu dump failed: "):
            rpc.Worker(binary, images, "dump.log").call(req_type, pid=1)
    else:
        assert rpc._first(rpc.Worker(binary, images, "dump.log").call(req_type, pid=1), rpc.RESP_SUCCESS, 0)


def test_criu_exiting_without_an_answer_fails(fake_criu, images):
    binary, plan, _seen = fake_criu
    plan(answer=False, status=0)
    with pytest.raises(PyociError, match="^criu restore failed: no log "):
        rpc.Worker(binary, images, "restore.log").call(rpc.RESTORE)


def test_the_feature_check_names_the_flag_whose_feature_is_missing(fake_criu, images):
    binary, plan, seen = fake_criu
    plan(features=["mem_track"])
    rpc.check_features(binary, images, "dump.log", {"mem_track": "--pre-dump"})
    assert seen()["type"] == rpc.FEATURE_CHECK and seen()["features"] == {"1": [1]}
    with pytest.raises(PyociError, match="^--lazy-pages: CRIU cannot do it here"):
        rpc.check_features(binary, images, "dump.log", {"mem_track": "--pre-dump", "lazy_pages": "--lazy-pages"})


def test_a_missing_image_directory_is_named(fake_criu, tmp_path):
    binary, _plan, _seen = fake_criu
    with pytest.raises(PyociError, match="^--image-path: .*/none: no such file or directory$"):
        rpc.Worker(binary, Options(image_path=str(tmp_path / "none")), "dump.log")


def test_a_failed_preexec_fn_is_an_error_of_pyoci():
    def fail():
        raise PyociError("cgroup join refused")

    with pytest.raises(PyociError, match="^/bin/true could not be started: .*preexec_fn"):
        rpc.popen(["/bin/true"], preexec_fn=fail)


def test_flags_that_add_to_a_list_are_the_requests_own_fields():
    """CRIU 3.17 reads the configuration file twice: these would count twice."""
    fields, rest = rpc.split_lists(["--root", "/r", "--inherit-fd", "fd[7]:pipe:[123]", "--shell-job",
                                    "--join-ns", "uts:/proc/9/ns/uts", "--cgroup-root", "cpu,cpuacct:/a/b",
                                    "--cgroup-root", "/c", "--external", "net[4026]:extRootNetNS"])
    assert rest == ["--root", "/r", "--shell-job"]
    decoded = [(number, rpc.decode(value) if number != rpc.EXTERNAL else value) for number, value in fields]
    assert decoded == [
        (rpc.INHERIT_FD, {1: [b"pipe:[123]"], 2: [7]}),
        (rpc.JOIN_NS, {1: [b"uts"], 2: [b"/proc/9/ns/uts"]}),
        (rpc.CG_ROOT, {1: [b"cpu,cpuacct"], 2: [b"/a/b"]}),
        (rpc.CG_ROOT, {2: [b"/c"]}),
        (rpc.EXTERNAL, "net[4026]:extRootNetNS"),
    ]


@pytest.mark.parametrize("value", ['say "hi"', "two\nlines", "ends\\"])
def test_a_value_a_configuration_file_cannot_hold_is_refused(value):
    with pytest.raises(PyociError, match="^--root .*configuration file"):
        rpc.config_text(["--root", value])


def test_the_users_configuration_comes_first(tmp_path):
    user = tmp_path / "runc.conf"
    user.write_text("tcp-close\n")
    assert rpc.config_text(["--shell-job"], str(user)) == "tcp-close\n\nshell-job\n"
    assert rpc.config_text(["--shell-job"], str(tmp_path / "none")) == "shell-job\n"


@pytest.mark.parametrize("fields", [
    [(1, 2)],
    [(2, -1)],  # a negative int32: ten bytes of varint
    [(9, 300), (51, "/tmp/x.conf"), (50, True)],
    [(2, rpc.encode([(1, 5), (10, "dump.log")]))],
])
def test_coding_round_trips(fields):
    decoded = rpc.decode(rpc.encode(fields))
    for number, value in fields:
        want = value.encode() if isinstance(value, str) else value
        if isinstance(value, int) and value < 0:
            want = value & (1 << 64) - 1
        assert want in decoded[number]


@pytest.mark.parametrize("data", [b"\x08", b"\x0a\x05ab", b"\x0b"])
def test_a_broken_message_is_refused(data):
    with pytest.raises(PyociError, match="CRIU's RPC"):
        rpc.decode(data)
