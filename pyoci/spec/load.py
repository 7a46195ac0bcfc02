"""Load a bundle's config.json and validate it (create, run); hold exec's
--process and update's --resources to the same schema.

Every create validates against spec/config-schema.json (runtime-spec 1.3.0)
and then runs the semantic checks; errors name the JSON path:
"config.json: process.args: 'sh' is not of type 'array'".
"""
from pyoci.core import paths
from pyoci.core.errors import ConfigError
from pyoci.core.jsonio import loads


def json_path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def read_schema(name):
    """A schema of spec/: installed, the build's copy in pyoci/schema; in a
    source tree, spec/ itself.  (Not create's path: it runs the generated
    check.)"""
    package = paths.dirname(paths.dirname(paths.abspath(__file__)))
    for directory in (paths.join(package, "schema"), paths.join(paths.dirname(package), "spec")):
        if paths.isdir(directory):
            break
    with open(paths.join(directory, name)) as f:
        return loads(f.read())


def config_check():
    """config-schema.json's check: the module the build generated from it,
    else (a source tree, never built) generated now."""
    try:
        from pyoci.spec.config_schema import check
    except ModuleNotFoundError:
        from pyoci.spec.validator import compile_schema

        check = compile_schema(read_schema("config-schema.json"))
    return check


def validate(config, source="config.json"):
    error = config_check()(config)
    if error is not None:
        where = json_path(error[0])
        raise ConfigError(f"{source}: {where + ': ' if where else ''}{error[1]}")


def validate_process(process, source):
    """exec --process's object, held to what config.json's process is held
    to: the schema's process definition, then the same semantic checks.
    Errors name the field as in config.json ("process.user.uid"), after
    source (the file)."""
    from pyoci import SPEC_VERSION
    from pyoci.spec.checks import check_process

    validate({"ociVersion": SPEC_VERSION, "root": {"path": "."}, "process": process}, source)
    try:
        check_process({"process": process})
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def validate_resources(resources, source):
    """update's linux.resources object, held to the schema's definition of
    config.json's; errors name the field as in config.json
    ("linux.resources.memory.limit"), after source (the file or flag)."""
    from pyoci import SPEC_VERSION

    validate({"ociVersion": SPEC_VERSION, "root": {"path": "."}, "linux": {"resources": resources}}, source)


def load_bundle_config(bundle):
    """Parsed and validated config.json of bundle (an absolute path)."""
    if not paths.isdir(bundle):
        raise ConfigError(f"bundle {bundle}: no such directory")
    path = paths.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            config = loads(f.read())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"config.json: not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise ConfigError("config.json: the top level must be an object")
    validate(config)
    from pyoci.spec.checks import check

    check(config, bundle)
    return config
