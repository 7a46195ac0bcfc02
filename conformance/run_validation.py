"""Run an already-built opencontainers/runtime-tools validation suite against one runtime.

The suite is built by hand outside this project (see conformance/README.md);
this runner only executes it: every `*.t` binary under --suite, one at a
time, with RUNTIME set and a timeout.  The binaries print TAP whose
diagnostics `prove` cannot parse, so `ok` / `not ok` lines are counted
here.  After each binary, containers it leaked are force-deleted through the
runtime, mounts it leaked under the temp directory are detached, and
cgroups that appeared while it ran and are empty now are removed (the
relative-path binaries leave their parent cgroups behind for every runtime).

    python conformance/run_validation.py --suite /path/to/runtime-tools --runtime /usr/bin/runc
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

TAP_OK = re.compile(rb"^ok \d+")
TAP_NOT_OK = re.compile(rb"^not ok \d+")


def mount_points():
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def cgroup_dirs():
    dirs = set()
    for base, subdirs, _files in os.walk("/sys/fs/cgroup"):
        dirs.update(os.path.join(base, d) for d in subdirs)
    return dirs


def leaked_containers(runtime, root):
    cmd = runtime + (["--root", root] if root else []) + ["list", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return proc.stdout.split() if proc.returncode == 0 else []


def clean_up(runtime, root, mounts_before, cgroups_before, tmpdir):
    for cid in leaked_containers(runtime, root):
        subprocess.run(runtime + (["--root", root] if root else []) + ["delete", "--force", cid],
                       capture_output=True, timeout=30)
    # Deepest first, so nested leaks come off before their parents.
    for point in sorted(mount_points() - mounts_before, key=len, reverse=True):
        if point.startswith(tmpdir):
            subprocess.run(["umount", "-l", point], capture_output=True)
    for path in sorted(cgroup_dirs() - cgroups_before, key=len, reverse=True):
        try:
            os.rmdir(path)
        except OSError:
            pass  # still has processes: a runtime's own business, not the runner's


def run_binary(path, runtime_cmd, timeout, suite_dir):
    env = dict(os.environ, RUNTIME=runtime_cmd)
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        try:
            # The binaries look for ./runtimetest and ./rootfs-amd64.tar.gz.
            proc = subprocess.run([path], stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout,
                                  cwd=suite_dir)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        out.seek(0)
        output = out.read()
    lines = output.splitlines()
    ok = sum(1 for line in lines if TAP_OK.match(line))
    not_ok = [line.decode(errors="replace") for line in lines if TAP_NOT_OK.match(line)]
    # Some binaries run no TAP test at all: the *_fail ones pass by exiting 0
    # once the runtime refused their config, others report trouble only as an
    # error diagnostic.  Without tests, exit 0 and no such diagnostic pass.
    passed = code == 0 and not not_ok and (ok > 0 or b'"error"' not in output)
    return {"binary": os.path.basename(path), "exit": code, "ok": ok, "not_ok": len(not_ok),
            "failures": not_ok, "passed": passed, "seconds": round(time.monotonic() - start, 1),
            "output": output.decode(errors="replace")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True,
                        help="the built suite: a directory with runtimetest, rootfs-amd64.tar.gz and validation/*/*.t")
    parser.add_argument("--runtime", required=True, help="the runtime command (a path, or a wrapper script)")
    parser.add_argument("--root", help="the runtime's --root, to find leaked containers (default: its own)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per binary")
    parser.add_argument("--only", nargs="*", help="run only these binaries (names without .t)")
    parser.add_argument("--json", help="write the per-binary results here")
    parser.add_argument("--verbose", action="store_true", help="print each failing binary's TAP output")
    args = parser.parse_args()

    binaries = []
    for base, _dirs, files in os.walk(args.suite):
        binaries += [os.path.join(base, f) for f in files if f.endswith(".t")]
    if args.only:
        binaries = [b for b in binaries if os.path.basename(b)[:-2] in args.only]
    if not binaries:
        sys.exit(f"no *.t binaries under {args.suite}")
    runtime = shlex.split(args.runtime)
    tmpdir = tempfile.gettempdir()

    results = []
    for path in sorted(binaries, key=os.path.basename):
        mounts, cgroups = mount_points(), cgroup_dirs()
        result = run_binary(path, args.runtime, args.timeout, args.suite)
        clean_up(runtime, args.root, mounts, cgroups, tmpdir)
        results.append(result)
        verdict = "PASS" if result["passed"] else "FAIL"
        print(f"{verdict}  {result['binary']:45} ok {result['ok']:4}  not ok {result['not_ok']:3}  "
              f"exit {result['exit']}  {result['seconds']}s", flush=True)
        if args.verbose and not result["passed"]:
            print("    " + result["output"].replace("\n", "\n    ").rstrip())

    passed = sum(r["passed"] for r in results)
    print(f"\n{passed} of {len(results)} binaries passed; TAP: {sum(r['ok'] for r in results)} ok, "
          f"{sum(r['not_ok'] for r in results)} not ok")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if k != "output"} for r in results], f, indent=2)


if __name__ == "__main__":
    main()
