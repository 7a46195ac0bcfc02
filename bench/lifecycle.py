"""Side-by-side lifecycle benchmark: create, start, delete and run of /bin/true.

Every runtime gets the same busybox bundle and its own --root; runs
alternate between the runtimes so drift in the machine hits all alike.
Reports median, min and max wall time per step and the ratio to the first
reference runtime, as a table and as JSON under bench/results/.

    python bench/lifecycle.py --runs 20 \
        --runtime pyoci=.venv/bin/pyoci --runtime runc=runc
"""
import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from bundle import default_config, make_rootfs, write_bundle  # noqa: E402

STEPS = ("create", "start", "delete", "run")


def timed(cmd):
    # stderr to a file: the container's init inherits create's stdio, and a
    # pipe would keep us waiting for its end until the container exits.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{shlex.join(cmd)}: exit {proc.returncode}: {err.read().decode()}")
    return elapsed


def wait_stopped(base, cid):
    for _ in range(1000):
        out = subprocess.run(base + ["state", cid], capture_output=True, text=True).stdout
        if '"stopped"' in out:
            return
        time.sleep(0.002)
    raise RuntimeError(f"{cid} did not stop")


def one_round(name, base, bundle, index, samples):
    cid = f"bench-{name}-{os.getpid()}-{index}"
    samples["create"].append(timed(base + ["create", "--bundle", bundle, cid]))
    samples["start"].append(timed(base + ["start", cid]))
    wait_stopped(base, cid)
    samples["delete"].append(timed(base + ["delete", cid]))
    samples["run"].append(timed(base + ["run", "--bundle", bundle, cid + "-run"]))


def summarize(samples):
    return {step: {"median_ms": statistics.median(v) * 1000, "min_ms": min(v) * 1000, "max_ms": max(v) * 1000,
                   "runs": len(v)} for step, v in samples.items()}


def version_of(cmd):
    try:
        return subprocess.run(cmd + ["--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", action="append", default=[], metavar="NAME=COMMAND",
                        help="a runtime to measure; the first is the subject, the others references")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--results", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    runtimes = [r.split("=", 1) for r in args.runtime] or [["pyoci", "pyoci"], ["runc", "runc"]]

    work = tempfile.mkdtemp(prefix="pyoci-bench-")
    os.chmod(work, 0o755)
    try:
        make_rootfs(os.path.join(work, "rootfs"))
        config = default_config(["/bin/true"])
        bundle = write_bundle(work, config)
        bases = {name: shlex.split(cmd) + ["--root", os.path.join(work, "state-" + name)] for name, cmd in runtimes}
        samples = {name: {step: [] for step in STEPS} for name, _ in runtimes}
        for i in range(args.runs):
            order = runtimes if i % 2 == 0 else list(reversed(runtimes))
            for name, _ in order:
                one_round(name, bases[name], bundle, i, samples[name])
    finally:
        for name, _ in runtimes:
            state = os.path.join(work, "state-" + name)
            for cid in os.listdir(state) if os.path.isdir(state) else []:
                subprocess.run(bases[name] + ["delete", "--force", cid], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    summary = {name: summarize(s) for name, s in samples.items()}
    subject = runtimes[0][0]
    report = {
        "machine": {"kernel": platform.release(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {name: version_of(shlex.split(cmd)) for name, cmd in runtimes},
        "runs": args.runs,
        "results": summary,
        "ratios": {f"{subject}/{ref}": {step: summary[subject][step]["median_ms"] / summary[ref][step]["median_ms"]
                                        for step in STEPS} for ref, _ in runtimes[1:]},
    }
    header = f"{'step':8}" + "".join(f"{name + ' median (min-max) ms':>34}" for name, _ in runtimes)
    header += "".join(f"{subject + '/' + ref:>14}" for ref, _ in runtimes[1:])
    print(header)
    for step in STEPS:
        row = f"{step:8}"
        for name, _ in runtimes:
            s = summary[name][step]
            row += f"{s['median_ms']:>14.1f} ({s['min_ms']:6.1f}-{s['max_ms']:6.1f})   "
        row += "".join(f"{report['ratios'][f'{subject}/{ref}'][step]:>14.2f}" for ref, _ in runtimes[1:])
        print(row)
    os.makedirs(args.results, exist_ok=True)
    out = os.path.join(args.results, f"lifecycle-{time.strftime('%Y%m%dT%H%M%S')}.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
