"""The `pattern` keyword of the schema validator, without `re` (create).

`import re` pulls in enum, functools and collections: more than the whole
rest of validation on a `create`.  The schema's patterns are simple regular
expressions, so they are compiled here into a Thompson NFA and run by state
set simulation: linear in the input, no recursion, no backtracking.  Match
results are re.search's (what jsonschema, and so the spec's own tooling,
uses), including `$` matching before a final newline.

Supported: literals, `.`, `^`, `$`, escapes of punctuation and \\n \\t \\r
\\f \\v \\d \\w \\s (and upper case), classes `[...]` with ranges, negation
and those escapes, groups `(...)` and `(?:...)`, `|`, `*`, `+`, `?`, `{m}`,
`{m,}`, `{m,n}` (a lazy `?` after any of them changes nothing for a yes/no
match).  Anything else (lookaround, backreferences, flags, \\b) raises
SchemaError when the schema is compiled, never at validation time.
"""


class SchemaError(Exception):
    """The schema uses something the validator does not implement."""


_CLASS_ESCAPES = {
    "d": str.isdecimal,
    "w": lambda c: c.isalnum() or c == "_",
    "s": str.isspace,
}
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_REPEAT_LIMIT = 1000  # {m,n} is unrolled into states


# -- parsing: pattern text -> a small tree ------------------------------------
# ("char", predicate) | ("seq", [nodes]) | ("alt", [nodes]) | ("repeat", node, min, max or None)
# | ("bol",) | ("eol",)

class _Parser:
    def __init__(self, source):
        self.source = source
        self.i = 0

    def fail(self, what):
        raise SchemaError(f"pattern {self.source!r}: {what} at offset {self.i} is not supported")

    def peek(self):
        return self.source[self.i] if self.i < len(self.source) else None

    def take(self):
        c = self.peek()
        self.i += 1
        return c

    def parse(self):
        node = self.alternation()
        if self.i != len(self.source):
            self.fail("an unbalanced ')'")
        return node

    def alternation(self):
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.quantified(self.atom()))
        return ("seq", items)

    def quantified(self, node):
        while True:
            c = self.peek()
            if c == "*":
                bounds = (0, None)
            elif c == "+":
                bounds = (1, None)
            elif c == "?":
                bounds = (0, 1)
            elif c == "{" and self.counted_ahead():
                bounds = self.counted()
            else:
                return node
            if c != "{":
                self.take()
            if node[0] in ("bol", "eol", "repeat"):
                self.fail("a quantifier after an anchor or another quantifier")
            if self.peek() == "?":  # lazy: the same yes/no answer
                self.take()
            node = ("repeat", node, bounds[0], bounds[1])

    def counted_ahead(self):
        """`{` starts a count only as `{m}`, `{m,}`, `{,n}` or `{m,n}` (ASCII
        digits); otherwise re takes it literally, and so do we."""
        end = self.source.find("}", self.i)
        body = self.source[self.i + 1:end] if end > 0 else ""
        low, comma, high = body.partition(",")

        def number(text):
            return text.isascii() and text.isdigit()

        return (number(low) or bool(comma and not low)) and (not high or number(high))

    def counted(self):
        end = self.source.index("}", self.i)
        body = self.source[self.i + 1:end]
        self.i = end + 1
        low, comma, high = body.partition(",")
        bounds = (int(low or 0), int(high) if high else (None if comma else int(low)))
        if max(bounds[0], bounds[1] or 0) > _REPEAT_LIMIT or (bounds[1] is not None and bounds[1] < bounds[0]):
            self.fail("a repeat count out of range")
        return bounds

    def atom(self):
        c = self.take()
        if c == "(":
            if self.peek() == "?":
                if self.source[self.i:self.i + 2] != "?:":
                    self.fail("a (? group")
                self.i += 2
            node = self.alternation()
            if self.take() != ")":
                self.fail("a missing ')'")
            return node
        if c == "[":
            return ("char", self.char_class())
        if c == ".":
            return ("char", lambda ch: ch != "\n")
        if c == "^":
            return ("bol",)
        if c == "$":
            return ("eol",)
        if c == "\\":
            return ("char", self.escape(in_class=False)[0])
        if c in "*+?":
            self.i -= 1
            self.fail("a quantifier with nothing to repeat")
        return ("char", c.__eq__)

    def escape(self, in_class):
        """After a backslash: (predicate, the one character it stands for or None)."""
        c = self.take()
        if c is None:
            self.fail("a trailing backslash")
        if c.lower() in _CLASS_ESCAPES:
            test = _CLASS_ESCAPES[c.lower()]
            return (test if c.islower() else (lambda ch: not test(ch))), None
        # re: an escaped ASCII letter or digit is a special sequence (or an
        # error); any other escaped character stands for itself.
        literal = _CHAR_ESCAPES.get(c, c)
        if c in _CHAR_ESCAPES or not (c.isascii() and c.isalnum()):
            return literal.__eq__, literal
        self.i -= 1
        self.fail(f"the escape \\{c}")

    def class_item(self):
        """One member of a [...] class: (predicate, its character or None)."""
        c = self.take()
        if c is None:
            self.fail("a missing ']'")
        if c == "\\":
            return self.escape(in_class=True)
        if c == "[" and self.peek() in (":", "=", "."):
            self.fail("a POSIX class")
        return c.__eq__, c

    def char_class(self):
        negate = self.peek() == "^"
        if negate:
            self.take()
        singles, ranges, tests = set(), [], []
        first = True
        while first or self.peek() != "]":
            first = False
            test, low = self.class_item()
            if low is None:
                tests.append(test)
            elif self.peek() == "-" and self.source[self.i + 1:self.i + 2] not in ("]", ""):
                self.take()
                _, high = self.class_item()
                if high is None or high < low:
                    self.fail("a range that is reversed or ends in a class escape")
                ranges.append((low, high))
            else:
                singles.add(low)
        self.take()

        def member(ch):
            return ch in singles or any(lo <= ch <= hi for lo, hi in ranges) or any(t(ch) for t in tests)

        return (lambda ch: not member(ch)) if negate else member


# -- the automaton -------------------------------------------------------------
# A state is a list: ["char", predicate, next] | ["split", a, b] | ["eps", next]
# | ["bol", next] | ["eol", next] | ["match"].  Fragments are (start, [dangling states]).

def _patch(dangling, target):
    for state in dangling:
        state[-1] = target


def _build(node):
    kind = node[0]
    if kind == "char":
        state = ["char", node[1], None]
        return state, [state]
    if kind in ("bol", "eol"):
        state = [kind, None]
        return state, [state]
    if kind == "seq":
        if not node[1]:  # an empty branch, as in `(a|)`
            return _epsilon()
        start, dangling = _build(node[1][0])
        for item in node[1][1:]:
            nxt, nxt_dangling = _build(item)
            _patch(dangling, nxt)
            dangling = nxt_dangling
        return start, dangling
    if kind == "alt":
        fragments = [_build(b) for b in node[1]]
        start, dangling = fragments[0]
        for other_start, other_dangling in fragments[1:]:
            start = ["split", start, other_start]
            dangling = dangling + other_dangling
        return start, dangling
    return _build_repeat(node[1], node[2], node[3])


def _epsilon():
    hop = ["eps", None]
    return hop, [hop]


def _build_repeat(inner, low, high):
    start, dangling = _epsilon()
    for _ in range(low):
        nxt, nxt_dangling = _build(inner)
        _patch(dangling, nxt)
        dangling = nxt_dangling
    if high is None:
        body, body_dangling = _build(inner)
        loop = ["split", body, None]
        _patch(body_dangling, loop)
        _patch(dangling, loop)
        return start, [loop]
    exits = []
    for _ in range(high - low):
        body, body_dangling = _build(inner)
        optional = ["split", body, None]
        _patch(dangling, optional)
        exits.append(optional)
        dangling = body_dangling
    return start, dangling + exits


def _closure(states, at_start, at_end):
    """The states reachable from states without reading a character, as a
    list of character states plus the match state; at_start/at_end: whether
    the position is where ^ / $ hold."""
    into, seen, stack = [], set(), list(states)
    while stack:
        state = stack.pop()
        if id(state) in seen:
            continue
        seen.add(id(state))
        kind = state[0]
        if kind == "split":
            stack.append(state[2])
            stack.append(state[1])
        elif kind == "eps" or (kind == "bol" and at_start) or (kind == "eol" and at_end):
            stack.append(state[1])
        elif kind in ("char", "match"):
            into.append(state)
    return into


def _advance(states, ch, restart, at_end):
    """The states after reading ch (plus restart, where a search may begin
    anew), closed as _closure closes them."""
    moved = [s[2] for s in states if s[0] == "char" and s[1](ch)]
    return _closure(moved + restart, False, at_end)


class _Step:
    """A set of NFA states, with the steps out of it computed so far (a
    lazily built DFA: a long string of similar characters costs a dict
    lookup per character)."""

    __slots__ = ("states", "accepting", "moves")

    def __init__(self, states):
        self.states = states
        self.accepting = any(s[0] == "match" for s in states)
        self.moves = {}


def _automaton(source):
    """The pattern's NFA start state, and the states a search restarts from
    at every position: none when (as with a leading ^) it can only ever
    match from position 0."""
    start, dangling = _build(_Parser(source).parse())
    _patch(dangling, ["match"])
    restart = [start] if _closure([start], False, False) or _closure([start], False, True) else []
    return start, restart


def ascii_tables(source):
    """The pattern as a DFA over ASCII text, for generated code (build time):
    (moves, accepting, starts).  moves[(state * 2 + at_end) * 128 + ord(ch)]
    is the state after ch (at_end: whether $ holds after it), accepting[state]
    whether a match was found, starts[empty] the first state (empty: the
    text is "" or "\n").  Answers as compile_pattern's search does."""
    start, restart = _automaton(source)
    numbers, states = {}, []

    def number(nfa_states):
        key = frozenset(map(id, nfa_states))
        if key not in numbers:
            if len(states) == 256:  # a state is a byte
                raise SchemaError(f"pattern {source!r}: more than 256 states")
            numbers[key] = len(states)
            states.append(nfa_states)
        return numbers[key]

    starts = (number(_closure([start], True, False)), number(_closure([start], True, True)))
    moves = bytearray()
    done = 0
    while done < len(states):  # states grows as moves find new ones
        for at_end in (False, True):
            for ch in map(chr, range(128)):
                moves.append(number(_advance(states[done], ch, restart, at_end)))
        done += 1
    return bytes(moves), bytes(any(s[0] == "match" for s in st) for st in states), starts


def compile_pattern(source):
    """A function str -> bool: does re.search(source, text) find a match?"""
    start, restart = _automaton(source)
    interned = {}

    def step(states):
        key = frozenset(map(id, states))
        if key not in interned:
            interned[key] = _Step(states)
        return interned[key]

    def search(text):
        n = len(text)
        node = step(_closure([start], True, n == 0 or text == "\n"))
        for pos, ch in enumerate(text):
            if node.accepting:
                return True
            after = pos + 1
            at_end = after == n or (after == n - 1 and text[after] == "\n")
            nxt = node.moves.get((ch, at_end))
            if nxt is None:
                nxt = node.moves[(ch, at_end)] = step(_advance(node.states, ch, restart, at_end))
            node = nxt
            if not node.states and not restart:
                return False
        return node.accepting

    return search
