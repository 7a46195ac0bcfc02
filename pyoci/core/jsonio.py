"""JSON in and out for every command (config.json on create, state.json on
all of them, the state handed to hooks and to `start`).

Built on CPython's C accelerator `_json` alone.  The `json` package imports
`re`, and `re` imports `enum` and `functools`: together about as long as
the interpreter takes to start, on every engine call.  The accelerator's
scanner and encoder are the same code `json` uses underneath, so what is
accepted and produced does not change.
"""
from _json import encode_basestring_ascii, make_encoder, make_scanner

WHITESPACE = " \t\n\r"


class JSONError(ValueError):
    """Malformed JSON, with the position as `json` reports it."""

    def __init__(self, msg, text, pos):
        line = text.count("\n", 0, pos) + 1
        column = pos - text.rfind("\n", 0, pos)
        super().__init__(f"{msg}: line {line} column {column} (char {pos})")


class _Context:
    """The settings object the C scanner reads its options from."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


_scan = make_scanner(_Context())


def _scan_reporting_errors(text, start):
    """_scan(text, start).  The scanner raises its errors as
    json.decoder.JSONDecodeError, which it looks up in sys.modules without
    importing it: until something imports json.decoder, an error inside an
    object or array ends in a SystemError with no position.  The import is
    paid only here, on malformed input, and the scan repeated."""
    try:
        return _scan(text, start)
    except SystemError:
        import json.decoder  # noqa: F401  (the scanner finds it in sys.modules)

        return _scan(text, start)


def loads(text):
    """The value text (str or UTF-8 bytes) holds; JSONError, with line and
    column, for anything that is not one JSON document."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError as e:
            raise JSONError(f"not UTF-8 ({e.reason})", text.decode(errors="replace"), e.start) from None
    start = len(text) - len(text.lstrip(WHITESPACE))
    try:
        value, end = _scan_reporting_errors(text, start)
    except StopIteration as e:
        raise JSONError("Expecting value", text, e.value) from None
    except RecursionError:
        raise JSONError("nested too deeply", text, start) from None
    except ValueError as e:
        # json.decoder.JSONDecodeError from the scanner carries msg and pos; a
        # number too long for int() is a plain ValueError.
        raise JSONError(getattr(e, "msg", str(e)), text, getattr(e, "pos", start)) from None
    rest = text[end:].lstrip(WHITESPACE)
    if rest:
        raise JSONError("Extra data", text, len(text) - len(rest))
    return value


def _unserializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan
_encode = make_encoder({}, _unserializable, encode_basestring_ascii, None, ":", ",", False, False, True)


def dumps(value):
    """Compact JSON, as state.json and the hooks' stdin carry it."""
    return "".join(_encode(value, 0))


def dumps_pretty(value, indent="  ", level=0):
    """Indented JSON for people (`state`, `spec`, `features`), keys in order."""
    pad = indent * (level + 1)
    if isinstance(value, dict) and value:
        items = (f"{pad}{encode_basestring_ascii(str(k))}: {dumps_pretty(v, indent, level + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + indent * level + "}"
    if isinstance(value, (list, tuple)) and value:
        return "[\n" + ",\n".join(pad + dumps_pretty(v, indent, level + 1) for v in value) + "\n" + indent * level + "]"
    return dumps(value)
