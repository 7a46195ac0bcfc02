"""bench/chart.py, the benchmark's SVG: well-formed, a bar per runtime and
command with its median, the Python floor, and the chart of the committed
results as the bench draws it."""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))

import chart  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def stat(ms):
    return {"wall_ms": {"median": ms, "min": ms, "max": ms, "n": 3}}


def results(**runtimes):
    return {"started": "2026-01-01 00:00:00 UTC", "runs": 3, "floor": [".venv/bin/python3", "-I", "-S", "-c", "pass"],
            "results": runtimes}


def texts(svg):
    return [t.text for t in ET.fromstring(svg).iter(SVG + "text")]


def test_a_bar_per_runtime_and_command_and_the_floor():
    data = results(pyoci={"create": stat(30.0), "start": stat(18.0), "create+start+delete": stat(70.0),
                          "python floor": stat(16.5)},
                   runc={"create": stat(35.0), "start": stat(8.0), "create+start+delete": stat(50.0)},
                   crun={"create": stat(20.0), "start": stat(7.5), "exec": stat(12.0)})
    svg = chart.svg(data)
    shown = texts(svg)
    for name in ("pyoci", "runc", "crun", "create", "start", "exec", "30.0", "35.0", "7.5", "12.0"):
        assert name in shown, name
    assert shown.count("n/a") == 2  # exec of pyoci and runc
    assert "create+start+delete" not in shown  # three commands, not one
    assert any("Python floor" in t and "python3 -I -S -c pass" in t and "16.5 ms" in t for t in shown)
    bars = [r for r in ET.fromstring(svg).iter(SVG + "rect") if r.get("fill") in chart.COLORS]
    assert len(bars) == 3 + 7  # the legend's three swatches and the seven medians


def test_no_floor_line_without_a_floor():
    svg = chart.svg(results(runc={"kill": stat(8.0)}))
    assert not any("floor" in t for t in texts(svg))
    assert "stroke-dasharray" not in svg


def test_text_is_escaped():
    svg = chart.svg(results(**{"a<b&c": {"state": stat(1.0)}}))
    assert "a<b&c" in texts(svg)


def test_committed_charts_are_drawn_from_their_results():
    for path in glob.glob(os.path.join(REPO, "bench", "results", "runtimes-*.svg")):
        with open(path[:-len(".svg")] + ".json") as f:
            expected = chart.svg(json.load(f))
        with open(path) as f:
            assert f.read() == expected, f"{path}: draw it again with bench/run.py --chart"
