"""Semantic checks of config.json that its JSON Schema cannot express (create).

(Absolute hook, cwd and namespace paths are the schema's; mount
destinations, which the schema leaves loose for older configs, must be
absolute here.)

Each check raises ConfigError naming the field; they run after the schema,
so types and required fields can be taken as given.
"""

from pyoci.core import paths
from pyoci.core.errors import ConfigError

# sysctls a namespace isolates, and which namespace (as runc allows them).
IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}
UTS_SYSCTLS = {"kernel.hostname", "kernel.domainname"}


def _get(config, path):
    node = config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def check_namespaces(config):
    seen = set()
    for i, ns in enumerate(config.get("linux", {}).get("namespaces", [])):
        if ns["type"] in seen:
            raise ConfigError(f"linux.namespaces[{i}].type: duplicate {ns['type']} namespace")
        seen.add(ns["type"])
    types = {ns["type"]: ns.get("path") for ns in config.get("linux", {}).get("namespaces", [])}
    linux = config.get("linux", {})
    if "mount" not in types and linux.get("rootfsPropagation"):
        raise ConfigError("linux.rootfsPropagation: needs a mount namespace (it would change the host's)")
    for key in ("uidMappings", "gidMappings"):
        if linux.get(key) and "user" not in types:
            raise ConfigError(f"linux.{key}: id mappings need a user namespace")
        if linux.get(key) and types.get("user"):
            raise ConfigError(f"linux.{key}: a joined user namespace (path) already has its mappings")
    if "user" in types and not types["user"]:
        for key in ("uidMappings", "gidMappings"):
            if not linux.get(key):
                raise ConfigError(f"linux.{key}: a new user namespace needs mappings")
    if linux.get("timeOffsets") and "time" not in types:
        raise ConfigError("linux.timeOffsets: needs a time namespace")
    if linux.get("timeOffsets") and types.get("time"):
        raise ConfigError("linux.timeOffsets: cannot be set on a joined time namespace")
    if config.get("hostname") and "uts" not in types:
        raise ConfigError("hostname: setting the hostname needs a UTS namespace")
    if config.get("domainname") and "uts" not in types:
        raise ConfigError("domainname: setting the domainname needs a UTS namespace")
    for key in linux.get("sysctl", {}):
        field = f"linux.sysctl.{key}"
        if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
            if "ipc" not in types:
                raise ConfigError(f"{field}: needs an IPC namespace")
        elif key.startswith("net."):
            if "network" not in types:
                raise ConfigError(f"{field}: needs a network namespace")
        elif key in UTS_SYSCTLS:
            if "uts" not in types:
                raise ConfigError(f"{field}: needs a UTS namespace")
        else:
            raise ConfigError(f"{field}: not a namespaced sysctl; it would change the host")


def check_root(config, bundle):
    root = paths.join(bundle, config["root"]["path"])
    if not paths.isdir(root):
        raise ConfigError(f"root.path: {root}: no such directory")


def check_process(config):
    process = config.get("process")
    if process is None:
        return
    if not process["args"][0]:
        raise ConfigError("process.args[0]: must not be empty")
    for i, item in enumerate(process.get("env", [])):
        if "=" not in item:
            raise ConfigError(f"process.env[{i}]: {item!r} is not KEY=value")


def check_mounts(config):
    for i, m in enumerate(config.get("mounts", [])):
        if not paths.isabs(m["destination"]):
            raise ConfigError(f"mounts[{i}].destination: must be an absolute path")


def check_net_devices(config):
    if _get(config, ("linux", "netDevices")):
        from pyoci.network_devices import check_devices

        check_devices(config)


def check_intel_rdt(config):
    if _get(config, ("linux", "intelRdt")) is None:
        return
    with open("/proc/filesystems") as f:
        if "resctrl" not in f.read():
            raise ConfigError("linux.intelRdt: this host has no resctrl filesystem (Intel RDT, AMD QoS)")
    raise ConfigError("linux.intelRdt: resctrl groups are not supported by pyoci yet")


def check(config, bundle):
    check_root(config, bundle)
    check_namespaces(config)
    check_process(config)
    check_mounts(config)
    check_net_devices(config)
    check_intel_rdt(config)
