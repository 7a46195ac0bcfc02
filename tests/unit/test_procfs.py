"""pyoci.core.procfs: /proc read one way, against what the kernel and
Python say of the same processes."""
import os
import subprocess
import sys

from pyoci.core import procfs


def test_a_zombie_is_not_alive_and_a_reaped_one_is_gone():
    proc = subprocess.Popen(["true"])
    while procfs.stat_fields(proc.pid)[0] != "Z":
        os.sched_yield()
    assert not procfs.alive(proc.pid)
    assert procfs.parent_pid(proc.pid) == os.getpid()
    proc.wait()
    assert procfs.stat_fields(proc.pid) is None and procfs.parent_pid(proc.pid) is None
    assert not procfs.alive(proc.pid)


def test_a_running_process_is_alive_with_its_parent():
    assert procfs.alive(os.getpid())
    assert procfs.parent_pid(os.getpid()) == os.getppid()


def test_a_comm_with_spaces_and_parentheses_does_not_shift_the_fields():
    proc = subprocess.Popen([sys.executable, "-c", "import time; open('/proc/self/comm', 'w').write('a) b (c');"
                             " print(flush=True); time.sleep(30)"], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()  # comm is set
        with open(f"/proc/{proc.pid}/comm") as f:
            assert f.read() == "a) b (c\n"
        assert procfs.parent_pid(proc.pid) == os.getpid()
        assert procfs.alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_namespaces_are_named_by_inode():
    assert procfs.namespace_inode("self", "pid") == os.stat("/proc/self/ns/pid").st_ino
    assert procfs.namespace_inode(2 ** 22 + 1, "pid") is None  # past pid_max: no such process
    fd = procfs.open_namespace("self", "net")
    try:
        assert os.fstat(fd).st_ino == os.stat("/proc/self/ns/net").st_ino
        assert os.get_inheritable(fd) is False
    finally:
        os.close(fd)


def test_the_own_cgroup_lines_are_proc_self_cgroup():
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    assert procfs.own_cgroup_lines() == [tuple(line.split(":", 2)[1:]) for line in lines]
