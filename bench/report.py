"""The benchmark's report: summaries, floor differences and ratios as one
JSON-ready dict, and that dict as a table."""
from measure import summarize

# The sum of a round's create, start and delete: the lifecycle as an engine drives it.
LIFECYCLE = "create+start+delete"
STEPS = ("create", "state", "start", "delete", LIFECYCLE, "run", "exec", "kill")
FLOOR = "python floor"
FLOOR_STEPS = ("start", "state", "kill", "delete")
# metric: (label in the table, scale from the stored unit to the shown one)
METRICS = {"wall_ms": ("wall ms", 1), "cpu_ms": ("CPU ms", 1), "rss_kib": ("peak RSS MiB", 1 / 1024),
           "vmrss_kib": ("VmRSS MiB", 1 / 1024), "limit_kib": ("KiB", 1)}
FAILS_ALL = "fails at all tested limits"
WIDTH = 27


def results_of(rt):
    out = {figure: {metric: summarize(values) for metric, values in metrics.items()}
           for figure, metrics in rt.samples.items()}
    out["min memory limit"] = {"limit_kib": {"median": rt.memory_limit_kib} if rt.memory_limit_kib else FAILS_ALL}
    return out


def ratios(subject, other):
    out = {}
    for figure, metrics in subject.items():
        for metric, stat in metrics.items():
            ref = other.get(figure, {}).get(metric)
            if isinstance(stat, dict) and isinstance(ref, dict) and ref["median"]:
                out.setdefault(figure, {})[metric] = stat["median"] / ref["median"]
    return out


def build(runtimes, meta, leftovers):
    results = {rt.name: results_of(rt) for rt in runtimes}
    subject = runtimes[0].name
    return {**meta,
            "versions": {rt.name: rt.version for rt in runtimes},
            "results": results,
            "ratios": {f"{subject}/{rt.name}": ratios(results[subject], results[rt.name]) for rt in runtimes[1:]},
            "notes": {rt.name: rt.notes for rt in runtimes if rt.notes},
            "leftovers": leftovers}


def figure_order(results):
    seen = dict.fromkeys(figure for res in results.values() for figure in res)
    first = [f for f in (*STEPS, "init", FLOOR, *(f"{s} - floor" for s in FLOOR_STEPS)) if f in seen]
    return first + [f for f in seen if f not in first]


def cell(stat, scale):
    if stat is None:
        return "n/a"
    if isinstance(stat, str):
        return stat
    text = f"{stat['median'] * scale:.1f}"
    if stat.get("n", 1) > 1:
        text += f" ({stat['min'] * scale:.1f}-{stat['max'] * scale:.1f})"
    return text


def table(data):
    results, names = data["results"], list(data["results"])
    m = data["machine"]
    lines = [f"{data['started']}: {data['runs']} rounds, {data['loops']} loops; median (min-max)",
             f"machine: Linux {m['kernel']}, {m['cpus']} x {m['cpu_model']}, cgroups {m['cgroups']}, "
             f"Python {m['python']}"]
    lines += [f"{name}: {version}" for name, version in data["versions"].items()]
    lines += [""] + [f"{'figure':30}" + "".join(f"{n:>{WIDTH}}" for n in names)
                     + "".join(f"{key:>13}" for key in data["ratios"])]
    for figure in figure_order(results):
        for metric, (label, scale) in METRICS.items():
            stats = [results[n].get(figure, {}).get(metric) for n in names]
            if not any(stats):
                continue
            ratios = [data["ratios"][key].get(figure, {}).get(metric) for key in data["ratios"]]
            lines.append(f"{figure + ' ' + label:30}" + "".join(f"{cell(s, scale):>{WIDTH}}" for s in stats)
                         + "".join(f"{'' if r is None else f'{r:.2f}':>13}" for r in ratios))
    lines += [""] + [f"note, {name}: {note}" for name, notes in data["notes"].items() for note in notes]
    left = {kind: found for kind, found in data["leftovers"].items() if any(found.values() if isinstance(found, dict) else found)}
    lines.append(f"left behind: {left or 'nothing (containers, cgroups, mounts)'}")
    return "\n".join(lines)
