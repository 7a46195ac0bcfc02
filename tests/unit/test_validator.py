"""pyoci's own schema validator must agree with jsonschema on spec/*.json:
same verdict on every config of the schema corpus, the same failing path,
and jsonschema's message."""
import copy

import jsonschema
import pytest
import test_schema as corpus

from pyoci.spec.load import json_path
from pyoci.spec.validator import SchemaError, compile_schema

CONFIG = compile_schema(corpus.CONFIG_SCHEMA)
STATE = compile_schema(corpus.STATE_SCHEMA)
VALID = [corpus.MINIMAL_CONFIG, corpus.MINIMAL_CONFIG_WITH_PROCESS, corpus.RUNC_SPEC_CONFIG,
         corpus._runc_rootless(), corpus._crun_spec(), corpus.PODMAN_LIKE_CONFIG, corpus.EVERYTHING_CONFIG]


def blamed(error):
    """The failing element, with a missing property named like the corpus does."""
    path, message = error
    where = json_path(path)
    for marker in (" is a required property", " is a dependency of "):
        if marker in message:
            name = message.split(marker)[0].strip("'")
            return f"{where}.{name}" if where else name
    return where


@pytest.mark.parametrize("doc", VALID)
def test_valid_configs_pass(doc):
    assert CONFIG(doc) is None


@pytest.mark.parametrize("base, mutate, expected", [c[1:] for c in corpus.INVALID_CONFIGS],
                         ids=[c[0] for c in corpus.INVALID_CONFIGS])
def test_invalid_configs_fail_at_the_same_path_with_jsonschemas_words(base, mutate, expected):
    doc = copy.deepcopy(base)
    mutate(doc)
    error = CONFIG(doc)
    assert error is not None
    assert blamed(error) == expected
    reference = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(corpus.CONFIG_SCHEMA).iter_errors(doc))
    assert error[1] == reference.message


@pytest.mark.parametrize("version", ["2.0.0", "0.9", 5, "1.4.0", "", None, 1.0])
def test_rejected_versions(version):
    assert blamed(CONFIG(dict(corpus.MINIMAL_CONFIG, ociVersion=version))) == "ociVersion"


def test_states():
    assert STATE(corpus.RUNNING_STATE) is None
    assert blamed(STATE({k: v for k, v in corpus.RUNNING_STATE.items() if k != "id"})) == "id"


def test_unknown_keywords_are_refused_not_ignored():
    with pytest.raises(SchemaError):
        compile_schema({"type": "object", "uniqueItems": True})


def test_recursive_refs_terminate():
    schema = {"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
              "$ref": "#/$defs/node"}
    check = compile_schema(schema)
    assert check({"next": {"next": {}}}) is None
    assert check({"next": {"next": 3}})[0] == ("next", "next")


# Small schemas the config schema does not exercise, each judged as jsonschema judges it.
SMALL_SCHEMAS = [
    ({"enum": [1, "a"]}, [1, 1.0, True, "a", "b", 2]),
    ({"const": 1.0}, [1, 1.0, True, 0]),
    ({"const": [1, {"a": False}]}, [[1.0, {"a": False}], [True, {"a": False}], [1, {"a": 0}]]),
    ({"enum": ["x", "y"]}, ["x", "z", 1, None]),
    ({"type": "object", "dependentRequired": {"a": [], "b": ["c"]}}, [{"a": 1}, {"b": 1}, {"b": 1, "c": 2}]),
    ({"type": "object", "dependentRequired": {}}, [{}, {"a": 1}]),
    ({"type": "integer", "minimum": 2, "maximum": 4}, [1, 2, 4.0, 5, 3.5, "3"]),
    ({"minimum": 2}, [1, "a", None, 2.5]),
]


@pytest.mark.parametrize("schema, docs", SMALL_SCHEMAS)
def test_small_schemas_judged_as_jsonschema_does(schema, docs):
    check = compile_schema(schema)
    for doc in docs:
        expected = jsonschema.Draft202012Validator(schema).is_valid(doc)
        assert (check(doc) is None) == expected, (schema, doc)


def test_the_installed_schema_is_the_one_checked():
    from pyoci.spec import config_schema
    from pyoci.spec.load import read_schema
    from pyoci.spec.validator import generate

    assert read_schema("config-schema.json") == corpus.CONFIG_SCHEMA
    # create runs the module the build generated from it (in another
    # process: the source must not depend on string hashes)
    with open(config_schema.__file__) as f:
        assert generate(corpus.CONFIG_SCHEMA) in f.read()


@pytest.mark.parametrize("rootless", [False, True])
def test_pyoci_spec_writes_valid_configs(rootless):
    from pyoci.spec.default import default_config

    assert CONFIG(default_config(rootless, 1000, 1000)) is None
