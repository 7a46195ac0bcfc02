"""No measured time in pyoci's source: a figure written into a comment or a
docstring goes stale as the code and the machines change, and nothing
re-measures it there.  Figures belong in bench/README.md ("What the figures
owe to the code"); the code says why it does what it does and points there."""
import os
import re

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pyoci")

# A quantity, then a unit of time finer than a second, as prose writes them:
# "2-3 ms", "~15 ms", "a few ms", "a few hundred milliseconds".  A Go-style
# duration ("500ms", the syntax of `events --interval`) is a value, written
# without the space, and is not matched.
FIGURE = re.compile(r"(?:~\s*\d[\d.]*\s*|(?:\d[\d.]*|\bfew|\bseveral|\bhundreds?|\btens)\s+)"
                    r"(?:ms|µs|us|ns|(?:milli|micro|nano)seconds?)\b", re.IGNORECASE)


def sources():
    """Path under pyoci/ of every Python and C source file."""
    for directory, subdirectories, names in os.walk(SOURCE):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        for name in sorted(names):
            if name.endswith((".py", ".c", ".h")):
                yield os.path.relpath(os.path.join(directory, name), SOURCE)


def figures(paths):
    """(path, line number, figure) of every figure in those files."""
    for path in paths:
        with open(os.path.join(SOURCE, path), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for match in FIGURE.finditer(line):
                    yield path, number, match.group()


def test_the_pattern_finds_figures_and_not_durations():
    found = [m.group() for m in FIGURE.finditer(
        "costs 2-3 ms; ~15 ms; (~1.3 ms); a few ms; several ms; a few hundred milliseconds; 0.5 µs;"
        " 5s, 500ms, 1m; the milliseconds since it began; {x:.1f} ms")]
    assert found == ["3 ms", "~15 ms", "~1.3 ms", "few ms", "several ms", "hundred milliseconds", "0.5 µs"]


def test_no_figure_with_a_unit_of_time_in_the_source():
    paths = list(sources())
    assert {"cli/__init__.py", "_native/shim.c"} <= set(paths), SOURCE  # it found the source tree
    found = list(figures(paths))
    stray = [f"pyoci/{path}:{number}: {figure}" for path, number, figure in found]
    assert not stray, "move these figures to bench/README.md:\n" + "\n".join(stray)
