"""process.terminal: the pty master reaches --console-socket over
SCM_RIGHTS, the program sees a terminal of consoleSize, and foreground
`run` proxies a terminal itself: from its stdio or, all three redirected,
with its controlling terminal; with neither it fails at once, as runc does,
instead of starting a shell that waits forever."""
import os
import socket
import subprocess
import threading
import time

from captured import under_a_terminal
from leftovers import assert_nothing_left


def receive_master(path, received):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        server.settimeout(20)
        conn, _ = server.accept()
        with conn:
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 1024, 1)
            received.extend(fds)


def read_all(fd):
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO once the last slave fd closes
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def test_console_socket_gets_the_pty_master(runtime, tmp_path):
    sock_path = str(tmp_path / "console.sock")
    received = []
    server = threading.Thread(target=receive_master, args=(sock_path, received))
    server.start()
    while not os.path.exists(sock_path):
        pass

    def mutate(config):
        config["process"]["consoleSize"] = {"height": 30, "width": 100}

    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "tty; stty size; echo done"], rootfs=runtime.rootfs,
                            mutate=mutate, terminal=True)
    runtime("create", "-b", bundle, "--console-socket", sock_path, cid, check=True)
    server.join()
    assert len(received) == 1
    master = received[0]
    try:
        runtime("start", cid, check=True)
        out = read_all(master)
    finally:
        os.close(master)
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "30 100"
    assert lines[2] == "done"


def test_terminal_without_console_socket_is_refused_by_create(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, terminal=True)
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1 and "console-socket" in proc.stderr


def test_foreground_run_plays_the_console(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "tty; echo hello"], rootfs=runtime.rootfs, terminal=True)
    status, out = under_a_terminal(runtime.cmd + ["--root", runtime.root, "run", "-b", bundle, cid])
    assert status == 0, out
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0].startswith("/dev/pts/") and lines[1] == "hello"


def test_foreground_run_with_stdio_redirected_uses_the_controlling_terminal(runtime, tmp_path):
    """`pyoci run ... </dev/null >file` from an interactive shell: runc
    finds the terminal at /dev/tty, and so does pyoci."""
    master, slave = os.openpty()
    slave_name = os.ttyname(slave)
    os.close(slave)
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "tty; echo hello"], rootfs=runtime.rootfs, terminal=True)
    try:
        # In its new session, the first terminal the command opens becomes its controlling terminal.
        proc = runtime("run", "-b", bundle, cid, stdin=subprocess.DEVNULL, start_new_session=True,
                       preexec_fn=lambda: os.close(os.open(slave_name, os.O_RDWR)))
    finally:
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    lines = [line.strip() for line in proc.stdout.splitlines()]
    assert lines[0].startswith("/dev/pts/") and lines[1] == "hello"


def test_foreground_run_without_any_terminal_fails_at_once(runtime):
    """A script or a CI job: stdin /dev/null, output to files, no
    controlling terminal.  The shell of the default config would wait
    forever (and, as pid 1, ignore SIGTERM); run refuses before it makes
    anything."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh"], rootfs=runtime.rootfs, terminal=True)
    began = time.monotonic()
    proc = runtime("run", "-b", bundle, cid, stdin=subprocess.DEVNULL, start_new_session=True, timeout=20)
    assert time.monotonic() - began < 10
    assert proc.returncode == 1
    assert "process.terminal is true" in proc.stderr and '"terminal": false' in proc.stderr, proc.stderr
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)
