"""`features` against the config schema (spec/config-schema.json): what it
lists is what the schema defines and pyoci implements on this host, and
every field of the schema is handled: applied or refused, each shown by a
named integration test, none ignored."""
import json
import os

import pytest

from pyoci.features import features
from pyoci.plan import tuning
from pyoci.plan.mounts import parse_options

SPEC_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "spec")
with open(os.path.join(SPEC_DIR, "config-schema.json")) as f:
    SCHEMA = json.load(f)
DEFS = SCHEMA["$defs"]
OTHER_PLATFORMS = ("windows", "solaris", "vm", "zos", "freebsd")

# Every config field down to linux.resources' families and mounts' keys ->
# the integration test showing what pyoci does with it.
FIELD_TESTS = {
    "ociVersion": "test_bad_input.py",
    "root": "test_isolation.py", "root.path": "test_bad_input.py", "root.readonly": "test_isolation.py",
    "mounts": "test_isolation.py", "mounts[].destination": "test_escapes.py", "mounts[].source": "test_bad_input.py",
    "mounts[].type": "test_isolation.py", "mounts[].options": "test_create_options.py",
    "mounts[].uidMappings": "test_idmapped_mounts.py", "mounts[].gidMappings": "test_idmapped_mounts.py",
    "process": "test_lifecycle.py", "process.terminal": "test_console.py", "process.consoleSize": "test_console.py",
    "process.user": "test_isolation.py", "process.args": "test_lifecycle.py", "process.env": "test_isolation.py",
    "process.cwd": "test_escapes.py", "process.capabilities": "test_security.py",
    "process.rlimits": "test_isolation.py", "process.noNewPrivileges": "test_security.py",
    "process.apparmorProfile": "test_bad_input.py", "process.oomScoreAdj": "test_create_options.py",
    "process.selinuxLabel": "test_security.py", "process.scheduler": "test_tuning.py",
    "process.ioPriority": "test_tuning.py", "process.execCPUAffinity": "test_tuning.py",
    # Windows only (the spec): a Linux runtime has nothing to do with it.
    "process.commandLine": None,
    "hostname": "test_isolation.py", "domainname": "test_isolation.py",
    "hooks": "test_hooks.py", "hooks.prestart": "test_hooks.py", "hooks.createRuntime": "test_hooks.py",
    "hooks.createContainer": "test_hooks.py", "hooks.startContainer": "test_hooks.py",
    "hooks.poststart": "test_hooks.py", "hooks.poststop": "test_hooks.py",
    "annotations": "test_lifecycle.py",
    "linux": "test_isolation.py", "linux.namespaces": "test_isolation.py", "linux.uidMappings": "test_isolation.py",
    "linux.gidMappings": "test_isolation.py", "linux.timeOffsets": "test_isolation.py",
    "linux.devices": "test_isolation.py", "linux.netDevices": "test_net_devices.py",
    "linux.cgroupsPath": "test_cgroups.py", "linux.resources": "test_cgroups.py",
    "linux.resources.devices": "test_isolation.py", "linux.resources.memory": "test_cgroups.py",
    "linux.resources.cpu": "test_cgroups.py", "linux.resources.blockIO": "test_cgroups.py",
    "linux.resources.hugepageLimits": "test_cgroups.py", "linux.resources.network": "test_cgroups.py",
    "linux.resources.pids": "test_cgroups.py", "linux.resources.rdma": "test_cgroups.py",
    "linux.resources.unified": "test_cgroup_v2.py",
    "linux.intelRdt": "test_tuning.py", "linux.memoryPolicy": "test_tuning.py", "linux.personality": "test_tuning.py",
    "linux.sysctl": "test_isolation.py", "linux.seccomp": "test_seccomp.py",
    "linux.rootfsPropagation": "test_create_options.py", "linux.maskedPaths": "test_isolation.py",
    "linux.readonlyPaths": "test_isolation.py", "linux.mountLabel": "test_security.py",
}


def resolve(node):
    while "$ref" in node:
        node = DEFS[node["$ref"].rsplit("/", 1)[1]]
    return node


def field_paths(node, path=""):
    """Property paths of the schema ("linux.resources.cpu", "mounts[].type")."""
    node = resolve(node)
    found = set()
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(key, []):
            found |= field_paths(sub, path)
    for name, sub in node.get("properties", {}).items():
        child = f"{path}.{name}" if path else name
        found |= {child} | field_paths(sub, child)
    if node.get("type") == "array" and "items" in node:
        found |= field_paths(node["items"], path + "[]")
    return found


def wanted(path):
    """The depth the table keeps: each field of root, process, linux and
    mounts' entries, and each family of linux.resources."""
    depth = path.count(".")
    return path.split(".")[0] not in OTHER_PLATFORMS and "[]." not in path.replace("mounts[].", "mounts.") and (
        depth <= 1 or (path.startswith("linux.resources.") and depth == 2))


def test_every_schema_field_has_a_test_showing_how_it_is_handled():
    paths = {p for p in field_paths({k: v for k, v in SCHEMA.items() if k != "$defs"}) if wanted(p)}
    assert paths == set(FIELD_TESTS)
    integration = os.path.join(os.path.dirname(__file__), "..", "integration")
    for field, test in FIELD_TESTS.items():
        if test is None:
            continue
        with open(os.path.join(integration, test)) as f:
            assert field.rsplit(".", 1)[-1].replace("[]", "") in f.read(), (field, test)


@pytest.fixture(scope="module")
def listed():
    return features()


def test_namespaces_hooks_and_memory_policies_are_the_schemas(listed):
    assert set(listed["linux"]["namespaces"]) == set(DEFS["namespaceType"]["enum"])
    assert set(listed["hooks"]) == set(resolve(DEFS["Hooks"])["properties"])
    policy = DEFS["MemoryPolicy"]["properties"]
    assert set(listed["linux"]["memoryPolicy"]["modes"]) == set(policy["mode"]["enum"])
    assert set(listed["linux"]["memoryPolicy"]["flags"]) == set(policy["flags"]["items"]["enum"])


def test_tuning_tables_cover_the_schemas_values():
    assert set(tuning.SCHED_POLICIES) == set(DEFS["Scheduler"]["properties"]["policy"]["enum"])
    assert set(tuning.SCHED_FLAGS) == set(DEFS["Scheduler"]["properties"]["flags"]["items"]["enum"])
    assert set(tuning.IOPRIO_CLASSES) == set(DEFS["IOPriority"]["properties"]["class"]["enum"])
    assert set(tuning.PERSONALITY_DOMAINS) == set(DEFS["Personality"]["properties"]["domain"]["enum"])


def test_seccomp_lists_what_the_schema_defines(listed):
    seccomp = listed["linux"]["seccomp"]
    assert set(seccomp["actions"]) <= set(DEFS["seccompAction"]["enum"])
    assert set(seccomp["operators"]) == set(DEFS["seccompOperator"]["enum"])
    assert set(seccomp["archs"]) <= set(DEFS["seccompArch"]["enum"])
    assert {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"} <= set(seccomp["archs"])
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    assert set(seccomp["knownFlags"]) <= set(DEFS["Seccomp"]["properties"]["flags"]["items"]["enum"])


def test_every_mount_option_listed_is_one_pyoci_parses(listed):
    for option in listed["mountOptions"]:
        assert parse_options([option], "f").data == [], option
