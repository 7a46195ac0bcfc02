"""What the engines rely on beyond the commands themselves (COMPAT.md):
containerd reads the last `error` record of --log; podman reads the log as
one JSON object and maps its message to 126 or 127; podman runs kill and
delete with no PATH; conmon and containerd's shim are subreapers, and the
container's init must stay their descendant after create exits."""
import json
import subprocess
import sys
import textwrap

from test_isolation import created


def json_log_of_failed_create(runtime, tmp_path, args, mutate=None):
    log = tmp_path / "log.json"
    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(args, rootfs=runtime.rootfs, mutate=mutate), cid,
                   global_args=("--log", str(log), "--log-format", "json"))
    assert proc.returncode == 1
    return log.read_text()


def test_a_missing_program_is_one_json_error_that_podman_maps_to_127(runtime, tmp_path):
    text = json_log_of_failed_create(runtime, tmp_path, ["/no/such/program"])
    record = json.loads(text)  # the whole file is one object, as podman reads it
    assert record["level"] == "error" and "no such file or directory" in record["msg"]


def test_a_program_that_is_not_executable_maps_to_126(runtime, tmp_path):
    # /etc/passwd exists in the rootfs and has no execute bit.
    record = json.loads(json_log_of_failed_create(runtime, tmp_path, ["/etc/passwd"]))
    assert "permission denied" in record["msg"]


def test_the_last_record_is_the_error_containerd_shows(runtime, tmp_path):
    log = tmp_path / "log.json"
    runtime("state", "no-such-container", global_args=("--log", str(log), "--log-format", "json", "--debug"))
    runtime("kill", "no-such-container", global_args=("--log", str(log), "--log-format", "json"))
    last = json.loads(log.read_text().splitlines()[-1])
    # containerd takes "does not exist" as not-found.
    assert last["level"] == "error" and "does not exist" in last["msg"]


def test_kill_and_delete_without_path(runtime):
    cid, _pid = created(runtime)
    env = {"XDG_RUNTIME_DIR": "/run"}
    assert runtime("kill", cid, "9", env=env).returncode == 0
    for _ in range(100):
        if runtime.state(cid)["status"] == "stopped":
            break
    assert runtime("delete", cid, env=env).returncode == 0


SUBREAPER = textwrap.dedent("""
    import ctypes, json, os, subprocess, sys
    assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    runtime, cid, bundle = sys.argv[1:-2], sys.argv[-2], sys.argv[-1]
    subprocess.run(runtime + ["create", "-b", bundle, cid], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    state = json.loads(subprocess.run(runtime + ["state", cid], check=True, capture_output=True).stdout)
    with open(f"/proc/{state['pid']}/stat") as f:
        parent = int(f.read().rpartition(")")[2].split()[1])
    print(json.dumps({"me": os.getpid(), "init_parent": parent}))
""")


def test_the_init_stays_a_descendant_of_a_subreaper_caller(runtime, tmp_path):
    """As conmon and containerd's shim are: once create has exited, the
    init is the caller's child, not detached elsewhere."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    with open(tmp_path / "out", "w+") as out:
        subprocess.run([sys.executable, "-c", SUBREAPER, *runtime.cmd, "--root", runtime.root, cid, bundle],
                       stdout=out, check=True, timeout=60)
        out.seek(0)
        seen = json.loads(out.read())
    assert seen["init_parent"] == seen["me"]
