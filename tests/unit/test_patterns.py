"""Each predicate of pyoci.spec.patterns must answer as re.search does on
its pattern (what jsonschema answers, and the validator answered when it ran
the patterns through a matcher of its own), the generated check must call it
with jsonschema's words, and the generator must refuse a pattern that has no
predicate.  `re` is fine here: only create must do without it."""
import random
import re

import jsonschema
import pytest
import test_schema as corpus

from pyoci.spec import patterns
from pyoci.spec.patterns import PREDICATES
from pyoci.spec.validator import SchemaError, compile_schema


def schema_patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from schema_patterns(item)


SCHEMA_PATTERNS = sorted(set(schema_patterns(corpus.CONFIG_SCHEMA)) | set(schema_patterns(corpus.STATE_SCHEMA)))

# predicate: (accepted, rejected).  `$` holds before a final newline, as in
# re; [0-9] and [A-Z] are ASCII only, so an Arabic-Indic digit is no digit.
CASES = {
    patterns.oci_version: (
        ["1.0.0", "1.3.0", "1.2.10", "1.1.0-rc.1", "1.0.0-rc.1+build.5", "1.3.0+20260101", "1.0.2-dev-1.a--b",
         "1.3.0-0.01", "1.3.0--", "1.3.0\n", "1.3.0-x+y\n"],
        ["", "\n", "1.4.0", "2.0.0", "1.3", "1.3.", "1.3.01", "1.3.00", "1.03.0", "01.3.0", "1.3.0-", "1.3.0+",
         "1.3.0-a..b", "1.3.0-a.", "1.3.0+a+b", "1.3.0+a-b.", "1.3.0\n\n", "1.3.0\r", " 1.3.0", "1.3.0 ", "v1.3.0",
         "1.3.\u0663", "1.3.0-\u00e9", "1.3.0\nx", "1x3.0"]),
    patterns.absolute_path: (
        ["/", "/a", "//", "/a\n", "/ \u00e9\n\n"],
        ["", "\n", "a/", " /", "\n/", "./a"]),
    patterns.cpu_list: (
        ["", "\n", "0", "00", "0-3", "0-3,5", "1,2-4,7-7", "10-2", "0\n"],
        [",", "0,", ",0", "0,,1", "0-", "-3", "0--3", "0-1-2", "0 ,1", "\u0663", "0-3\n\n", "0\n1", "a", "0-3,"]),
    patterns.rlimit_type: (
        ["RLIMIT_NOFILE", "RLIMIT_A", "RLIMIT__", "RLIMIT_RT_TIME\n"],
        ["", "\n", "RLIMIT_", "RLIMIT_\n", "RLIMIT_nofile", "rlimit_NOFILE", "RLIMIT_NOFILE1", "RLIMIT_NOFILE ",
         "XRLIMIT_A", "RLIMIT_\u00c9", "RLIMIT_A\n\n", "RLIMIT"]),
    patterns.device_access: (
        ["", "\n", "r", "rwm", "mmwr", "rw\n"],
        ["x", "R", "rw m", "r\nw", "rw\n\n", "\u0155"]),
    patterns.hugepage_size: (
        ["2MB", "1GB", "64KB", "1B", "007EB", "2MB\n"],
        ["", "\n", "B", "MB", "2mb", "2M", "2MBB", "2KMB", "-2MB", "2.5MB", "\u0662MB", "2 MB", "2MB\n\n", "2XB"]),
    patterns.mem_bw_schema: (
        ["MB:", "MB:0=100;1=50", "MB:\n", "MB:\u00e9 \u0663\t\r"],
        ["", "\n", "mb:0=1", " MB:0", "MB", "MB:0\n1", "MB:\n\n"]),
    patterns.single_line: (
        ["", "\n", "L3:0=ff", "a\n", "tab\tand\rcr \u00e9"],
        ["a\nb", "\n\n", "\na"]),
}


def pattern_of(predicate):
    return next(p for p, f in PREDICATES.items() if f is predicate)


def test_every_schema_pattern_has_a_predicate_and_every_predicate_a_pattern():
    assert sorted(PREDICATES) == SCHEMA_PATTERNS
    assert set(CASES) == set(PREDICATES.values())


@pytest.mark.parametrize("predicate", CASES, ids=lambda f: f.__name__)
def test_accepted_and_rejected(predicate):
    accepted, rejected = CASES[predicate]
    search = re.compile(pattern_of(predicate)).search
    for text in accepted:
        assert predicate(text) and search(text), text
    for text in rejected:
        assert not predicate(text) and not search(text), text


def near(texts, letters, rng):
    """texts with a few characters inserted, deleted or replaced."""
    for text in texts:
        for _ in range(40):
            chars = list(text)
            for _ in range(rng.randrange(1, 4)):
                at = rng.randrange(len(chars) + 1)
                edit = rng.randrange(3)
                if edit == 0:
                    chars.insert(at, rng.choice(letters))
                elif chars:
                    at = min(at, len(chars) - 1)
                    if edit == 1:
                        del chars[at]
                    else:
                        chars[at] = rng.choice(letters)
            yield "".join(chars)


@pytest.mark.parametrize("predicate", CASES, ids=lambda f: f.__name__)
def test_answers_as_re_search_does(predicate):
    """Random strings over the pattern's own characters and some others, and
    near misses of the accepted cases."""
    pattern = pattern_of(predicate)
    rng = random.Random(pattern)
    letters = "".join(sorted(set(pattern) - set("^$\\()[]*+?|"))) + "0123456789-.+,_ \n\n\r\t\u00e9\u0663\u00c9"
    accepted, rejected = CASES[predicate]
    randoms = ("".join(rng.choice(letters) for _ in range(rng.randrange(0, 16))) for _ in range(3000))
    search = re.compile(pattern).search
    for text in [*randoms, *near(accepted + rejected, letters, rng)]:
        assert predicate(text) == bool(search(text)), text


@pytest.mark.parametrize("predicate", CASES, ids=lambda f: f.__name__)
def test_the_generated_check_uses_jsonschemas_words(predicate):
    pattern = pattern_of(predicate)
    schema = {"pattern": pattern}
    check = compile_schema(schema)
    accepted, rejected = CASES[predicate]
    assert all(check(text) is None for text in accepted + [5, None])  # a pattern holds only strings to itself
    for text in rejected:
        reference = next(jsonschema.Draft202012Validator(schema).iter_errors(text))
        assert check(text) == ((), reference.message)
        assert f" does not match {pattern!r}" in reference.message


def test_a_pattern_without_a_predicate_is_refused_with_where_it_is():
    """Matched by its exact text: one that means much the same is still refused."""
    schema = {"$defs": {"access": {"type": "string", "pattern": "^[rwm]+$"}},
              "properties": {"a/b": {"$ref": "#/$defs/access"}}}
    with pytest.raises(SchemaError) as refused:
        compile_schema(schema)
    assert "'^[rwm]+$' at #/$defs/access " in str(refused.value)
