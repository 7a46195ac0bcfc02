"""pyoci.jsonio must read and write what the json package does, and report
malformed input with json's wording and position."""
import json

import pytest

from pyoci.jsonio import JSONError, dumps, dumps_pretty, loads

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
