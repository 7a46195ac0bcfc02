"""A small JSON Schema (2020-12) validator for the keywords spec/*.json use (create).

Every `create` validates config.json, and every engine call is a fresh
interpreter: importing a general validator cost more than the rest of
create together.  This module compiles a schema once per process into
nested closures (a few hundred, in well under a millisecond) and reports
the first error as (JSON path, message), in the words jsonschema uses.
A unit test checks that it agrees with jsonschema on the schema test corpus.

Supported: $ref (local), type, enum, const, properties, required,
additionalProperties, propertyNames, dependentRequired, items, minItems,
minimum, maximum, minLength, pattern (pyoci.spec.pattern, not `re`), anyOf,
allOf, if/then/else.  Any other assertion keyword is refused at compile
time, so the schema cannot silently outgrow the validator.
"""
from pyoci.spec.pattern import SchemaError, compile_pattern

ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "deprecated", "default", "examples"}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _first_error_of(checks):
    def check(v):
        for fn in checks:
            error = fn(v)
            if error:
                return error
        return None

    return check


def _within(key, error):
    return ((key,) + error[0], error[1]) if error else None


class Compiler:
    def __init__(self, root):
        self.root = root
        self.cache = {}

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise SchemaError(f"only local $ref is supported: {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def compile(self, schema):
        key = id(schema)
        if key in self.cache:
            return self.cache[key]
        # A placeholder first, so recursive $refs find something to call.
        slot = []
        self.cache[key] = lambda v: slot[0](v)
        fn = self._build(schema)
        slot.append(fn)
        self.cache[key] = fn
        return fn

    def _build(self, schema):
        if schema is True:
            return lambda v: None
        if schema is False:
            return lambda v: ((), f"{v!r} is not allowed")
        checks = []
        for keyword, arg in schema.items():
            if keyword in ANNOTATIONS or keyword in ("then", "else"):
                continue
            builder = getattr(self, "k_" + keyword.lstrip("$"), None)
            if builder is None:
                raise SchemaError(f"unsupported keyword {keyword!r}")
            checks.append(builder(arg, schema))
        return checks[0] if len(checks) == 1 else _first_error_of(checks)

    # -- keywords ---------------------------------------------------------------
    def k_ref(self, ref, _schema):
        target = self.resolve(ref)
        return lambda v: self.compile(target)(v)

    def k_type(self, kinds, _schema):
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        tests = [_TYPES[n] for n in names]
        shown = ", ".join(repr(n) for n in names)

        def check(v):
            if not any(t(v) for t in tests):
                return (), f"{v!r} is not of type {shown}"
            return None

        return check

    def k_enum(self, values, _schema):
        return lambda v: None if any(v == e and type(v) is type(e) for e in values) else ((), f"{v!r} is not one of {values!r}")

    def k_const(self, value, _schema):
        return lambda v: None if v == value and type(v) is type(value) else ((), f"{value!r} was expected")

    def k_properties(self, props, _schema):
        compiled = [(name, self.compile(sub)) for name, sub in props.items()]

        def check(v):
            if not isinstance(v, dict):
                return None
            for name, fn in compiled:
                if name in v:
                    error = fn(v[name])
                    if error:
                        return _within(name, error)
            return None

        return check

    def k_required(self, names, _schema):
        def check(v):
            if isinstance(v, dict):
                for name in names:
                    if name not in v:
                        return (), f"{name!r} is a required property"
            return None

        return check

    def k_additionalProperties(self, sub, schema):
        known = set(schema.get("properties", {}))
        if "patternProperties" in schema:
            raise SchemaError("patternProperties is not supported")
        if sub is False:
            def check(v):
                if isinstance(v, dict):
                    extra = sorted(k for k in v if k not in known)
                    if extra:
                        return (), f"Additional properties are not allowed ({', '.join(map(repr, extra))} was unexpected)"
                return None

            return check
        fn = self.compile(sub)

        def check_values(v):
            if isinstance(v, dict):
                for k, value in v.items():
                    if k not in known:
                        error = fn(value)
                        if error:
                            return _within(k, error)
            return None

        return check_values

    def k_propertyNames(self, sub, _schema):
        fn = self.compile(sub)

        def check(v):
            if isinstance(v, dict):
                for k in v:
                    error = fn(k)
                    if error:
                        return (), error[1]
            return None

        return check

    def k_dependentRequired(self, deps, _schema):
        def check(v):
            if isinstance(v, dict):
                for name, needed in deps.items():
                    if name in v:
                        for other in needed:
                            if other not in v:
                                return (), f"{other!r} is a dependency of {name!r}"
            return None

        return check

    def k_items(self, sub, _schema):
        fn = self.compile(sub)

        def check(v):
            if isinstance(v, list):
                for i, item in enumerate(v):
                    error = fn(item)
                    if error:
                        return _within(i, error)
            return None

        return check

    def k_minItems(self, n, _schema):
        return lambda v: ((), f"{v!r} should be non-empty" if n == 1 else f"{v!r} is too short") \
            if isinstance(v, list) and len(v) < n else None

    def k_minLength(self, n, _schema):
        return lambda v: ((), f"{v!r} should be non-empty" if n == 1 else f"{v!r} is too short") \
            if isinstance(v, str) and len(v) < n else None

    def k_minimum(self, m, _schema):
        return lambda v: ((), f"{v!r} is less than the minimum of {m!r}") \
            if _TYPES["number"](v) and v < m else None

    def k_maximum(self, m, _schema):
        return lambda v: ((), f"{v!r} is greater than the maximum of {m!r}") \
            if _TYPES["number"](v) and v > m else None

    def k_pattern(self, pattern, _schema):
        search = compile_pattern(pattern)
        return lambda v: ((), f"{v!r} does not match {pattern!r}") if isinstance(v, str) and not search(v) else None

    def k_anyOf(self, subs, _schema):
        fns = [self.compile(s) for s in subs]

        def check(v):
            if any(fn(v) is None for fn in fns):
                return None
            return (), f"{v!r} is not valid under any of the given schemas"

        return check

    def k_allOf(self, subs, _schema):
        return _first_error_of([self.compile(s) for s in subs])

    def k_if(self, sub, schema):
        test = self.compile(sub)
        then = self.compile(schema["then"]) if "then" in schema else None
        other = self.compile(schema["else"]) if "else" in schema else None

        def check(v):
            branch = then if test(v) is None else other
            return branch(v) if branch else None

        return check


def compile_schema(schema):
    """A function instance -> None, or (path tuple, message) for its first error."""
    return Compiler(schema).compile(schema)
