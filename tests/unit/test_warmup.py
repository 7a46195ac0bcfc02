"""pyoci.launch.warmup.end: it kills and reaps the launcher's helper, a child of
this process, and nothing else a stray PYOCI_WARMUP_PID may name."""
import posix
import subprocess

from pyoci.launch import warmup


def named(pid):
    posix.environ[warmup.VARIABLE] = str(pid).encode()


def test_the_helper_child_is_killed_and_reaped():
    helper = subprocess.Popen(["sleep", "60"])
    named(helper.pid)
    warmup.end()
    assert warmup.VARIABLE not in posix.environ
    try:
        posix.kill(helper.pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "killed and reaped: no such process"
    helper.returncode = -9  # reaped by end(), not by Popen


def test_a_process_that_is_not_a_child_is_left_alone():
    # Started by a shell that exits: an orphan, not this process's child.
    pid = int(subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True).stdout)
    try:
        named(pid)
        warmup.end()
        posix.kill(pid, 0)  # still there
    finally:
        posix.kill(pid, 9)


def test_nothing_named_nothing_done():
    posix.environ.pop(warmup.VARIABLE, None)
    warmup.end()


def test_the_cli_tests_the_same_variable():
    from pyoci.cli import WARMUP_VARIABLE

    assert WARMUP_VARIABLE == warmup.VARIABLE
