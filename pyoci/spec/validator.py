"""A small JSON Schema (2020-12) validator for the keywords spec/*.json use,
generated as Python source (build time; create runs the result).

Every `create` validates config.json, and every engine call is a fresh
interpreter: importing a general validator cost more than the rest of
create together, and even reading the schema and building a checker from
it, per call, cost more than the validation itself.  So the build turns
the schema into a module of plain functions, one per schema node
(setup.py writes pyoci/spec/config_schema.py with generate()), and create
only imports it.  A check returns None, or (JSON path, message) for the
first error, in the words jsonschema uses; a unit test checks that it
agrees with jsonschema on the schema test corpus.

Supported: $ref (local), type, enum, const, properties, required,
additionalProperties, propertyNames, dependentRequired, items, minItems,
minimum, maximum, minLength, pattern (the predicate pyoci.spec.patterns names
for it, not `re`), anyOf, allOf, if/then/else.  Any other assertion keyword,
and a pattern without a predicate, is refused when the source is generated,
so the schema cannot silently outgrow the validator.
"""
from pyoci.spec.patterns import PREDICATES


class SchemaError(Exception):
    """The schema uses something the validator does not implement."""


ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "deprecated", "default", "examples"}

_TYPE_TESTS = {
    "object": "isinstance(v, dict)",
    "array": "isinstance(v, list)",
    "string": "isinstance(v, str)",
    "boolean": "isinstance(v, bool)",
    "null": "v is None",
    "number": "(isinstance(v, (int, float)) and not isinstance(v, bool))",
    "integer": "((isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()))",
}

# What every generated module has, after its import of the pattern predicates it uses.
_PRELUDE = '''\
def _properties(v, table):
    for name, check in table:
        if name in v:
            e = check(v[name])
            if e:
                return (name,) + e[0], e[1]
    return None


def _json_equal(a, b):
    """JSON's equality: 1 and 1.0 are equal, true and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _required(v, names):
    for name in names:
        if name not in v:
            return (), repr(name) + " is a required property"
    return None
'''

_TOO_SHORT = ("should be non-empty", "is too short")


class _Generator:
    """Writes one function per schema node reached from the root."""

    def __init__(self, root):
        self.root = root
        self.names = {}  # repr(node) -> function name: equal nodes share one
        self.pending = []
        self.constants = {}  # value's text -> name: equal values share one
        self.tables = []
        self.functions = []
        self.predicates = set()  # names from pyoci.spec.patterns

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise SchemaError(f"only local $ref is supported: {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def function(self, node, via=()):
        """The name of node's check function (written later, once).  A node
        that is only a $ref is its target's function."""
        if isinstance(node, dict) and set(node) - ANNOTATIONS == {"$ref"} and node["$ref"] not in via:
            return self.function(self.resolve(node["$ref"]), via + (node["$ref"],))
        key = repr(node)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"_node{len(self.names)}"
            self.pending.append((name, node))
        return name

    def constant(self, value):
        # A set as a sorted tuple: its repr would follow the string hashes,
        # which differ from process to process, and so would the source.
        text = f"frozenset({tuple(sorted(value))!r})" if isinstance(value, frozenset) else repr(value)
        name = self.constants.get(text)
        if name is None:
            name = self.constants[text] = f"_const{len(self.constants)}"
        return name

    def table(self, expression):
        """A module-level name for expression, which may name check
        functions: it is assigned after them."""
        name = f"_table{len(self.tables)}"
        self.tables.append(f"{name} = {expression}")
        return name

    def source(self, entry_name):
        entry = self.function(self.root)
        while self.pending:
            name, node = self.pending.pop(0)
            self.functions.append(self._write(name, node))
        constants = [f"{name} = {text}" for text, name in self.constants.items()]
        imports = [f"from pyoci.spec.patterns import {', '.join(sorted(self.predicates))}"] if self.predicates else []
        return "\n\n\n".join(imports + [_PRELUDE.rstrip("\n"), "\n".join(constants)] + self.functions
                             + ["\n".join(self.tables + [f"{entry_name} = {entry}"])]) + "\n"

    def _write(self, name, node):
        lines = []
        self.sure = None  # the JSON type v has for certain after the checks so far
        if node is False:
            lines.append('return (), repr(v) + " is not allowed"')
        elif node is not True:
            for keyword, arg in node.items():
                if keyword in ANNOTATIONS or keyword in ("then", "else"):
                    continue
                writer = getattr(self, "k_" + keyword.lstrip("$"), None)
                if writer is None:
                    raise SchemaError(f"unsupported keyword {keyword!r}")
                lines.extend(writer(arg, node))
        lines.append("return None")
        return f"def {name}(v):\n" + "\n".join("    " + line for line in lines)

    # -- keywords: each returns lines that return the error, if any -----------
    def _when(self, kind, lines):
        """lines, run only when v is of JSON type kind (tested unless sure)."""
        if self.sure == kind or not lines:
            return lines
        return [f"if {_TYPE_TESTS[kind]}:"] + ["    " + line for line in lines]

    def _is(self, kind):
        """The start of a condition that holds only when v is of type kind."""
        sure = self.sure == kind or (kind == "number" and self.sure == "integer")
        return "" if sure else _TYPE_TESTS[kind] + " and "

    @staticmethod
    def _fail(message_expr):
        return [f"    return (), {message_expr}"]

    @staticmethod
    def _pass_on(call, key_expr=None):
        """Return call's error, within key_expr when given."""
        if key_expr is None:
            return [f"e = {call}", "if e:", "    return e"]
        return [f"e = {call}", "if e:", f"    return ({key_expr},) + e[0], e[1]"]

    def k_ref(self, ref, _node):
        return self._pass_on(f"{self.function(self.resolve(ref))}(v)")

    def k_type(self, kinds, _node):
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        shown = ", ".join(repr(n) for n in names)
        test = " or ".join(_TYPE_TESTS[n] for n in names)
        lines = [f"if not ({test}):"] + self._fail(f'repr(v) + {" is not of type " + shown!r}')
        if len(names) == 1 and self.sure is None:
            self.sure = names[0]  # the checks after this one run only if it passed
        return lines

    def k_enum(self, values, _node):
        if all(isinstance(e, str) for e in values):  # the config schema's: one set lookup
            test = f"isinstance(v, str) and v in {self.constant(frozenset(values))}"
        else:
            test = f"any(_json_equal(v, e) for e in {self.constant(values)})"
        return [f"if not ({test}):"] + self._fail(f'repr(v) + {" is not one of " + repr(values)!r}')

    def k_const(self, value, _node):
        return [f"if not _json_equal(v, {self.constant(value)}):"] + self._fail(repr(f"{value!r} was expected"))

    def k_properties(self, props, _node):
        checked = [(name, self.function(sub)) for name, sub in props.items() if sub is not True]
        if not checked:
            return []
        table = self.table("(" + "".join(f"({name!r}, {fn}), " for name, fn in checked) + ")")
        return self._when("object", self._pass_on(f"_properties(v, {table})"))

    def k_required(self, names, _node):
        return self._when("object", self._pass_on(f"_required(v, {self.constant(tuple(names))})"))

    def k_additionalProperties(self, sub, node):
        if "patternProperties" in node:
            raise SchemaError("patternProperties is not supported")
        known = self.constant(frozenset(node.get("properties", {})))
        if sub is False:
            return self._when("object", [
                f"extra = sorted(k for k in v if k not in {known})",
                "if extra:",
                '    return (), "Additional properties are not allowed (" + ", ".join(map(repr, extra))'
                ' + " was unexpected)"'])
        return self._when("object", ["for k, value in v.items():",
                                     f"    if k not in {known}:"] +
                          ["        " + line for line in self._pass_on(f"{self.function(sub)}(value)", "k")])

    def k_propertyNames(self, sub, _node):
        return self._when("object", ["for k in v:",
                                     f"    e = {self.function(sub)}(k)",
                                     "    if e:",
                                     "        return (), e[1]"])

    def k_dependentRequired(self, deps, _node):
        lines = []
        for name, needed in deps.items():
            if not needed:
                continue
            lines.append(f"if {name!r} in v:")
            for other in needed:
                lines.append(f"    if {other!r} not in v:")
                lines.extend("    " + line for line in self._fail(repr(f"{other!r} is a dependency of {name!r}")))
        return self._when("object", lines)

    def k_items(self, sub, _node):
        return self._when("array", ["for i, item in enumerate(v):"] +
                          ["    " + line for line in self._pass_on(f"{self.function(sub)}(item)", "i")])

    def _unless(self, failing, message):
        """Fail with repr(v) + message when the condition failing holds."""
        return [f"if {failing}:"] + self._fail(f"repr(v) + {message!r}")

    def k_minItems(self, n, _node):
        return self._unless(f"{self._is('array')}len(v) < {n!r}", " " + _TOO_SHORT[n != 1])

    def k_minLength(self, n, _node):
        return self._unless(f"{self._is('string')}len(v) < {n!r}", " " + _TOO_SHORT[n != 1])

    def k_minimum(self, m, _node):
        return self._unless(f"{self._is('number')}v < {m!r}", f" is less than the minimum of {m!r}")

    def k_maximum(self, m, _node):
        return self._unless(f"{self._is('number')}v > {m!r}", f" is greater than the maximum of {m!r}")

    def k_pattern(self, pattern, _node):
        predicate = PREDICATES.get(pattern)
        if predicate is None:
            raise SchemaError(f"pattern {pattern!r} at {', '.join(_places(self.root, pattern))}"
                              " has no predicate in pyoci.spec.patterns")
        self.predicates.add(predicate.__name__)
        return self._unless(f"{self._is('string')}not {predicate.__name__}(v)", f" does not match {pattern!r}")

    def k_anyOf(self, subs, _node):
        test = " and ".join(f"{self.function(s)}(v) is not None" for s in subs)
        return [f"if {test}:"] + self._fail('repr(v) + " is not valid under any of the given schemas"')

    def k_allOf(self, subs, _node):
        return [line for s in subs for line in self._pass_on(f"{self.function(s)}(v)")]

    def k_if(self, sub, node):
        then, other = (self.function(node[k]) if k in node else None for k in ("then", "else"))
        if then is None and other is None:
            return []
        test = f"{self.function(sub)}(v) is None"
        if other is None:
            call = then
        elif then is None:
            call, test = other, f"not {test}"
        else:
            return [f"e = ({then} if {test} else {other})(v)", "if e:", "    return e"]
        return [f"if {test}:"] + ["    " + line for line in self._pass_on(f"{call}(v)")]


def _places(node, pattern, where="#"):
    """The JSON pointers, under where, of the nodes of node whose pattern
    is pattern: for the error that refuses it (equal nodes share one check,
    so the generator does not know by which path it reached a node)."""
    if isinstance(node, dict):
        if node.get("pattern") == pattern:
            yield where
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield from _places(value, pattern, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")


def generate(schema, entry_name="check"):
    """Python source defining entry_name(instance) -> None or (path tuple, message)."""
    return _Generator(schema).source(entry_name)


def compile_schema(schema):
    """The check function of schema, generated and compiled now (tests; a
    source tree that has no generated module)."""
    namespace = {}
    exec(compile(generate(schema), "<schema>", "exec"), namespace)
    return namespace["check"]
