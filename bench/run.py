"""Benchmark pyoci against runc and crun: lifecycle steps, batches, memory.

Per runtime (pyoci, runc and crun, those found, or each --runtime NAME=CMD;
the first is the subject that the others are compared to):

- wall time, CPU time (user + sys of the runtime and the children it
  reaped) and peak RSS (ru_maxrss), all from os.wait4, of `create`,
  `state` (of the created container), `start`, `delete` (of a stopped
  container), `run` of /bin/true, `exec` of /bin/true in a running
  container (if the runtime has `exec`) and `kill KILL` of a running one;
- the sum of each round's create, start and delete: the whole lifecycle;
- the VmRSS of the container's init as it waits between create and start;
- the floor of the subject's interpreter (`-I -S -c pass`), and the
  subject's start, state, kill and delete minus the floor measured right
  after each (the median of those paired differences);
- the total wall time of 50 sequential runs of /bin/true (--loops times);
- 20 concurrent creates, then 20 concurrent starts, then 20 concurrent
  deletes: each phase's wall time and their total;
- the smallest memory limit (64 KiB steps up to 64 MiB, binary search)
  under which `run` of /bin/true succeeds.

How: one busybox rootfs, a private --root per runtime in a temp dir, and
container ids that carry the bench's pid.  Each round runs every runtime
and the floor once, in an order that rotates round by round, so drift in
the machine hits all alike.  It prints medians (min-max) and the ratios
subject/other as a table, writes them as JSON to
bench/results/runtimes-<timestamp>.json and their chart (chart.py) beside
it as runtimes-<timestamp>.svg, force-deletes every container
even on failure or Ctrl-C, and reports what is left: containers in the
roots, cgroups named after the bench's ids, new mounts.

    .venv/bin/python bench/run.py [--runs 20] [--loops 3] [--runtime NAME=CMD ...]
"""
import argparse
import collections
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))  # the tests' bundle helpers

import chart  # noqa: E402
import host  # noqa: E402
import report  # noqa: E402
from bundle import default_config, make_rootfs, write_bundle  # noqa: E402
from measure import Call, measure, wall_of  # noqa: E402

SEQUENTIAL_RUNS = 50
PARALLEL = 20
LIMIT_STEP_KIB = 64
LIMIT_MAX_KIB = 64 * 1024
TAG = f"bench{os.getpid()}"


class Runtime:
    def __init__(self, name, command, root):
        self.name = name
        self.command = shlex.split(command)
        self.root = root
        invocation = host.invocation(self.command)
        self.prefix = invocation + ["--root", root]
        self.version = host.first_line(self.command + ["--version"])
        self.samples = collections.defaultdict(lambda: collections.defaultdict(list))
        self.notes = []
        self.has_exec = None
        self.memory_limit_kib = None
        self.floor = None  # the interpreter floor's argv, for the subject
        if invocation != self.command:
            self.notes.append(f"runs as `{shlex.join(host.CRUN_WRAPPER)} CMD`: wall and CPU include "
                              "unshare, sh and umount; peak RSS is the largest of them and the runtime")

    def argv(self, *args):
        return self.prefix + list(args)

    def record(self, figure, figures):
        for metric, value in figures.items():
            self.samples[figure][metric].append(value)

    def step(self, command, *args):
        """Run and record one timed command; its stdout."""
        figures, stdout = measure(self.argv(command, *args))
        self.record(command, figures)
        return stdout

    def untimed(self, *args):
        return measure(self.argv(*args))[1]

    def force_delete(self, cid):
        subprocess.run(self.argv("delete", "--force", cid), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Bench:
    """The shared rootfs and bundles, and the source of unique container ids."""

    def __init__(self, work):
        self.work = work
        self.serial = 0
        make_rootfs(os.path.join(work, "rootfs"))
        self.true = self.bundle("true", ["/bin/true"])
        self.sleep = self.bundle("sleep", ["/bin/sleep", "1000"])

    def bundle(self, name, args, memory_limit_kib=None):
        config = default_config(args, rootfs=os.path.join(self.work, "rootfs"))
        # crun 1.8 refuses an ociVersion newer than 1.0.2; all three accept it.
        config["ociVersion"] = "1.0.2"
        if memory_limit_kib:
            config["linux"]["resources"]["memory"] = {"limit": memory_limit_kib * 1024}
        return write_bundle(os.path.join(self.work, name), config)

    def cid(self, rt, what):
        self.serial += 1
        return f"{TAG}-{rt.name}-{what}-{self.serial}"


def wait_stopped(rt, cid):
    for _ in range(5000):
        if json.loads(rt.untimed("state", cid))["status"] == "stopped":
            return
        time.sleep(0.002)
    raise RuntimeError(f"{rt.name}: {cid} did not stop")


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def start_sleeper(rt, bench):
    cid = bench.cid(rt, "sleep")
    rt.untimed("create", "--bundle", bench.sleep, cid)
    rt.untimed("start", cid)
    return cid


def detect_exec(rt, bench):
    """Whether the runtime has `exec`: one try in a running container."""
    cid = start_sleeper(rt, bench)
    try:
        call = Call(rt.argv("exec", cid, "/bin/true"))
        call.wait()
        rt.has_exec = call.returncode == 0
        if not rt.has_exec:
            rt.notes.append(f"exec n/a: {call.stderr.strip()}")
    finally:
        rt.force_delete(cid)


def over_floor(rt, step):
    """The step just measured minus the interpreter floor measured right
    after it (subject only): paired, so that drift in the machine cancels."""
    if rt.floor:
        floor = measure(rt.floor)[0]
        rt.record(f"{step} - floor", {metric: rt.samples[step][metric][-1] - floor[metric]
                                      for metric in ("wall_ms", "cpu_ms")})


def lifecycle_round(rt, bench):
    cid = bench.cid(rt, "life")
    rt.step("create", "--bundle", bench.true, cid)
    pid = json.loads(rt.step("state", cid))["pid"]
    over_floor(rt, "state")
    rt.record("init", {"vmrss_kib": vm_rss_kib(pid)})
    rt.step("start", cid)
    over_floor(rt, "start")
    wait_stopped(rt, cid)
    rt.step("delete", cid)
    over_floor(rt, "delete")
    # The whole lifecycle as an engine drives it (the container's own run left out).
    rt.record(report.LIFECYCLE, {metric: sum(rt.samples[step][metric][-1] for step in ("create", "start", "delete"))
                                 for metric in ("wall_ms", "cpu_ms")})
    rt.step("run", "--bundle", bench.true, bench.cid(rt, "run"))
    sleeper = start_sleeper(rt, bench)
    if rt.has_exec:
        rt.step("exec", sleeper, "/bin/true")
    rt.step("kill", sleeper, "KILL")
    over_floor(rt, "kill")
    wait_stopped(rt, sleeper)
    rt.untimed("delete", sleeper)


def parallel_round(rt, bench):
    ids = [bench.cid(rt, "par") for _ in range(PARALLEL)]
    phases = {"create": wall_of([rt.argv("create", "--bundle", bench.true, cid) for cid in ids]),
              "start": wall_of([rt.argv("start", cid) for cid in ids])}
    for cid in ids:
        wait_stopped(rt, cid)
    phases["delete"] = wall_of([rt.argv("delete", cid) for cid in ids])
    phases["total"] = sum(phases.values())
    for phase, wall in phases.items():
        rt.record(f"{PARALLEL} parallel {phase}", {"wall_ms": wall})


def sequential_runs(rt, bench):
    ids = [bench.cid(rt, "loop") for _ in range(SEQUENTIAL_RUNS)]
    rt.record(f"{SEQUENTIAL_RUNS} runs", {"wall_ms": sum(wall_of([rt.argv("run", "--bundle", bench.true, cid)])
                                                         for cid in ids)})


def guarded(work, rt, bench):
    """work(rt, bench), a failure noted for the runtime instead of ending the bench."""
    try:
        work(rt, bench)
    except RuntimeError as e:
        rt.notes.append(f"{work.__name__} failed: {e}")


def floor_round(rt, floor):
    rt.record("python floor", measure(floor)[0])


def runs_under_limit(rt, bench, limit_kib):
    bundle = bench.bundle("limited", ["/bin/true"], limit_kib)
    cid = bench.cid(rt, f"mem{limit_kib}")
    try:
        # A timeout, as a runtime whose init is killed by the OOM killer could wait forever.
        return subprocess.run(rt.argv("run", "--bundle", bundle, cid), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        rt.force_delete(cid)


def smallest_memory_limit(rt, bench):
    """Binary search in LIMIT_STEP_KIB steps; None if even LIMIT_MAX_KIB fails."""
    low, high = 1, LIMIT_MAX_KIB // LIMIT_STEP_KIB
    if not runs_under_limit(rt, bench, high * LIMIT_STEP_KIB):
        return None
    while low < high:
        middle = (low + high) // 2
        if runs_under_limit(rt, bench, middle * LIMIT_STEP_KIB):
            high = middle
        else:
            low = middle + 1
    return high * LIMIT_STEP_KIB


def shown(argv):
    """argv as the results file records it: paths inside the repository
    relative to it, as the results are committed and read elsewhere."""
    return [os.path.relpath(arg, REPO) if arg.startswith(REPO + os.sep) else arg for arg in argv]


def rotated(items, i):
    k = i % len(items)
    return items[k:] + items[:k]


def measure_everything(runtimes, bench, floor, args):
    for rt in runtimes:
        guarded(detect_exec, rt, bench)
    entries = [functools.partial(guarded, work, rt, bench)
               for work in (lifecycle_round, parallel_round) for rt in runtimes]
    if floor:
        runtimes[0].floor = floor
        entries.append(functools.partial(floor_round, runtimes[0], floor))
    for i in range(args.runs):
        for entry in rotated(entries, i):
            entry()
    for i in range(args.loops):
        for rt in rotated(runtimes, i):
            guarded(sequential_runs, rt, bench)
    for rt in runtimes:
        rt.memory_limit_kib = smallest_memory_limit(rt, bench)


def reap_children():
    """Wait for commands still running after an interruption, so that deleting does not race them."""
    try:
        while True:
            os.waitpid(-1, 0)
    except ChildProcessError:
        pass


def remove_containers(runtimes):
    """Force-delete whatever is in each root; what is still there afterwards."""
    def listed(rt):
        return [c for c in os.listdir(rt.root) if not c.startswith(".")] if os.path.isdir(rt.root) else []
    for rt in runtimes:
        for cid in listed(rt):
            rt.force_delete(cid)
    return {rt.name: listed(rt) for rt in runtimes}


def write_chart(data, results_path):
    """The results' chart beside them (runtimes-<timestamp>.svg); its path, as shown."""
    path = os.path.splitext(results_path)[0] + ".svg"
    chart.write(data, path)
    return os.path.relpath(path, REPO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", action="append", default=[], metavar="NAME=CMD",
                        help="a runtime to measure (repeatable); the first is the subject")
    parser.add_argument("--runs", type=int, default=20, help="rounds of the per-step figures")
    parser.add_argument("--loops", type=int, default=3, help=f"loops of {SEQUENTIAL_RUNS} sequential runs")
    parser.add_argument("--results", default=os.path.join(HERE, "results"))
    parser.add_argument("--chart", metavar="RESULTS.json",
                        help="only draw the chart of a results file, beside it, and measure nothing")
    args = parser.parse_args()
    if args.chart:
        with open(args.chart) as f:
            print(f"chart: {write_chart(json.load(f), args.chart)}")
        return
    named = [r.split("=", 1) for r in args.runtime] or host.default_runtimes(REPO)

    mounts_before = set(host.mounts())
    work = tempfile.mkdtemp(prefix="pyoci-bench-")
    os.chmod(work, 0o755)
    runtimes = [Runtime(name, command, os.path.join(work, "root-" + name)) for name, command in named]
    interpreter = host.interpreter(runtimes[0].command)
    floor = interpreter and interpreter + ["-I", "-S", "-c", "pass"]
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": host.machine(interpreter),
            "runs": args.runs, "loops": args.loops, "floor": floor and shown(floor),
            "commands": {rt.name: shown(rt.prefix[:-2]) for rt in runtimes}}
    try:
        bench = Bench(work)
        measure_everything(runtimes, bench, floor, args)
    finally:
        reap_children()
        left = {"containers": remove_containers(runtimes)}
        shutil.rmtree(work, ignore_errors=True)
        left["cgroups"] = host.cgroup_dirs(TAG)
        left["mounts"] = sorted(set(host.mounts()) - mounts_before)

    data = report.build(runtimes, meta, left)
    print(report.table(data))
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"runtimes-{time.strftime('%Y%m%dT%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
    print(f"results: {os.path.relpath(path, REPO)}")
    print(f"chart: {write_chart(data, path)}")


if __name__ == "__main__":
    main()
