"""pyoci.cgroups.stats against a directory tree standing in for a cgroup2
hierarchy (the v1 files are read on this host's real cgroups by the
integration tests)."""
from pyoci.cgroups import Hierarchy
from pyoci.cgroups.stats import collect, oom_kills

V2_FILES = {
    "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n",
    "memory.current": "4096\n", "memory.max": "max\n", "memory.peak": "8192\n", "memory.swap.current": "0\n",
    "memory.swap.max": "0\n", "memory.stat": "anon 2048\nfile 1024\n", "memory.events": "low 0\nmax 3\noom 1\noom_kill 2\n",
    "pids.current": "2\n", "pids.max": "max\n",
    "io.stat": "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
    "hugetlb.2MB.current": "0\n", "hugetlb.2MB.events": "max 0\n",
}


def test_v2_stats_in_runcs_format(tmp_path):
    for name, text in V2_FILES.items():
        (tmp_path / name).write_text(text)
    data = collect({str(tmp_path): str(tmp_path)}, [Hierarchy(str(tmp_path), frozenset(), True)])
    assert data["cpu"] == {"usage": {"total": 1500000, "percpu": [], "kernel": 500000, "user": 1000000},
                           "throttling": {"periods": 4, "throttled_periods": 1, "throttled_time": 20000}}
    assert data["memory"]["usage"] == {"limit": 0, "usage": 4096, "max": 8192, "failcnt": 3}
    assert data["memory"]["cache"] == 1024 and data["memory"]["raw"] == {"anon": 2048, "file": 1024}
    assert data["pids"] == {"current": 2, "limit": 0}
    assert data["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 254, "minor": 0, "op": "Read", "value": 100}, {"major": 254, "minor": 0, "op": "Write", "value": 200}]
    assert data["hugetlb"] == {"2MB": {"usage": 0, "max": 0, "failcnt": 0}}
    assert oom_kills(None, str(tmp_path)) == 2


def test_a_controller_the_host_lacks_is_left_out(tmp_path):
    (tmp_path / "pids.current").write_text("1\n")
    data = collect({str(tmp_path): str(tmp_path)}, [Hierarchy(str(tmp_path), frozenset(), True)])
    assert data == {"pids": {"current": 1, "limit": 0}}
