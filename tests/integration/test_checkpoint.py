"""checkpoint and restore through CRIU, seen from outside: a counting
process goes on from where it stopped (its stdio handed to the restoring
command, or its terminal's new master to restore's --console-socket), --leave-running, a TCP listener and an established connection in
the container's own network namespace, the hooks, memory sent to a page
server, lazy migration, and bad input.

CRIU is $PYOCI_CRIU or criu on PATH, passed to the runtime as --criu; the
tests skip with `criu check`'s reason where it fails (old CRIU, new kernel).
A detached container's stdio are pipes here: CRIU dumps pipes, but not the
temporary files the harness gives other commands (opened outside the
container's mount namespace)."""
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from captured import run_captured

WAIT = 15  # seconds: CRIU on two slow CPUs


class Output:
    """What the container has written so far to fd, a non-blocking pipe or
    pty master, and the numbers in it (the counters here print them)."""

    fd = None
    text = ""

    def read(self):
        try:
            while chunk := os.read(self.fd, 65536):
                self.text += chunk.decode(errors="replace")
        except BlockingIOError:
            pass
        except OSError:  # EIO: no process has the terminal open any more
            pass
        return self.text

    def numbers(self):
        return [int(word) for word in self.read().split() if word.isdigit()]


class Stdio(Output):
    """Pipes standing for an engine's: the container's stdin, and one pipe
    for its stdout and stderr that the test reads."""

    def __init__(self):
        self.stdin_r, self.stdin_w = os.pipe()
        self.out_r, self.out_w = os.pipe()
        os.set_blocking(self.out_r, False)
        self.fd = self.out_r

    def run(self, runtime, criu, *args):
        """A runtime command with these pipes as its stdio: (exit status, its output)."""
        before = self.read()
        proc = subprocess.run(runtime.cmd + ["--root", runtime.root, "--criu", criu, *args],
                              stdin=self.stdin_r, stdout=self.out_w, stderr=self.out_w, timeout=60)
        return proc.returncode, self.read()[len(before):]


    def close(self):
        for fd in (self.stdin_r, self.stdin_w, self.out_r, self.out_w):
            os.close(fd)


@pytest.fixture
def stdio():
    made = []

    def make():
        made.append(Stdio())
        return made[-1]

    yield make
    for pipes in made:
        pipes.close()


@pytest.fixture
def images(tmp_path):
    path = tmp_path / "images"
    yield str(path)
    shutil.rmtree(path, ignore_errors=True)


def wait_until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def read_number(path):
    try:
        with open(path) as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return 0


def with_data_dir(data):
    def mutate(config):
        config["mounts"].append({"destination": "/data", "type": "bind", "source": str(data),
                                 "options": ["rbind", "rw"]})
    return mutate


# /data/count is replaced whole (rename), never seen empty, wherever the freeze lands.
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /data/count.new; mv /data/count.new /data/count; echo $i; sleep 0.1; done"


@pytest.fixture
def counter(runtime, criu, stdio, tmp_path):
    """A running container that counts into /data/count (a host directory
    bound in) and onto its stdout: (id, bundle, data dir, its stdio)."""
    data = tmp_path / "data"
    data.mkdir()
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", COUNTER], rootfs=runtime.rootfs, mutate=with_data_dir(data))
    pipes = stdio()
    status, output = pipes.run(runtime, criu, "run", "-d", "-b", bundle, cid)
    assert status == 0, output
    wait_until(lambda: read_number(data / "count") >= 5, "the counter counts")
    return cid, bundle, data, pipes


def test_restore_goes_on_counting_where_checkpoint_stopped(runtime, criu, counter, images, stdio, tmp_path):
    cid, bundle, data, _ = counter
    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert runtime("state", cid).returncode != 0, "checkpoint removes the container"
    stopped_at = read_number(data / "count")
    time.sleep(0.5)
    assert read_number(data / "count") == stopped_at, "nothing counts after checkpoint"
    assert os.path.exists(os.path.join(images, "descriptors.json"))

    pipes = stdio()
    pid_file = str(tmp_path / "restored.pid")
    status, output = pipes.run(runtime, criu, "restore", "-d", "--image-path", images, "--pid-file", pid_file,
                               "-b", bundle, cid)
    assert status == 0, output
    state = runtime.state(cid)
    assert state["status"] == "running"
    with open(pid_file) as f:
        assert int(f.read()) == state["pid"]
    wait_until(lambda: read_number(data / "count") > stopped_at + 3, "the restored counter counts")
    # Its stdout is now restore's: the count goes on there, not from 1.
    wait_until(lambda: len(pipes.numbers()) >= 3, "the restored counter writes to restore's stdout")
    first = pipes.numbers()[0]
    assert first in (stopped_at, stopped_at + 1), f"went on from {first}, stopped at {stopped_at}"


class Console(Output):
    """A --console-socket: it receives a pty master, which the test reads."""

    def __init__(self, path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.listener.settimeout(WAIT)
        self.master = None

    def receive(self):
        """The master the runtime sent (it connected before it returned)."""
        conn, _ = self.listener.accept()
        with conn:
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 1024, 1)
        assert len(fds) == 1, "one pty master received"
        self.master = self.fd = fds[0]
        os.set_blocking(self.master, False)

    def close(self):
        self.listener.close()
        if self.master is not None:
            os.close(self.master)


@pytest.fixture
def console(tmp_path):
    made = []

    def make(name):
        made.append(Console(str(tmp_path / name)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_terminal_container_restores_with_a_new_master_to_console_socket(runtime, criu, console, images):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done"],
                            rootfs=runtime.rootfs, terminal=True)
    before = console("before.sock")
    runtime("run", "-d", "--console-socket", before.path, "-b", bundle, cid, check=True)
    before.receive()
    wait_until(lambda: len(before.numbers()) >= 5, "the counter counts on its terminal")

    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert runtime("state", cid).returncode != 0, "checkpoint removes the container"
    stopped_at = before.numbers()[-1]

    after = console("after.sock")
    proc = runtime("restore", "-d", "--console-socket", after.path, "--image-path", images, "-b", bundle, cid,
                   global_args=("--criu", criu), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert runtime.state(cid)["status"] == "running"
    after.receive()
    wait_until(lambda: len(after.numbers()) >= 3, "the restored counter writes to the new master")
    first = after.numbers()[0]
    assert first in (stopped_at, stopped_at + 1), f"went on from {first}, stopped at {stopped_at}"


def test_leave_running_keeps_counting_and_its_images_restore(runtime, criu, counter, images, stdio):
    cid, bundle, data, _ = counter
    proc = runtime("checkpoint", "--leave-running", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert runtime.state(cid)["status"] == "running"
    at = read_number(data / "count")
    wait_until(lambda: read_number(data / "count") > at + 3, "the counter goes on")

    runtime("delete", "--force", cid, check=True)
    again = runtime.new_id()
    status, output = stdio().run(runtime, criu, "restore", "-d", "--image-path", images, "-b", bundle, again)
    assert status == 0, output
    assert runtime.state(again)["status"] == "running"


def test_pre_dump_then_dump_on_it_restores(runtime, criu, counter, images, stdio):
    """--pre-dump saves the memory and leaves the container running; the
    dump after it (--parent-path) saves only what changed since, and its
    images restore.  CRIU's feature check (mem_track) said yes first."""
    cid, bundle, data, _ = counter
    pre, final = os.path.join(images, "pre"), os.path.join(images, "final")
    proc = runtime("checkpoint", "--pre-dump", "--image-path", pre, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert runtime.state(cid)["status"] == "running", "a pre-dump leaves the container running"
    assert any(name.startswith("pages-") for name in os.listdir(pre)), "the pre-dump saved memory"
    at = read_number(data / "count")
    wait_until(lambda: read_number(data / "count") > at + 3, "the counter goes on after the pre-dump")

    proc = runtime("checkpoint", "--image-path", final, "--parent-path", "../pre", cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert runtime("state", cid).returncode != 0, "the dump removes the container"
    stopped_at = read_number(data / "count")

    status, output = stdio().run(runtime, criu, "restore", "-d", "--image-path", final, "-b", bundle, cid)
    assert status == 0, output
    wait_until(lambda: read_number(data / "count") > stopped_at + 3, "the restored counter counts")


def ask_port(pid, port):
    """What a connection to 127.0.0.1:port inside pid's network namespace reads."""
    code = ("import socket; s = socket.create_connection(('127.0.0.1', %d), timeout=5); "
            "print(s.recv(100).decode().strip())" % port)
    proc = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# A listener answering pong on 8080, and a counter streaming through a TCP
# connection on 8081 into /data/stream: both ends inside the container.
TCP = ("sleep 100000 | nc -l -p 8081 > /data/stream & sleep 0.3; "
       "(i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done) | nc 127.0.0.1 8081 & "
       "while :; do echo pong | nc -l -p 8080; done")


@pytest.mark.skipif(not shutil.which("nsenter"), reason="no nsenter on this host")
def test_tcp_listener_and_connection_survive_with_tcp_established(runtime, criu, images, stdio, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", TCP], rootfs=runtime.rootfs, mutate=with_data_dir(data))
    status, output = stdio().run(runtime, criu, "run", "-d", "-b", bundle, cid)
    assert status == 0, output
    wait_until(lambda: read_number(data / "stream") >= 5, "the connection streams")
    assert ask_port(runtime.state(cid)["pid"], 8080) == "pong"

    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 1, proc.stderr
    assert runtime.state(cid)["status"] == "running", "a failed checkpoint leaves the container running"

    proc = runtime("checkpoint", "--tcp-established", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    stopped_at = read_number(data / "stream")

    # Without --tcp-established CRIU refuses the connections: nothing is left.
    status, output = stdio().run(runtime, criu, "restore", "-d", "--image-path", images, "-b", bundle, cid)
    assert status == 1, output
    assert runtime("state", cid).returncode != 0, "a failed restore leaves no container"

    status, output = stdio().run(runtime, criu, "restore", "-d", "--tcp-established", "--image-path", images,
                                 "-b", bundle, cid)
    assert status == 0, output
    pid = runtime.state(cid)["pid"]
    assert ask_port(pid, 8080) == "pong", "the listener answers after restore"
    wait_until(lambda: read_number(data / "stream") > stopped_at + 3, "the connection streams again")
    with open(data / "stream") as f:
        received = [int(n) for n in f.read().split()]
    assert received == list(range(1, len(received) + 1)), "nothing lost or repeated across the restore"


def test_restore_runs_prestart_and_create_runtime_hooks(runtime, criu, stdio, images, tmp_path):
    out = tmp_path / "hooks"
    out.mkdir()

    def hooks(config):
        config["hooks"] = {phase: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {out}/{phase}"]}]
                           for phase in ("prestart", "createRuntime", "poststop")}

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=hooks)
    status, output = stdio().run(runtime, criu, "run", "-d", "-b", bundle, cid)
    assert status == 0, output
    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert (out / "poststop").exists(), "checkpoint deletes the container, poststop hooks included"
    for phase in ("prestart", "createRuntime", "poststop"):
        (out / phase).unlink()

    status, output = stdio().run(runtime, criu, "restore", "-d", "--image-path", images, "-b", bundle, cid)
    assert status == 0, output
    pid = runtime.state(cid)["pid"]
    for phase in ("prestart", "createRuntime"):
        with open(out / phase) as f:
            state = json.load(f)
        assert state["id"] == cid and state["pid"] == pid, phase
    runtime("delete", "--force", cid, check=True)
    assert (out / "poststop").exists()


def test_restore_of_a_missing_image_dir_fails_and_leaves_nothing(runtime, criu, stdio, tmp_path):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    missing = str(tmp_path / "no-such-images")
    status, output = stdio().run(runtime, criu, "restore", "-d", "--image-path", missing, "-b", bundle, cid)
    assert status == 1
    assert "image-path" in output or missing in output, output
    assert runtime("state", cid).returncode != 0
    assert not os.path.exists(missing), "restore does not make the image directory it was to read"


def test_checkpoint_of_a_container_not_running_fails(runtime, criu, images):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "-b", bundle, cid, check=True)
    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 1 and "created" in proc.stderr, proc.stderr
    assert runtime.state(cid)["status"] == "created", "the container is left as it was"
    assert not os.path.exists(images)

    runtime("kill", cid, "KILL", check=True)
    wait_until(lambda: runtime.state(cid)["status"] == "stopped", "the container stops")
    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 1 and "stopped" in proc.stderr, proc.stderr

    proc = runtime("checkpoint", "--image-path", images, "no-such-container", global_args=("--criu", criu))
    assert proc.returncode == 1 and "does not exist" in proc.stderr, proc.stderr


def test_bad_criu_flags_name_the_flag(runtime, criu, counter, images):
    cid = counter[0]
    for flags, named in ((["--manage-cgroups-mode", "bogus"], "manage-cgroups-mode"),
                         (["--empty-ns", "ipc"], "ipc"),
                         (["--page-server", "nowhere"], "page-server"),
                         (["--parent-path", "/abs"], "parent-path")):
        proc = runtime("checkpoint", "--image-path", images, *flags, cid, global_args=("--criu", criu))
        assert proc.returncode == 1 and named in proc.stderr, (flags, proc.stderr)
    assert runtime.state(cid)["status"] == "running"


def test_restore_in_the_foreground_exits_with_the_process_status(runtime, criu, stdio, images, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cid = runtime.new_id()
    script = "i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo $i > /data/count; sleep 0.1; done; exit 7"
    bundle = runtime.bundle(["sh", "-c", script], rootfs=runtime.rootfs, mutate=with_data_dir(data))
    status, output = stdio().run(runtime, criu, "run", "-d", "-b", bundle, cid)
    assert status == 0, output
    wait_until(lambda: read_number(data / "count") >= 3, "the counter counts")
    proc = runtime("checkpoint", "--image-path", images, cid, global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert read_number(data / "count") < 30

    status, output = stdio().run(runtime, criu, "restore", "--image-path", images, "-b", bundle, cid)
    assert status == 7, output
    assert read_number(data / "count") == 30, "it went on to the end"
    assert runtime("state", cid).returncode != 0, "restore in the foreground deletes the container it waited for"


def test_status_fd_must_be_open_for_writing(runtime, criu, counter, images):
    cid = counter[0]
    closed = 99  # above the harness's own: never open in the runtime
    proc = runtime("checkpoint", "--lazy-pages", "--status-fd", str(closed), "--image-path", images, cid,
                   global_args=("--criu", criu))
    assert proc.returncode == 1 and "status-fd" in proc.stderr, proc.stderr

    read_only, write = os.pipe()
    try:
        proc = run_captured(runtime.cmd + ["--root", runtime.root, "--criu", criu, "checkpoint", "--lazy-pages",
                                           "--status-fd", str(read_only), "--image-path", images, cid],
                            stdin=subprocess.DEVNULL, pass_fds=(read_only,), timeout=60)
    finally:
        os.close(read_only)
        os.close(write)
    assert proc.returncode == 1 and "status-fd" in proc.stderr, proc.stderr
    assert runtime.state(cid)["status"] == "running"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def background(runtime, tmp_path):
    """Start a command in the background (a checkpoint that serves memory,
    CRIU's page server or lazy-pages daemon), its output in a file:
    (Popen, path of the output).  Each runs in a process group of its own,
    which is killed by its pid at teardown, before the containers are
    deleted: a killed checkpoint must not leave its CRIU serving pages."""
    started = []

    def start(name, argv, **kwargs):
        out = tmp_path / f"{name}.out"
        with open(out, "w") as f:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f, start_new_session=True,
                                    **kwargs)
        started.append(proc)
        return proc, out

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def finished(proc, out):
    """The exit status of a background command, waited for; fails with its output if it hangs."""
    try:
        return proc.wait(timeout=WAIT * 2)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{proc.args[:3]} did not finish: {out.read_text()}")


def start_ready(background, name, argv_for):
    """Start argv_for(fd) in the background, fd a pipe's write end for its
    --status-fd, and wait until it is ready: \\0 written and the fd closed
    (no process of the command's left holding it): (Popen, output path)."""
    ready_r, ready_w = os.pipe()
    try:
        try:
            proc, out = background(name, argv_for(ready_w), pass_fds=(ready_w,))
        finally:
            os.close(ready_w)
        assert select.select([ready_r], [], [], WAIT)[0], f"{name}: no status: {out.read_text()}"
        assert os.read(ready_r, 2) == b"\0", f"{name}: {out.read_text()}"
        assert select.select([ready_r], [], [], WAIT)[0] and os.read(ready_r, 1) == b"", \
            f"{name}: the status fd is left open"
    finally:
        os.close(ready_r)
    return proc, out


def test_page_server_receives_the_memory_and_its_images_restore(runtime, criu, counter, images, stdio, background,
                                                              tmp_path):
    cid, bundle, _, before = counter
    received = tmp_path / "received"
    received.mkdir()
    port = free_port()
    server, server_out = start_ready(background, "page-server", lambda fd: [
        criu, "page-server", "--address", "127.0.0.1", "--port", str(port), "-D", str(received),
        "--status-fd", str(fd)])

    proc = runtime("checkpoint", "--page-server", f"127.0.0.1:{port}", "--image-path", images, cid,
                   global_args=("--criu", criu))
    assert proc.returncode == 0, proc.stderr
    assert finished(server, server_out) == 0, server_out.read_text()
    stopped_at = before.numbers()[-1]
    assert [name for name in os.listdir(received) if name.startswith("pages-")], "the memory went to the page server"
    assert not [name for name in os.listdir(images) if name.startswith("pages-")], "and not to the image path"

    # The other images go where the memory is, as a migration copies them.
    for name in os.listdir(images):
        shutil.copy(os.path.join(images, name), received)
    pipes = stdio()
    status, output = pipes.run(runtime, criu, "restore", "-d", "--image-path", str(received), "-b", bundle, cid)
    assert status == 0, output
    wait_until(lambda: len(pipes.numbers()) >= 3, "the restored counter writes to restore's stdout")
    first = pipes.numbers()[0]
    assert first in (stopped_at, stopped_at + 1), f"went on from {first}, stopped at {stopped_at}"


def lazy_page_server_pipe_fits():
    """Whether CRIU (which runs with this process's capabilities) can size
    the pipe its lazy page server reads pages through: PIPE_MAX_SIZE pages,
    8 pages' worth of kernel pipe_buffers (40 bytes each).  Above
    fs.pipe-max-size that takes CAP_SYS_RESOURCE, and CRIU goes on without
    the pipe when it fails (criu/page-xfer.c ignores pipe_read_dest_init's
    failure)."""
    page = os.sysconf("SC_PAGE_SIZE")
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, (8 * page // 40) * page)
        return True
    except PermissionError:
        return False
    finally:
        os.close(r)
        os.close(w)


def test_lazy_pages_migration_goes_on_counting(runtime, criu, counter, images, stdio, background):
    check = subprocess.run([criu, "check", "--feature", "uffd-noncoop"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
    if check.returncode != 0:
        pytest.skip(f"no lazy migration here: {(check.stdout + check.stderr).strip()}")
    if not lazy_page_server_pipe_fits():
        pytest.skip("CRIU's lazy page server cannot grow its pipe here (no CAP_SYS_RESOURCE and fs.pipe-max-size "
                    "too small): the dump fails with 'page-pipe: splice: -1: Bad file descriptor'")
    cid, bundle, data, before = counter
    port = free_port()
    dump, dump_out = start_ready(background, "checkpoint", lambda fd: runtime.cmd + [
        "--root", runtime.root, "--criu", criu, "checkpoint", "--lazy-pages", "--page-server", f"127.0.0.1:{port}",
        "--status-fd", str(fd), "--image-path", images, cid])
    assert os.path.exists(os.path.join(images, "inventory.img"))
    # Its stdout, not /data/count: the container may be frozen between the
    # file's truncation and the write.
    stopped_at = before.numbers()[-1]
    time.sleep(0.5)
    assert before.numbers()[-1] == stopped_at, "nothing counts while the pages wait"

    lazy, lazy_out = start_ready(background, "lazy-pages", lambda fd: [
        criu, "lazy-pages", "--page-server", "--address", "127.0.0.1", "--port", str(port), "-D", images,
        "--status-fd", str(fd)])

    # The checkpointed container is gone only once its last page is sent:
    # the restored one needs another id.
    again = runtime.new_id()
    pipes = stdio()
    status, output = pipes.run(runtime, criu, "restore", "-d", "--lazy-pages", "--image-path", images,
                               "-b", bundle, again)
    assert status == 0, output
    assert runtime.state(again)["status"] == "running"
    wait_until(lambda: read_number(data / "count") > stopped_at + 3, "the restored counter counts")
    wait_until(lambda: len(pipes.numbers()) >= 3, "the restored counter writes to restore's stdout")
    first = pipes.numbers()[0]
    assert first in (stopped_at, stopped_at + 1), f"went on from {first}, stopped at {stopped_at}"

    assert finished(lazy, lazy_out) == 0, lazy_out.read_text()
    assert finished(dump, dump_out) == 0, dump_out.read_text()
    assert runtime("state", cid).returncode != 0, "checkpoint removes the container once its pages are sent"
