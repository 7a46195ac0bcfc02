"""The `pattern`s of spec/*.json, as named predicates (create).

`import re` pulls in enum, functools and collections, which would cost a
create more than the whole rest of validation (bench/README.md).  The schemas use eight patterns,
each simple enough to say in a few string operations, so each is written out
here by hand and PREDICATES maps the pattern's exact text to it.  The
generated check (pyoci.spec.validator) calls these by name, and the
generator refuses a pattern PREDICATES does not hold: a schema update that
adds or changes one fails the build instead of going unchecked.

Each predicate answers as re.search(pattern, text) does, which is what
jsonschema, and so the spec's own tooling, uses: `$` holds at the end and
before a final newline, and [0-9], [A-Z] are ASCII only.
"""

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A semver pre-release or build identifier: [0-9A-Za-z-]
_IDENTIFIER = _DIGITS + _UPPER + _UPPER.lower() + "-"


def _star(text, chars):
    """[chars]*: every character of text is one of chars."""
    return not text.strip(chars)


def _plus(text, chars):
    """[chars]+"""
    return text != "" and not text.strip(chars)


def _before_dollar(text):
    """What of text a pattern `^...$` must match: `$` also holds before a
    final newline."""
    return text[:-1] if text[-1:] == "\n" else text


def _dotted(text):
    """[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*"""
    return all(_plus(part, _IDENTIFIER) for part in text.split("."))


def oci_version(text):
    """ociVersion: 1.0 to 1.3, any patch number written without a leading
    zero, then semver's optional -pre.release and +build.parts."""
    text = _before_dollar(text)
    if len(text) < 5 or text[:2] != "1." or text[2] not in "0123" or text[3] != ".":
        return False
    rest = text[4:]
    tail = rest.lstrip(_DIGITS)
    patch = rest[:len(rest) - len(tail)]
    if patch == "" or (patch[0] == "0" and patch != "0"):
        return False
    pre, plus, build = tail.partition("+")
    return (pre == "" or (pre[0] == "-" and _dotted(pre[1:]))) and (not plus or _dotted(build))


def absolute_path(text):
    """A path that starts with a slash (and may go on with anything)."""
    return text[:1] == "/"


def cpu_list(text):
    """A cpuset list: empty, or comma-separated numbers and low-high ranges."""
    text = _before_dollar(text)
    return text == "" or all(_cpu_range(item) for item in text.split(","))


def _cpu_range(item):
    low, dash, high = item.partition("-")
    return _plus(low, _DIGITS) and (not dash or _plus(high, _DIGITS))


def rlimit_type(text):
    """RLIMIT_ then one or more of A-Z and _."""
    text = _before_dollar(text)
    return text[:7] == "RLIMIT_" and _plus(text[7:], _UPPER + "_")


def device_access(text):
    """A device rule's access: r, w and m in any number and order."""
    return _star(_before_dollar(text), "rwm")


def hugepage_size(text):
    """A number, an optional K, M, G, T, P or E, then B."""
    text = _before_dollar(text)
    if text[-1:] != "B":
        return False
    number = text[:-1]
    if number[-1:] in ("K", "M", "G", "T", "P", "E"):
        number = number[:-1]
    return _plus(number, _DIGITS)


def mem_bw_schema(text):
    """One line that starts with MB:."""
    return text[:3] == "MB:" and single_line(text)


def single_line(text):
    """No newline but a final one."""
    return "\n" not in _before_dollar(text)


# The patterns as spec/*.json spell them (raw strings: a backslash is the
# pattern's own).
PREDICATES = {
    r"^1\.[0-3]\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$": oci_version,
    r"^/": absolute_path,
    r"^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$": cpu_list,
    r"^RLIMIT_[A-Z_]+$": rlimit_type,
    r"^[rwm]*$": device_access,
    r"^[0-9]+[KMGTPE]?B$": hugepage_size,
    r"^MB:[^\n]*$": mem_bw_schema,
    r"^[^\n]*$": single_line,
}
