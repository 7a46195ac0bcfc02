"""pyoci.cgroups.stats against directory trees standing in for a cgroup2
hierarchy and for v1 ones (the integration tests read this host's real
cgroups), checked against what runc's types.Stats encodes to."""
from pyoci.cgroups import Hierarchy
from pyoci.cgroups.stats import CPUSET_FLAGS, collect, cpu_list, oom_kills, percpu_modes

V2_FILES = {
    "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n",
    "cpuset.cpus.effective": "0-2,4\n", "cpuset.mems.effective": "0\n",
    "memory.current": "4096\n", "memory.max": "max\n", "memory.peak": "8192\n", "memory.swap.current": "0\n",
    "memory.swap.max": "0\n", "memory.stat": "anon 2048\nfile 1024\n",
    "memory.events": "low 0\nmax 3\noom 1\noom_kill 2\n",
    "pids.current": "2\n", "pids.max": "max\n",
    "io.stat": "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
    "hugetlb.2MB.current": "0\n", "hugetlb.2MB.events": "max 0\n",
}
V1_FILES = {
    "cpuacct": {"cpuacct.usage": "3000000000\n", "cpuacct.usage_percpu": "1000000000 2000000000 \n",
                "cpuacct.usage_all": "cpu user system\n0 900000000 100000000\n1 1500000000 500000000\n",
                "cpuacct.stat": "user 240\nsystem 60\n"},
    "cpu": {"cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n"},
    "cpuset": {"cpuset.cpus": "0-1,3\n", "cpuset.mems": "0\n", "cpuset.cpu_exclusive": "1\n",
               "cpuset.sched_load_balance": "1\n", "cpuset.sched_relax_domain_level": "-1\n",
               **{f"cpuset.{name}": "0\n" for name in ("mem_hardwall", "mem_exclusive", "memory_migrate",
                                                      "memory_spread_page", "memory_spread_slab", "memory_pressure")}},
}
ZERO_FLAGS = dict.fromkeys(CPUSET_FLAGS, 0)
ZERO_ENTRY = {"limit": 0, "failcnt": 0}


def one_v2(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return collect({str(tmp_path): str(tmp_path)}, [Hierarchy(str(tmp_path), frozenset(), True)])


def test_v2_stats_in_runcs_format(tmp_path):
    data = one_v2(tmp_path, V2_FILES)
    # No percpu lists on cgroup2, and the throttling fields in runc's camelCase.
    assert data["cpu"] == {"usage": {"total": 1500000, "kernel": 500000, "user": 1000000},
                           "throttling": {"periods": 4, "throttledPeriods": 1, "throttledTime": 20000}}
    assert data["cpuset"] == {"cpus": [0, 1, 2, 4], "mems": [0], **ZERO_FLAGS}
    assert data["memory"]["usage"] == {"limit": 0, "usage": 4096, "max": 8192, "failcnt": 3}
    assert data["memory"]["kernel"] == data["memory"]["kernelTCP"] == ZERO_ENTRY
    assert data["memory"]["cache"] == 1024 and data["memory"]["raw"] == {"anon": 2048, "file": 1024}
    assert data["pids"] == {"current": 2}  # no limit: runc's 0, left out
    assert data["blkio"] == {
        # minor 0 is a zero, left out as encoding/json does.
        "ioServiceBytesRecursive": [{"major": 254, "op": "Read", "value": 100},
                                    {"major": 254, "op": "Write", "value": 200}],
        "ioServicedRecursive": [{"major": 254, "op": "Read", "value": 1}, {"major": 254, "op": "Write", "value": 2}]}
    assert data["hugetlb"] == {"2MB": {"failcnt": 0}}
    assert oom_kills(None, str(tmp_path)) == 2


def test_v1_cpu_and_cpuset(tmp_path):
    found, dirs = [], {}
    for controller, files in V1_FILES.items():
        d = tmp_path / controller
        d.mkdir()
        for name, text in files.items():
            (d / name).write_text(text)
        found.append(Hierarchy(str(d), frozenset({controller}), False))
        dirs[str(d)] = str(d)
    data = collect(dirs, found)
    # kernel and user from cpuacct.stat's USER_HZ ticks; the per-CPU split from usage_all, in ns.
    assert data["cpu"] == {
        "usage": {"total": 3000000000, "percpu": [1000000000, 2000000000], "percpu_kernel": [100000000, 500000000],
                  "percpu_user": [900000000, 1500000000], "kernel": 600000000, "user": 2400000000},
        "throttling": {"periods": 10, "throttledPeriods": 2, "throttledTime": 5000}}
    assert data["cpuset"] == {"cpus": [0, 1, 3], "mems": [0], **ZERO_FLAGS, "cpu_exclusive": 1,
                              "sched_load_balance": 1, "sched_relax_domain_level": -1}


def test_a_controller_the_host_lacks_is_runcs_zero_struct(tmp_path):
    data = one_v2(tmp_path, {"pids.current": "1\n"})
    assert data == {"cpu": {"usage": {"kernel": 0, "user": 0}, "throttling": {}}, "cpuset": ZERO_FLAGS,
                    "memory": dict.fromkeys(("usage", "swap", "kernel", "kernelTCP"), ZERO_ENTRY),
                    "pids": {"current": 1}, "blkio": {}, "hugetlb": {}}


def test_pids_without_the_controller_counts_the_members(tmp_path):
    assert one_v2(tmp_path, {"cgroup.procs": "12\n34\n"})["pids"] == {"current": 2}


def test_parsers():
    assert cpu_list("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11]
    assert cpu_list("\n") == cpu_list(None) == []
    # A kernel without usage_all (before 4.7): runc's empty lists.
    assert percpu_modes(None) == ([], [])
