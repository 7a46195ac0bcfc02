"""pyoci's own conformance suite: runtime-spec v1.3.0 clauses, checked
against any runc-compatible runtime, side by side.

    python conformance/suite.py                       # pyoci, runc and crun where installed
    python conformance/suite.py --runtime pyoci=.venv/bin/pyoci --runtime runc=/usr/sbin/runc
    python conformance/suite.py --only kill.created hooks.order-and-state

Prints one row per clause and one column per runtime (PASS, FAIL, SKIP or
ERROR), then each failure's reason; --json writes the same as data.  Runs
as root: containers are real.
"""
import argparse
import json
import os
import shutil
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from clauses import CLAUSES  # noqa: E402
from harness import Failed, Runtime, Skipped, Workspace  # noqa: E402


def default_runtimes():
    found = []
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pyoci = os.path.join(here, ".venv", "bin", "pyoci")
    for name, path in (("runc", shutil.which("runc")), ("crun", shutil.which("crun")),
                       ("pyoci", pyoci if os.path.exists(pyoci) else shutil.which("pyoci"))):
        if path:
            found.append((name, path))
    return found


def check_one(runtime, item):
    try:
        item.fn(runtime)
        return "PASS", ""
    except Failed as e:
        return "FAIL", str(e)
    except Skipped as e:
        return "SKIP", str(e)
    except Exception:  # a clause that crashed is reported, and the suite goes on
        return "ERROR", traceback.format_exc(limit=3).strip().splitlines()[-1]
    finally:
        runtime.clean_up()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", action="append", default=[], metavar="NAME=PATH",
                        help="a runtime to check (pyoci, runc, crun or any path); repeatable")
    parser.add_argument("--only", nargs="*", help="clause ids to run")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    runtimes = [tuple(r.split("=", 1)) if "=" in r else (os.path.basename(r), shutil.which(r) or r)
                for r in args.runtime] or default_runtimes()
    chosen = [c for c in CLAUSES if not args.only or c.ident in args.only]

    results = {}
    with Workspace() as ws:
        harnesses = [Runtime(name, path, ws.dir, ws.rootfs) for name, path in runtimes]
        for item in chosen:
            for rt in harnesses:
                results[(item.ident, rt.name)] = check_one(rt, item)

    names = [name for name, _ in runtimes]
    width = max(len(c.ident) for c in chosen)
    print(f"{'clause':{width}}  " + "  ".join(f"{n:6}" for n in names) + "  spec")
    for item in chosen:
        cells = "  ".join(f"{results[(item.ident, n)][0]:6}" for n in names)
        print(f"{item.ident:{width}}  {cells}  {item.source}: {item.text}")
    print()
    for name in names:
        passed = sum(results[(c.ident, name)][0] == "PASS" for c in chosen)
        print(f"{name}: {passed} of {len(chosen)} clauses pass")
    failures = [(c, n) for c in chosen for n in names if results[(c.ident, n)][0] in ("FAIL", "ERROR")]
    if failures:
        print("\nfailures:")
        for item, name in failures:
            print(f"  {item.ident} [{name}]: {results[(item.ident, name)][1]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"clause": c.ident, "source": c.source, "text": c.text,
                        **{n: {"result": results[(c.ident, n)][0], "detail": results[(c.ident, n)][1]}
                           for n in names}} for c in chosen], f, indent=2)


if __name__ == "__main__":
    main()
