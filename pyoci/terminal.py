"""Foreground `run` with process.terminal and no --console-socket: pyoci
itself plays the console, copying between its stdio and the pty master
until the container's init exits (as runc does)."""
import os
import select
import termios
import tty


def proxy(master_fd, init_pid):
    stdin_tty = os.isatty(0)
    saved = termios.tcgetattr(0) if stdin_tty else None
    if stdin_tty:
        tty.setraw(0)
    watch = [master_fd, 0]
    try:
        while True:
            try:
                ready, _, _ = select.select(watch, [], [], 0.2)
            except InterruptedError:
                continue
            if master_fd in ready:
                try:
                    data = os.read(master_fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    return
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if data:
                    os.write(master_fd, data)
                else:
                    watch.remove(0)
            if not ready and not _alive(init_pid):
                return
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.close(master_fd)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False
