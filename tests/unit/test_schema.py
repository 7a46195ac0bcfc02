"""Tests for the JSON Schemas in spec/ (config.json and container state).

The schemas are loaded straight from the repository (``<repo>/spec``) and
checked with jsonschema's Draft 2020-12 validator.  Every document used here is
embedded as a Python literal, so the tests need neither runc nor crun.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from jsonschema import Draft202012Validator

SPEC_DIR = Path(__file__).resolve().parent.parent.parent / "spec"


def _load(name: str) -> dict:
    with open(SPEC_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


CONFIG_SCHEMA = _load("config-schema.json")
STATE_SCHEMA = _load("state-schema.json")
CONFIG_VALIDATOR = Draft202012Validator(CONFIG_SCHEMA)
STATE_VALIDATOR = Draft202012Validator(STATE_SCHEMA)


def _dotted(json_path: str) -> str:
    """'$.linux.namespaces[0].type' -> 'linux.namespaces[0].type'."""
    if json_path == "$":
        return ""
    assert json_path.startswith("$.") or json_path.startswith("$[")
    return json_path[2:] if json_path.startswith("$.") else json_path[1:]


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def error_paths(validator: Draft202012Validator, doc: Any) -> set[str]:
    """Paths of every failing element of ``doc``.

    A missing property is reported by jsonschema on the object that lacks it;
    for those errors the missing property itself is reported, so that a test
    can say "mounts[1].destination" whether the value is wrong or absent.
    """
    paths: set[str] = set()
    for err in validator.iter_errors(doc):
        where = _dotted(err.json_path)
        missing: list[str] = []
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [k for k in err.validator_value if k not in err.instance]
        elif err.validator == "dependentRequired" and isinstance(err.instance, dict):
            for trigger, needed in err.validator_value.items():
                if trigger in err.instance:
                    missing += [k for k in needed if k not in err.instance]
        if missing:
            paths.update(_join(where, k) for k in missing)
        else:
            paths.add(where)
    return paths


def assert_valid(validator: Draft202012Validator, doc: Any) -> None:
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# Documents that must validate
# --------------------------------------------------------------------------

MINIMAL_CONFIG: dict = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
}

MINIMAL_CONFIG_WITH_PROCESS: dict = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {
        "cwd": "/",
        "args": ["/bin/true"],
        "user": {"uid": 0, "gid": 0},
    },
}

# Same content as `runc spec` (runc 1.1.5) writes.
RUNC_SPEC_CONFIG: dict = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": True,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ],
        "cwd": "/",
        "capabilities": {
            "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": [
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [
            {"type": "pid"},
            {"type": "network"},
            {"type": "ipc"},
            {"type": "uts"},
            {"type": "mount"},
        ],
        "maskedPaths": [
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
        ],
        "readonlyPaths": [
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger",
        ],
    },
}


def _runc_rootless() -> dict:
    """What `runc spec --rootless` changes relative to `runc spec`."""
    cfg = copy.deepcopy(RUNC_SPEC_CONFIG)
    cfg["mounts"][5] = {
        "destination": "/sys",
        "type": "none",
        "source": "/sys",
        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
    }
    linux = cfg["linux"]
    del linux["resources"]
    linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    linux["namespaces"] = [
        {"type": "pid"},
        {"type": "ipc"},
        {"type": "uts"},
        {"type": "mount"},
        {"type": "user"},
    ]
    return cfg


def _crun_spec() -> dict:
    """What `crun spec` changes relative to `runc spec`."""
    cfg = copy.deepcopy(RUNC_SPEC_CONFIG)
    cfg["ociVersion"] = "1.0.0"
    cfg["hostname"] = "crun"
    cfg["process"]["capabilities"]["inheritable"] = []
    return cfg


# A config in the style podman/conmon hand to an OCI runtime.
PODMAN_LIKE_CONFIG: dict = {
    "ociVersion": "1.2.0",
    "process": {
        "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [1000, 10]},
        "args": ["/usr/bin/python3", "-m", "http.server", "8080"],
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOSTNAME=webapp",
            "container=podman",
            "HOME=/home/app",
        ],
        "cwd": "/srv/www",
        "capabilities": {
            "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"],
            "effective": [],
            "permitted": [],
            "inheritable": [],
            "ambient": [],
        },
        "rlimits": [
            {"type": "RLIMIT_NOFILE", "hard": 524288, "soft": 524288},
            {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304},
        ],
        "noNewPrivileges": True,
        "oomScoreAdj": 0,
        "selinuxLabel": "system_u:system_r:container_t:s0:c123,c456",
        "apparmorProfile": "containers-default-0.50.1",
    },
    "root": {"path": "/var/lib/containers/storage/overlay/4f1c/merged"},
    "hostname": "webapp",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/etc/resolv.conf",
            "type": "bind",
            "source": "/run/containers/storage/overlay-containers/4f1c/userdata/resolv.conf",
            "options": ["bind", "rprivate"],
        },
        {
            "destination": "/srv/www",
            "type": "bind",
            "source": "/home/alice/site",
            "options": ["rbind", "ro", "nosuid", "nodev", "rprivate"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"],
        },
        {
            "destination": "/dev/shm",
            "type": "bind",
            "source": "/var/lib/containers/storage/overlay-containers/4f1c/userdata/shm",
            "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"],
        },
    ],
    "hooks": {
        "createRuntime": [
            {
                "path": "/usr/libexec/oci/hooks.d/oci-nvidia-hook",
                "args": ["oci-nvidia-hook", "createRuntime"],
                "env": ["DEBUG=0"],
                "timeout": 30,
            }
        ],
        "poststop": [
            {
                "path": "/usr/bin/podman",
                "args": ["/usr/bin/podman", "--root", "/var/lib/containers/storage", "container", "cleanup", "4f1c"],
            }
        ],
    },
    "annotations": {
        "io.container.manager": "libpod",
        "io.podman.annotations.autoremove": "FALSE",
        "org.opencontainers.image.stopSignal": "15",
        "org.systemd.property.KillSignal": "15",
        "empty.value.is.fine": "",
    },
    "linux": {
        "sysctl": {"net.ipv4.ping_group_range": "0 0"},
        "resources": {
            "devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}],
            "memory": {"limit": 536870912, "swap": 1073741824, "reservation": -1, "disableOOMKiller": False},
            "cpu": {"shares": 1024, "quota": 150000, "burst": 50000, "period": 100000, "cpus": "0-3,7", "mems": "0", "idle": 0},
            "pids": {"limit": 2048},
            "blockIO": {
                "weight": 500,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 10485760}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
            },
            "hugepageLimits": [{"pageSize": "2MB", "limit": 0}, {"pageSize": "1GB", "limit": 0}],
            "unified": {"memory.high": "400000000", "io.max": "8:0 rbps=2097152 wiops=120"},
        },
        "cgroupsPath": "machine.slice:libpod:4f1c",
        "namespaces": [
            {"type": "pid"},
            {"type": "network", "path": "/run/netns/netns-7a1b2c3d"},
            {"type": "ipc"},
            {"type": "uts"},
            {"type": "mount"},
            {"type": "cgroup"},
        ],
        "seccomp": {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {
                    "names": ["bdflush", "io_pgetevents", "kexec_file_load", "kexec_load", "pciconfig_iobase"],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": 1,
                },
                {
                    "names": ["accept", "accept4", "access", "read", "write", "exit_group", "futex"],
                    "action": "SCMP_ACT_ALLOW",
                },
                {
                    "names": ["personality"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
                },
                {
                    "names": ["clone"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                },
            ],
        },
        "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"],
        "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        "mountLabel": "system_u:object_r:container_file_t:s0:c123,c456",
    },
}

# Every Linux field of runtime-spec v1.3.0 at least once.
EVERYTHING_CONFIG: dict = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "all",
    "domainname": "example.test",
    "mounts": [
        {
            "destination": "/data",
            "source": "/srv/data",
            "type": "none",
            "options": ["rbind", "ridmap"],
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        },
        {"destination": "relative/is/deprecated/but/allowed", "type": "tmpfs", "source": "tmpfs"},
    ],
    "process": {
        "terminal": True,
        "consoleSize": {"height": 25, "width": 80},
        "cwd": "/root",
        "env": ["TERM=xterm"],
        "args": ["sh"],
        "commandLine": "sh",
        "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615}],
        "apparmorProfile": "acme",
        "capabilities": {
            "effective": ["CAP_KILL"],
            "bounding": ["CAP_KILL"],
            "inheritable": ["CAP_KILL"],
            "permitted": ["CAP_KILL"],
            "ambient": ["CAP_KILL"],
        },
        "noNewPrivileges": True,
        "oomScoreAdj": -500,
        "scheduler": {
            "policy": "SCHED_DEADLINE",
            "nice": -5,
            "priority": 0,
            "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_DL_OVERRUN"],
            "runtime": 10000000,
            "deadline": 30000000,
            "period": 30000000,
        },
        "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
        "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 7},
        "execCPUAffinity": {"initial": "7", "final": "0-3,7"},
        "user": {"uid": 1, "gid": 1, "umask": 63, "additionalGids": [5, 6], "username": "someone"},
    },
    "hooks": {
        "prestart": [{"path": "/usr/bin/fix-mounts", "args": ["fix-mounts", "arg1"], "env": ["key1=value1"]}],
        "createRuntime": [{"path": "/usr/bin/setup-network"}],
        "createContainer": [{"path": "/usr/bin/mount-hook", "timeout": 1}],
        "startContainer": [{"path": "/usr/bin/refresh-ldcache"}],
        "poststart": [{"path": "/usr/bin/notify-start", "timeout": 5}],
        "poststop": [{"path": "/usr/sbin/cleanup.sh", "args": ["cleanup.sh", "-f"]}],
    },
    "annotations": {"com.example.key1": "value1"},
    "linux": {
        "namespaces": [
            {"type": "pid", "path": "/proc/1234/ns/pid"},
            {"type": "network"},
            {"type": "mount"},
            {"type": "ipc"},
            {"type": "uts"},
            {"type": "user"},
            {"type": "cgroup"},
            {"type": "time"},
        ],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 32000}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 32000}],
        "timeOffsets": {
            "monotonic": {"secs": 172800, "nanosecs": 0},
            "boottime": {"secs": -604800, "nanosecs": 999999999},
        },
        "devices": [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "fileMode": 432},
            {"path": "/dev/myfifo", "type": "p"},
        ],
        "netDevices": {"eth1": {"name": "ctr1"}, "ens4": {}},
        "cgroupsPath": "/myRuntime/myContainer",
        "resources": {
            "devices": [
                {"allow": False, "access": "rwm"},
                {"allow": True, "type": "a"},
                {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"},
            ],
            "memory": {
                "limit": 536870912,
                "reservation": 536870912,
                "swap": 536870912,
                "kernel": -1,
                "kernelTCP": -1,
                "swappiness": 0,
                "disableOOMKiller": False,
                "useHierarchy": True,
                "checkBeforeUpdate": True,
            },
            "cpu": {
                "shares": 1024,
                "quota": 1000000,
                "burst": 1000000,
                "period": 500000,
                "realtimeRuntime": 950000,
                "realtimePeriod": 1000000,
                "cpus": "2-3",
                "mems": "0-7",
                "idle": 1,
            },
            "blockIO": {
                "weight": 10,
                "leafWeight": 10,
                "weightDevice": [
                    {"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                    {"major": 8, "minor": 16, "leafWeight": 500},
                ],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
            },
            "hugepageLimits": [
                {"pageSize": "2MB", "limit": 9223372036854772000},
                {"pageSize": "64KB", "limit": 1000000},
            ],
            "network": {
                "classID": 1048577,
                "priorities": [{"name": "eth0", "priority": 500}, {"name": "eth1", "priority": 1000}],
            },
            "pids": {"limit": -1},
            "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {"hcaObjects": 1000}},
            "unified": {"io.max": "259:0 rbps=2097152 wiops=120", "hugetlb.1GB.max": "1073741824"},
        },
        "intelRdt": {
            "closID": "guaranteed_group",
            "l3CacheSchema": "L3:0=7f0;1=1f",
            "memBwSchema": "MB:0=20;1=70",
            "schemata": ["L3:0=7f0;1=1f", "L2:0=f;1=f", "MB:0=20;1=70"],
            "enableMonitoring": True,
        },
        "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "2-3", "flags": ["MPOL_F_STATIC_NODES"]},
        "sysctl": {"net.ipv4.ip_forward": "1", "net.core.somaxconn": "256"},
        "seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_RISCV64"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            "listenerPath": "/run/seccomp-agent.socket",
            "listenerMetadata": "MKNOD=/dev/null",
            "syscalls": [
                {"names": ["getcwd", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"},
                {
                    "names": ["socket"],
                    "action": "SCMP_ACT_KILL_PROCESS",
                    "args": [
                        {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
                        {"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_NE"},
                    ],
                },
            ],
        },
        "rootfsPropagation": "slave",
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
        "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
        "personality": {"domain": "LINUX32", "flags": []},
    },
    "windows": {"layerFolders": ["C:\\layers\\a"]},
    "solaris": {"milestone": "svc:/milestone/container:default"},
    "vm": {"kernel": {"path": "/path/to/vmlinuz"}},
    "zos": {"namespaces": [{"type": "pid"}]},
    "freebsd": {"jail": {"parent": "outer"}},
}


@pytest.mark.parametrize(
    "schema", [CONFIG_SCHEMA, STATE_SCHEMA], ids=["config-schema", "state-schema"]
)
def test_schema_is_a_valid_draft_2020_12_schema(schema: dict) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemas_share_the_version_rule() -> None:
    assert (
        CONFIG_SCHEMA["$defs"]["ociVersion"]["pattern"]
        == STATE_SCHEMA["$defs"]["ociVersion"]["pattern"]
    )


@pytest.mark.parametrize(
    "doc",
    [
        MINIMAL_CONFIG,
        MINIMAL_CONFIG_WITH_PROCESS,
        RUNC_SPEC_CONFIG,
        _runc_rootless(),
        _crun_spec(),
        PODMAN_LIKE_CONFIG,
        EVERYTHING_CONFIG,
    ],
    ids=["minimal", "minimal-process", "runc-spec", "runc-spec-rootless", "crun-spec", "podman-like", "everything"],
)
def test_valid_configs(doc: dict) -> None:
    assert_valid(CONFIG_VALIDATOR, doc)


@pytest.mark.parametrize(
    "version", ["1.0.0", "1.0.1", "1.0.2-dev", "1.1.0", "1.2.0-rc.1", "1.2.1", "1.3.0", "1.3.0+dev", "1.3.12"]
)
def test_accepted_oci_versions(version: str) -> None:
    doc = dict(MINIMAL_CONFIG, ociVersion=version)
    assert_valid(CONFIG_VALIDATOR, doc)


@pytest.mark.parametrize(
    "version",
    ["2.0.0", "0.9", 5, "0.1.0", "1.4.0", "1.3", "1", "1.01.0", "1.0.01", "v1.0.0", "1.0.0-", "1.0.0 ", "", None, 1.0],
)
def test_rejected_oci_versions(version: Any) -> None:
    doc = dict(MINIMAL_CONFIG, ociVersion=version)
    assert error_paths(CONFIG_VALIDATOR, doc) == {"ociVersion"}


def test_unknown_properties_are_ignored_everywhere() -> None:
    doc = copy.deepcopy(EVERYTHING_CONFIG)
    doc["com.example.extension"] = {"anything": [1, 2, 3]}
    doc["root"]["x-extra"] = True
    doc["mounts"][0]["x-extra"] = 1
    doc["process"]["x-extra"] = "yes"
    doc["process"]["user"]["x-extra"] = None
    doc["hooks"]["x-future-hook"] = [{"path": "relative-is-not-checked-here"}]
    doc["linux"]["x-extra"] = {}
    doc["linux"]["namespaces"][0]["x-extra"] = 0
    doc["linux"]["resources"]["memory"]["x-extra"] = -7
    doc["linux"]["seccomp"]["syscalls"][0]["x-extra"] = "ok"
    assert_valid(CONFIG_VALIDATOR, doc)


# --------------------------------------------------------------------------
# Documents that must not validate, with the path of the offending element
# --------------------------------------------------------------------------

Mutator = Callable[[dict], None]


def _set(path: str, value: Any) -> Mutator:
    """Mutator that sets the element at dotted ``path`` ('a.b.0.c')."""

    def apply(doc: dict) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _delete(path: str) -> Mutator:
    def apply(doc: dict) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            del node[int(last)]
        else:
            del node[last]

    return apply


def _append(path: str, value: Any) -> Mutator:
    def apply(doc: dict) -> None:
        node: Any = doc
        for key in path.split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        node.append(value)

    return apply


# (id, base document, mutation, expected path of the failing element)
INVALID_CONFIGS: list[tuple[str, dict, Mutator, str]] = [
    # top level
    ("ociVersion-missing", MINIMAL_CONFIG, _delete("ociVersion"), "ociVersion"),
    ("ociVersion-major-2", MINIMAL_CONFIG, _set("ociVersion", "2.0.0"), "ociVersion"),
    ("root-missing", MINIMAL_CONFIG, _delete("root"), "root"),
    ("root-path-missing", MINIMAL_CONFIG, _set("root", {"readonly": True}), "root.path"),
    ("root-readonly-string", RUNC_SPEC_CONFIG, _set("root.readonly", "yes"), "root.readonly"),
    ("hostname-number", RUNC_SPEC_CONFIG, _set("hostname", 42), "hostname"),
    ("domainname-list", RUNC_SPEC_CONFIG, _set("domainname", ["a"]), "domainname"),
    ("annotation-value-int", PODMAN_LIKE_CONFIG, _set("annotations.gpus", 1), "annotations.gpus"),
    ("annotation-empty-key", PODMAN_LIKE_CONFIG, _set("annotations.", "x"), "annotations"),
    ("windows-not-object", MINIMAL_CONFIG, _set("windows", "C:\\"), "windows"),
    ("linux-not-object", MINIMAL_CONFIG, _set("linux", []), "linux"),
    # process
    ("process-args-missing", RUNC_SPEC_CONFIG, _delete("process.args"), "process.args"),
    ("process-args-empty", RUNC_SPEC_CONFIG, _set("process.args", []), "process.args"),
    ("process-args-not-string", RUNC_SPEC_CONFIG, _set("process.args", ["sh", 1]), "process.args[1]"),
    ("process-cwd-missing", RUNC_SPEC_CONFIG, _delete("process.cwd"), "process.cwd"),
    ("process-cwd-relative", RUNC_SPEC_CONFIG, _set("process.cwd", "tmp"), "process.cwd"),
    ("process-env-string", RUNC_SPEC_CONFIG, _set("process.env", "PATH=/bin"), "process.env"),
    ("process-terminal-string", RUNC_SPEC_CONFIG, _set("process.terminal", "true"), "process.terminal"),
    ("process-consoleSize-no-width", RUNC_SPEC_CONFIG, _set("process.consoleSize", {"height": 25}), "process.consoleSize.width"),
    ("process-user-missing", RUNC_SPEC_CONFIG, _delete("process.user"), "process.user"),
    ("process-user-uid-missing", RUNC_SPEC_CONFIG, _delete("process.user.uid"), "process.user.uid"),
    ("process-user-uid-negative", RUNC_SPEC_CONFIG, _set("process.user.uid", -1), "process.user.uid"),
    ("process-user-gid-too-big", RUNC_SPEC_CONFIG, _set("process.user.gid", 2**32), "process.user.gid"),
    ("process-user-additionalGids-str", RUNC_SPEC_CONFIG, _set("process.user.additionalGids", [5, "6"]), "process.user.additionalGids[1]"),
    ("process-rlimit-soft-negative", RUNC_SPEC_CONFIG, _set("process.rlimits.0.soft", -1), "process.rlimits[0].soft"),
    ("process-rlimit-hard-missing", RUNC_SPEC_CONFIG, _delete("process.rlimits.0.hard"), "process.rlimits[0].hard"),
    ("process-rlimit-type-bad", RUNC_SPEC_CONFIG, _set("process.rlimits.0.type", "NOFILE"), "process.rlimits[0].type"),
    ("process-caps-not-array", RUNC_SPEC_CONFIG, _set("process.capabilities.bounding", "CAP_KILL"), "process.capabilities.bounding"),
    ("process-oomScoreAdj-float", RUNC_SPEC_CONFIG, _set("process.oomScoreAdj", 1.5), "process.oomScoreAdj"),
    ("process-noNewPrivileges-int", RUNC_SPEC_CONFIG, _set("process.noNewPrivileges", 1), "process.noNewPrivileges"),
    ("process-scheduler-policy", EVERYTHING_CONFIG, _set("process.scheduler.policy", "SCHED_FOO"), "process.scheduler.policy"),
    ("process-scheduler-flag", EVERYTHING_CONFIG, _set("process.scheduler.flags", ["SCHED_FLAG_FOO"]), "process.scheduler.flags[0]"),
    ("process-ioPriority-priority-8", EVERYTHING_CONFIG, _set("process.ioPriority.priority", 8), "process.ioPriority.priority"),
    ("process-ioPriority-class", EVERYTHING_CONFIG, _set("process.ioPriority.class", "IOPRIO_CLASS_NONE"), "process.ioPriority.class"),
    ("process-execCPUAffinity-final", EVERYTHING_CONFIG, _set("process.execCPUAffinity.final", "0-3;7"), "process.execCPUAffinity.final"),
    # mounts
    ("mount-destination-missing", RUNC_SPEC_CONFIG, _delete("mounts.1.destination"), "mounts[1].destination"),
    ("mount-destination-number", RUNC_SPEC_CONFIG, _set("mounts.1.destination", 7), "mounts[1].destination"),
    ("mount-options-string", RUNC_SPEC_CONFIG, _set("mounts.0.options", "ro"), "mounts[0].options"),
    ("mount-uid-without-gid", EVERYTHING_CONFIG, _delete("mounts.0.gidMappings"), "mounts[0].gidMappings"),
    ("mount-mapping-size-negative", EVERYTHING_CONFIG, _set("mounts.0.uidMappings.0.size", -1), "mounts[0].uidMappings[0].size"),
    # hooks
    ("hook-path-missing", EVERYTHING_CONFIG, _set("hooks.prestart.0", {"args": ["x"]}), "hooks.prestart[0].path"),
    ("hook-path-relative", EVERYTHING_CONFIG, _set("hooks.createRuntime.0.path", "setup-network"), "hooks.createRuntime[0].path"),
    ("hook-timeout-zero", EVERYTHING_CONFIG, _set("hooks.poststart.0.timeout", 0), "hooks.poststart[0].timeout"),
    ("hook-timeout-string", EVERYTHING_CONFIG, _set("hooks.createContainer.0.timeout", "5"), "hooks.createContainer[0].timeout"),
    ("hooks-poststop-object", EVERYTHING_CONFIG, _set("hooks.poststop", {"path": "/bin/true"}), "hooks.poststop"),
    # linux: namespaces, mappings, time, devices
    ("namespace-type-bad", RUNC_SPEC_CONFIG, _set("linux.namespaces.0.type", "net"), "linux.namespaces[0].type"),
    ("namespace-type-missing", RUNC_SPEC_CONFIG, _set("linux.namespaces.1", {"path": "/proc/1/ns/net"}), "linux.namespaces[1].type"),
    ("namespace-path-relative", RUNC_SPEC_CONFIG, _set("linux.namespaces.1.path", "proc/1/ns/net"), "linux.namespaces[1].path"),
    ("uidMapping-size-negative", EVERYTHING_CONFIG, _set("linux.uidMappings.0.size", -1), "linux.uidMappings[0].size"),
    ("gidMapping-hostID-missing", EVERYTHING_CONFIG, _delete("linux.gidMappings.0.hostID"), "linux.gidMappings[0].hostID"),
    ("timeOffset-nanosecs-negative", EVERYTHING_CONFIG, _set("linux.timeOffsets.monotonic.nanosecs", -5), "linux.timeOffsets.monotonic.nanosecs"),
    ("timeOffset-secs-string", EVERYTHING_CONFIG, _set("linux.timeOffsets.boottime.secs", "1"), "linux.timeOffsets.boottime.secs"),
    ("device-type-bad", EVERYTHING_CONFIG, _set("linux.devices.0.type", "x"), "linux.devices[0].type"),
    ("device-char-without-major", EVERYTHING_CONFIG, _delete("linux.devices.0.major"), "linux.devices[0].major"),
    ("device-path-missing", EVERYTHING_CONFIG, _delete("linux.devices.1.path"), "linux.devices[1].path"),
    ("device-fileMode-negative", EVERYTHING_CONFIG, _set("linux.devices.1.fileMode", -1), "linux.devices[1].fileMode"),
    ("netDevice-name-number", EVERYTHING_CONFIG, _set("linux.netDevices.eth1.name", 5), "linux.netDevices.eth1.name"),
    # linux.resources
    ("cgroup-device-allow-missing", RUNC_SPEC_CONFIG, _delete("linux.resources.devices.0.allow"), "linux.resources.devices[0].allow"),
    ("cgroup-device-access-bad", RUNC_SPEC_CONFIG, _set("linux.resources.devices.0.access", "rwx"), "linux.resources.devices[0].access"),
    ("cgroup-device-type-bad", EVERYTHING_CONFIG, _set("linux.resources.devices.1.type", "p"), "linux.resources.devices[1].type"),
    ("memory-limit-below-minus-one", PODMAN_LIKE_CONFIG, _set("linux.resources.memory.limit", -2), "linux.resources.memory.limit"),
    ("memory-swappiness-negative", EVERYTHING_CONFIG, _set("linux.resources.memory.swappiness", -1), "linux.resources.memory.swappiness"),
    ("memory-oomkiller-string", EVERYTHING_CONFIG, _set("linux.resources.memory.disableOOMKiller", "false"), "linux.resources.memory.disableOOMKiller"),
    ("cpu-shares-string", PODMAN_LIKE_CONFIG, _set("linux.resources.cpu.shares", "1024"), "linux.resources.cpu.shares"),
    ("cpu-cpus-bad-list", PODMAN_LIKE_CONFIG, _set("linux.resources.cpu.cpus", "0-3;7"), "linux.resources.cpu.cpus"),
    ("cpu-burst-negative", PODMAN_LIKE_CONFIG, _set("linux.resources.cpu.burst", -1), "linux.resources.cpu.burst"),
    ("blkio-weight-too-big", EVERYTHING_CONFIG, _set("linux.resources.blockIO.weight", 70000), "linux.resources.blockIO.weight"),
    ("blkio-weightDevice-no-weight", EVERYTHING_CONFIG, _set("linux.resources.blockIO.weightDevice.1", {"major": 8, "minor": 16}), "linux.resources.blockIO.weightDevice[1]"),
    ("blkio-throttle-rate-missing", EVERYTHING_CONFIG, _delete("linux.resources.blockIO.throttleReadBpsDevice.0.rate"), "linux.resources.blockIO.throttleReadBpsDevice[0].rate"),
    ("blkio-throttle-major-missing", EVERYTHING_CONFIG, _delete("linux.resources.blockIO.throttleWriteIOPSDevice.0.major"), "linux.resources.blockIO.throttleWriteIOPSDevice[0].major"),
    ("hugepage-pageSize-bad", EVERYTHING_CONFIG, _set("linux.resources.hugepageLimits.0.pageSize", "2 megabytes"), "linux.resources.hugepageLimits[0].pageSize"),
    ("hugepage-limit-negative", EVERYTHING_CONFIG, _set("linux.resources.hugepageLimits.1.limit", -1), "linux.resources.hugepageLimits[1].limit"),
    ("network-priority-negative", EVERYTHING_CONFIG, _set("linux.resources.network.priorities.0.priority", -1), "linux.resources.network.priorities[0].priority"),
    ("network-classID-too-big", EVERYTHING_CONFIG, _set("linux.resources.network.classID", 2**32), "linux.resources.network.classID"),
    ("pids-limit-string", EVERYTHING_CONFIG, _set("linux.resources.pids.limit", "max"), "linux.resources.pids.limit"),
    ("rdma-entry-empty", EVERYTHING_CONFIG, _set("linux.resources.rdma.mlx5_1", {}), "linux.resources.rdma.mlx5_1"),
    ("unified-value-int", EVERYTHING_CONFIG, _set("linux.resources.unified.memory", 1024), "linux.resources.unified.memory"),
    # linux: everything else
    ("intelRdt-memBwSchema-prefix", EVERYTHING_CONFIG, _set("linux.intelRdt.memBwSchema", "L3:0=7f0"), "linux.intelRdt.memBwSchema"),
    ("intelRdt-schemata-newline", EVERYTHING_CONFIG, _set("linux.intelRdt.schemata.1", "L2:0=f\nMB:0=20"), "linux.intelRdt.schemata[1]"),
    ("memoryPolicy-mode-bad", EVERYTHING_CONFIG, _set("linux.memoryPolicy.mode", "MPOL_FOO"), "linux.memoryPolicy.mode"),
    ("memoryPolicy-mode-missing", EVERYTHING_CONFIG, _delete("linux.memoryPolicy.mode"), "linux.memoryPolicy.mode"),
    ("memoryPolicy-flag-bad", EVERYTHING_CONFIG, _set("linux.memoryPolicy.flags", ["MPOL_F_FOO"]), "linux.memoryPolicy.flags[0]"),
    ("sysctl-value-int", EVERYTHING_CONFIG, _set("linux.sysctl.kernel", 1), "linux.sysctl.kernel"),
    ("seccomp-defaultAction-bad", PODMAN_LIKE_CONFIG, _set("linux.seccomp.defaultAction", "SCMP_ACT_DENY"), "linux.seccomp.defaultAction"),
    ("seccomp-defaultAction-missing", PODMAN_LIKE_CONFIG, _delete("linux.seccomp.defaultAction"), "linux.seccomp.defaultAction"),
    ("seccomp-arch-bad", PODMAN_LIKE_CONFIG, _set("linux.seccomp.architectures.1", "SCMP_ARCH_Z80"), "linux.seccomp.architectures[1]"),
    ("seccomp-flag-bad", EVERYTHING_CONFIG, _set("linux.seccomp.flags.0", "SECCOMP_FILTER_FLAG_FOO"), "linux.seccomp.flags[0]"),
    ("seccomp-metadata-without-path", EVERYTHING_CONFIG, _delete("linux.seccomp.listenerPath"), "linux.seccomp.listenerPath"),
    ("seccomp-names-empty", PODMAN_LIKE_CONFIG, _set("linux.seccomp.syscalls.0.names", []), "linux.seccomp.syscalls[0].names"),
    ("seccomp-action-missing", PODMAN_LIKE_CONFIG, _delete("linux.seccomp.syscalls.1.action"), "linux.seccomp.syscalls[1].action"),
    ("seccomp-errnoRet-negative", PODMAN_LIKE_CONFIG, _set("linux.seccomp.syscalls.0.errnoRet", -1), "linux.seccomp.syscalls[0].errnoRet"),
    ("seccomp-arg-op-bad", PODMAN_LIKE_CONFIG, _set("linux.seccomp.syscalls.2.args.0.op", "SCMP_CMP_FOO"), "linux.seccomp.syscalls[2].args[0].op"),
    ("seccomp-arg-index-missing", PODMAN_LIKE_CONFIG, _delete("linux.seccomp.syscalls.3.args.0.index"), "linux.seccomp.syscalls[3].args[0].index"),
    ("seccomp-arg-value-too-big", PODMAN_LIKE_CONFIG, _set("linux.seccomp.syscalls.3.args.0.value", 2**64), "linux.seccomp.syscalls[3].args[0].value"),
    ("rootfsPropagation-bad", EVERYTHING_CONFIG, _set("linux.rootfsPropagation", "everywhere"), "linux.rootfsPropagation"),
    ("maskedPath-relative", RUNC_SPEC_CONFIG, _set("linux.maskedPaths.2", "proc/kcore"), "linux.maskedPaths[2]"),
    ("readonlyPath-number", RUNC_SPEC_CONFIG, _set("linux.readonlyPaths.0", 1), "linux.readonlyPaths[0]"),
    ("mountLabel-number", EVERYTHING_CONFIG, _set("linux.mountLabel", 7), "linux.mountLabel"),
    ("personality-domain-bad", EVERYTHING_CONFIG, _set("linux.personality.domain", "LINUX64"), "linux.personality.domain"),
    ("cgroupsPath-number", EVERYTHING_CONFIG, _set("linux.cgroupsPath", 5), "linux.cgroupsPath"),
]


@pytest.mark.parametrize(
    "base, mutate, expected_path",
    [case[1:] for case in INVALID_CONFIGS],
    ids=[case[0] for case in INVALID_CONFIGS],
)
def test_invalid_configs(base: dict, mutate: Mutator, expected_path: str) -> None:
    doc = copy.deepcopy(base)
    assert_valid(CONFIG_VALIDATOR, doc)  # the base itself is fine ...
    mutate(doc)
    paths = error_paths(CONFIG_VALIDATOR, doc)
    assert paths, "mutated config unexpectedly validated"
    # exactly the mutated element is blamed, nothing else
    assert paths == {expected_path}, f"expected an error at {expected_path!r}, got {sorted(paths)}"


def test_there_are_enough_invalid_cases() -> None:
    assert len(INVALID_CONFIGS) >= 25
    assert len({case[0] for case in INVALID_CONFIGS}) == len(INVALID_CONFIGS)


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------

RUNNING_STATE: dict = {
    "ociVersion": "1.3.0",
    "id": "oci-container1",
    "status": "running",
    "pid": 4422,
    "bundle": "/containers/redis",
    "annotations": {"myKey": "myValue"},
}


@pytest.mark.parametrize(
    "doc",
    [
        RUNNING_STATE,
        dict(RUNNING_STATE, status="created"),
        dict(RUNNING_STATE, status="creating"),
        dict(RUNNING_STATE, status="paused"),
        {"ociVersion": "1.0.2-dev", "id": "c", "status": "stopped", "bundle": "/b"},
        {"ociVersion": "1.2.1", "id": "c", "status": "stopped", "pid": 0, "bundle": "/b", "annotations": {}},
        {"ociVersion": "1.3.0", "id": "c", "status": "creating", "bundle": "/b"},
        dict(RUNNING_STATE, extra={"runtime": "pyoci"}),
    ],
    ids=["running", "created", "creating", "paused", "stopped-no-pid", "stopped-pid-0", "creating-no-pid", "extra-field"],
)
def test_valid_states(doc: dict) -> None:
    assert_valid(STATE_VALIDATOR, doc)


def _without(doc: dict, key: str) -> dict:
    return {k: v for k, v in doc.items() if k != key}


@pytest.mark.parametrize(
    "doc, expected_path",
    [
        (_without(RUNNING_STATE, "ociVersion"), "ociVersion"),
        (dict(RUNNING_STATE, ociVersion="2.0.0"), "ociVersion"),
        (dict(RUNNING_STATE, ociVersion=5), "ociVersion"),
        (_without(RUNNING_STATE, "id"), "id"),
        (dict(RUNNING_STATE, id=""), "id"),
        (_without(RUNNING_STATE, "status"), "status"),
        (dict(RUNNING_STATE, status="exploded"), "status"),
        (_without(RUNNING_STATE, "pid"), "pid"),
        (dict(_without(RUNNING_STATE, "pid"), status="created"), "pid"),
        (dict(RUNNING_STATE, pid=-1), "pid"),
        (dict(RUNNING_STATE, pid="4422"), "pid"),
        (_without(RUNNING_STATE, "bundle"), "bundle"),
        (dict(RUNNING_STATE, bundle="containers/redis"), "bundle"),
        (dict(RUNNING_STATE, annotations={"k": 1}), "annotations.k"),
        (dict(RUNNING_STATE, annotations=["k=v"]), "annotations"),
    ],
    ids=[
        "no-ociVersion",
        "ociVersion-2",
        "ociVersion-number",
        "no-id",
        "empty-id",
        "no-status",
        "status-unknown",
        "running-no-pid",
        "created-no-pid",
        "pid-negative",
        "pid-string",
        "no-bundle",
        "bundle-relative",
        "annotation-int",
        "annotations-list",
    ],
)
def test_invalid_states(doc: dict, expected_path: str) -> None:
    paths = error_paths(STATE_VALIDATOR, doc)
    assert paths == {expected_path}, f"expected an error at {expected_path!r}, got {sorted(paths)}"
