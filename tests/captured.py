"""Running a command whose output the test reads: stdout and stderr go to
temporary files, not pipes, because a container's init (or an engine's
conmon) inherits them and would hold a pipe open long after the command
returned.  Or, for a command that wants a terminal, a new pty as its stdio."""
import os
import select
import subprocess
import tempfile
import time


def run_captured(argv, **kwargs):
    """subprocess.run(argv, **kwargs) with .stdout and .stderr as text."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run(argv, stdout=out, stderr=err, **kwargs)
        out.seek(0)
        err.seek(0)
        proc.stdout = out.read().decode(errors="replace")
        proc.stderr = err.read().decode(errors="replace")
    return proc


def under_a_terminal(args, timeout=30):
    """Runs args with a new pty as stdio (ctr -t, run with process.terminal
    insist on a terminal); returns (exit status, what it wrote, without the
    pty's carriage returns)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while select.select([master], [], [], max(0, deadline - time.monotonic()))[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command has exited and closed the last slave fd
                break
            if not chunk:
                break
            out += chunk
        return proc.wait(timeout=5), out.decode(errors="replace").replace("\r", "")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
