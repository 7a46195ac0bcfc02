"""The benchmark's picture: per command, each runtime's median wall time
as a bar, and the subject's Python floor (its interpreter's bare start,
measured in the same rounds) as a line across them: what no command of a
Python runtime can go below.

run.py writes it beside the results it charts, as SVG written by hand:
the bench needs no plotting library.  Imported by the bench only.
"""
import math
import os
from xml.sax.saxutils import escape, quoteattr

from report import FLOOR, LIFECYCLE, STEPS

# The runtime's own commands; the lifecycle sum, three of them, is left out.
COMMANDS = tuple(step for step in STEPS if step != LIFECYCLE)
# By runtime, in the results' order: the subject first.
COLORS = ("#3572a5", "#8c8c8c", "#d08c2b", "#5a9e4b", "#a05195")
FLOOR_LINE = {"stroke": "#c0392b", "stroke-width": 2, "stroke-dasharray": "6 3"}
WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 64, 44
GRID_LINES = 5


def element(tag, attributes, text=None):
    attrs = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items())
    return f"<{tag}{attrs}/>" if text is None else f"<{tag}{attrs}>{escape(text)}</{tag}>"


def label(x, y, text, size=11, anchor="middle", **attributes):
    return element("text", {"x": round(x, 1), "y": round(y, 1), "font-size": size, "text-anchor": anchor,
                            **attributes}, text)


def hline(y, **attributes):
    return element("line", {"x1": LEFT, "y1": round(y, 1), "x2": WIDTH - RIGHT, "y2": round(y, 1), **attributes})


def wall_median(results, runtime, figure):
    stat = results[runtime].get(figure, {}).get("wall_ms")
    return stat["median"] if isinstance(stat, dict) else None


def grid_step(highest):
    """A round step (1, 2 or 5 times a power of ten) that splits 0..highest
    into about GRID_LINES."""
    raw = highest / GRID_LINES
    power = 10 ** math.floor(math.log10(raw))
    return next(power * m for m in (1, 2, 5, 10) if power * m >= raw)


def legend(runtimes, floor_caption):
    out, x = [], LEFT
    for i, rt in enumerate(runtimes):
        out += [element("rect", {"x": x, "y": 32, "width": 12, "height": 12, "fill": COLORS[i % len(COLORS)]}),
                label(x + 16, 42, rt, anchor="start")]
        x += 24 + 7 * len(rt)
    if floor_caption:
        out += [element("line", {"x1": x, "y1": 38, "x2": x + 24, "y2": 38, **FLOOR_LINE}),
                label(x + 30, 42, floor_caption, anchor="start")]
    return out


def floor_caption(data, floor):
    """The floor's legend: whose interpreter, how it was started, its median."""
    if floor is None:
        return None
    interpreter, *flags = data["floor"]
    command = " ".join([os.path.basename(interpreter), *flags])
    return f"Python floor of {next(iter(data['results']))} ({command}): {floor:.1f} ms"


def svg(data):
    """The chart of one results file (run.py's JSON), as SVG text."""
    results = data["results"]
    runtimes = list(results)
    commands = [c for c in COMMANDS if any(wall_median(results, rt, c) is not None for rt in runtimes)]
    floor = wall_median(results, runtimes[0], FLOOR)
    shown = [wall_median(results, rt, c) for c in commands for rt in runtimes] + [floor]
    highest = max(ms for ms in shown if ms is not None)
    step = grid_step(highest)
    steps = math.ceil(highest / step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(ms):
        return TOP + plot_h * (1 - ms / (steps * step))

    out = [element("rect", {"width": WIDTH, "height": HEIGHT, "fill": "white"}),
           label(LEFT, 20, f"Median wall time per command, ms ({data['runs']} rounds, {data['started']})", 13,
                 "start", **{"font-weight": "bold"}),
           *legend(runtimes, floor_caption(data, floor))]
    for i in range(steps + 1):
        out += [hline(y(i * step), stroke="#dddddd"), label(LEFT - 6, y(i * step) + 4, f"{i * step:g}", 10, "end")]
    group_w = plot_w / len(commands)
    bar_w = group_w * 0.8 / len(runtimes)
    for g, command in enumerate(commands):
        for i, rt in enumerate(runtimes):
            ms = wall_median(results, rt, command)
            x = LEFT + (g + 0.1) * group_w + i * bar_w
            if ms is None:  # a runtime without the command (exec)
                out.append(label(x + bar_w / 2, y(0) - 4, "n/a", 9))
                continue
            out += [element("rect", {"x": round(x, 1), "y": round(y(ms), 1), "width": round(bar_w - 2, 1),
                                     "height": round(y(0) - y(ms), 1), "fill": COLORS[i % len(COLORS)]}),
                    label(x + (bar_w - 2) / 2, y(ms) - 3, f"{ms:.1f}", 9)]
        out.append(label(LEFT + (g + 0.5) * group_w, HEIGHT - BOTTOM + 18, command, 12))
    if floor is not None:  # over the bars: it marks where each of them stands against it
        out.append(hline(y(floor), **FLOOR_LINE))
    out.append(hline(y(0), stroke="black"))
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
                      f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">', *out, "</svg>"]) + "\n"


def write(data, path):
    with open(path, "w") as f:
        f.write(svg(data))
