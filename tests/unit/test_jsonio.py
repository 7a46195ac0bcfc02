"""pyoci.core.jsonio must read and write what the json package does, and report
malformed input with json's wording and position."""
import json
import os
import subprocess
import sys

import pytest

import pyoci
from pyoci.core.jsonio import JSONError, dumps, dumps_pretty, loads

DOCUMENTS = ['{"a": [1, 2.5, null, true, false, "x\\u00e9\\n"], "b": {}, "c": []}', '  [] \n', '"s"', "-0.5e3",
             '{"nested": {"deep": [{"k": "v"}]}}', "NaN", "[Infinity, -Infinity]"]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_loads_agrees_with_json(text):
    assert repr(loads(text)) == repr(json.loads(text))
    assert repr(loads(text.encode())) == repr(json.loads(text))


@pytest.mark.parametrize("text", ['{"a":1} x', '{"a":', "", "[1,]", '{"a" 1}', "tru", '"\\x"', "1" * 5000])
def test_errors_agree_with_json(text):
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    with pytest.raises(JSONError) as got:
        loads(text)
    if isinstance(expected.value, json.JSONDecodeError):
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("value", [{"a": [1, 2.5, None, True, "é\n"], "b": {}, "c": [], "d": {"x": (1, 2)}}, [], "s"])
def test_dumps_agree_with_json(value):
    assert dumps(value) == json.dumps(value, separators=(",", ":"))
    assert dumps_pretty(value) == json.dumps(value, indent=2)
    assert dumps_pretty(value, indent="\t") == json.dumps(value, indent="\t")


def test_dumps_refuses_what_json_refuses():
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"a": object()})


# What `pyoci create` runs in: a fresh interpreter that has not imported
# json (pytest has, which hid a SystemError from the C scanner here).
FRESH = """
import sys
from pyoci.core.jsonio import JSONError, loads
assert "json.decoder" not in sys.modules
loads('{"fine": [1, 2]}')
assert "json.decoder" not in sys.modules  # only malformed input pays for it
for text in sys.argv[1:]:
    try:
        loads(text)
    except JSONError as e:
        print(e)
"""


def test_errors_inside_objects_in_a_fresh_interpreter():
    site = os.path.dirname(os.path.dirname(pyoci.__file__))
    broken = ['{"a": 1,}', '{"a": {', '{"a": "b', '[1, 2', '\n{"a":\n [1,]}', "[" * 100000]
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {site!r})\n" + FRESH,
                           *broken], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
        "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
        "Unterminated string starting at: line 1 column 7 (char 6)",
        "Expecting ',' delimiter: line 1 column 6 (char 5)",
        "Expecting value: line 3 column 5 (char 11)",
        "nested too deeply: line 1 column 1 (char 0)",
    ]
