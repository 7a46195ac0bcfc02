"""pyoci.spec.pattern must answer exactly as re.search does, on the schema's
own patterns and on the syntax it claims to support, and refuse the rest
when the schema is compiled; so must the DFA tables that generated
validators match ASCII text with."""
import random
import re

import pytest
import test_schema as corpus

from pyoci.spec.pattern import SchemaError, ascii_tables, compile_pattern
from pyoci.spec.validator import compile_schema


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

SYNTAX = [
    "abc", "^abc$", "a|b|", "(a|bc)*d", "(?:ab)+$", "a?b?c?$", "^a{3}$", "^a{2,}$", "^a{1,3}$", "^a{,2}$",
    "a{x}", "a{1,x}", "x{", "a{٣}", "^a{,}$", "^[a-c-]+$", "^[^a-c]*$", "[]a]", "[\\]x]", "[a\\-z]", "^\\d+\\.\\w*\\s?$",
    "^\\D\\W\\S$", "[\\d.]+", "\\.\\+\\*\\?\\(\\)\\[\\{\\|\\^\\$\\/\\-\\:", "^.*$", ".", "^$", "$", "^",
    "a$|^b", "(a*)*b", "(a|a)*c", "^(0|[1-9][0-9]*)$", "a*?b+?c??", "^\\n\\t$", "[\\n]", "^ab\\ c$",
]

ALPHABET = "abcxyz019-_.:+ /\n\tMBRLIMIT,é٣"


def strings(pattern, rng):
    yield from ("", "\n", "a", "abc", "abc\n", "aaa", "aaaa", "1.3.0", "1.3.0\n", "1.2.10-rc.1+build.5",
                "0-3,5", "0-3,", "RLIMIT_NOFILE", "10MB", "MB:0=100", "rwm", "rw\nm", "/abs", "rel", "b",
                "ac", "aab", "d", "cd", "bcd", "]", "x", "-", "\\", "12٣", "a b", "ab c", " ab c\n")
    letters = ALPHABET + "".join(c for c in pattern if c.isalnum()) * 3  # strings that come close
    for _ in range(300):
        yield "".join(rng.choice(letters) for _ in range(rng.randrange(0, 12)))


@pytest.mark.parametrize("pattern", SCHEMA_PATTERNS + SYNTAX)
def test_answers_as_re_search_does(pattern):
    rng = random.Random(pattern)
    search = compile_pattern(pattern)
    expected = re.compile(pattern).search
    for text in strings(pattern, rng):
        assert search(text) == bool(expected(text)), (pattern, text)


@pytest.mark.parametrize("pattern", SCHEMA_PATTERNS + SYNTAX)
def test_generated_validators_answer_as_re_search_does(pattern):
    """ASCII text through the tables, the rest through compile_pattern."""
    rng = random.Random(pattern)
    check = compile_schema({"pattern": pattern})
    expected = re.compile(pattern).search
    for text in strings(pattern, rng):
        assert (check(text) is None) == bool(expected(text)), (pattern, text)


def test_the_schema_uses_patterns():
    assert len(SCHEMA_PATTERNS) >= 5


def test_long_inputs_need_no_recursion():
    search = compile_pattern("^[^\\n]*$")
    assert search("x" * 200_000)
    assert not search("x" * 100_000 + "\ny")
    assert compile_pattern("^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$")(",".join(map(str, range(5000))))


@pytest.mark.parametrize("pattern", ["(?=a)", "(?i)a", "\\1", "(a)\\1", "\\bword", "\\p{L}", "[[:alpha:]]",
                                     "a**", "*a", "(a", "a)", "[a", "[z-a]", "\\", "a{3,1}", "(?P<n>a)"])
def test_unsupported_syntax_is_refused_when_compiled(pattern):
    with pytest.raises(SchemaError):
        compile_pattern(pattern)
    with pytest.raises(SchemaError):
        ascii_tables(pattern)


def test_a_state_is_a_byte():
    with pytest.raises(SchemaError, match="more than 256 states"):
        ascii_tables("^a{300}$")
