"""How create's init gets into its cgroups, measured: each variant's
`create` wall and CPU time, side by side in one run.

create clones the init straight into its cgroup2 cgroup (clone3 with
CLONE_INTO_CGROUP) and joins the rest (v1 hierarchies) by writing
cgroup.procs; the launcher starts a helper that keeps the kernel's cgroup
migration lock warm while the interpreter starts (pyoci/launch/warmup.py).  On a
pure v2 host nothing is migrated any more, so this bench tells whether the
helper still pays for itself and what the clone saves:

    launcher       the pyoci command as installed: warm-up, clone into the cgroup
    no-warmup      the same interpreter and code without the launcher's helper
    join           no warm-up, and the init joined after a plain clone (the old way)

Each variant runs in its own rounds, in an order that rotates round by
round; a round is create (measured) then delete -f.  Prints medians
(min-max) and each variant's ratio to the first, and writes
bench/results/cgroup-entry-<timestamp>.json.

    .venv/bin/python bench/cgroup_entry.py [--runs 30] [--variants launcher no-warmup join] [--venv DIR]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))  # the tests' bundle helpers

import host  # noqa: E402
from bundle import default_config, make_rootfs, write_bundle  # noqa: E402
from measure import measure, summarize  # noqa: E402

TAG = f"bench{os.getpid()}"
# What the launcher runs, minus the helper; JOIN_FIRST makes create skip the clone into the cgroup.
ENTRY = ("import sys\n"
         "prefix = sys.executable.rpartition('/bin/')[0]\n"
         "sys.path.append('%s/lib/python%d.%d/site-packages' % (prefix, *sys.version_info[:2]))\n"
         "{patch}"
         "from pyoci.cli import run_and_exit\n"
         "run_and_exit()\n")
JOIN_FIRST = "import pyoci.cgroups\npyoci.cgroups.open_v2_dir = lambda dirs, found: (None, -1)\n"


def variants(venv):
    python, launcher = os.path.join(venv, "bin", "python3"), os.path.join(venv, "bin", "pyoci")
    return {
        "launcher": [launcher],
        "no-warmup": [python, "-I", "-S", "-c", ENTRY.format(patch="")],
        "join": [python, "-I", "-S", "-c", ENTRY.format(patch=JOIN_FIRST)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--venv", default=os.path.join(REPO, ".venv"))
    parser.add_argument("--variants", nargs="*", default=["launcher", "no-warmup", "join"])
    parser.add_argument("--results", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    commands = {name: cmd for name, cmd in variants(args.venv).items() if name in args.variants}
    work = tempfile.mkdtemp(prefix="pyoci-bench-entry-")
    figures = {name: {"wall_ms": [], "cpu_ms": []} for name in commands}
    try:
        make_rootfs(os.path.join(work, "rootfs"))
        config = default_config(["sleep", "1000"], "rootfs")
        config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 100}}
        bundle = write_bundle(work, config)
        order = list(commands)
        for round_no in range(args.runs):
            for name in order[round_no % len(order):] + order[:round_no % len(order)]:
                root = os.path.join(work, "state-" + name)
                cid = f"{TAG}-{name}-{round_no}"
                try:
                    result, _out = measure(commands[name] + ["--root", root, "create", "-b", bundle, cid])
                    figures[name]["wall_ms"].append(result["wall_ms"])
                    figures[name]["cpu_ms"].append(result["cpu_ms"])
                finally:
                    measure(commands[name] + ["--root", root, "delete", "-f", cid])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {name: {k: summarize(v) for k, v in fig.items()} for name, fig in figures.items()}
    first = next(iter(summary))
    print(f"cgroup layout: {host.cgroup_layout()}, {args.runs} rounds")
    print(f"{'variant':12} {'create wall ms':>22} {'create CPU ms':>22} {'wall ratio':>10}")
    for name, s in summary.items():
        wall, cpu = s["wall_ms"], s["cpu_ms"]
        print(f"{name:12} {wall['median']:8.1f} ({wall['min']:.1f}-{wall['max']:.1f}) "
              f"{cpu['median']:8.1f} ({cpu['min']:.1f}-{cpu['max']:.1f}) "
              f"{wall['median'] / summary[first]['wall_ms']['median']:10.2f}")
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"cgroup-entry-{time.strftime('%Y%m%dT%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump({"layout": host.cgroup_layout(), "runs": args.runs, "variants": summary}, f, indent=2)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
