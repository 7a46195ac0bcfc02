"""`features`: what this runtime implements, per runtime-spec features.md."""
from pyoci import SPEC_VERSION, __version__
from pyoci.plan.mounts import COPY_UP, FLAG_OPTIONS, IDMAP_OPTIONS, PROPAGATION, RECURSIVE_OPTIONS
from pyoci.plan.namespaces import FLAGS
from pyoci.plan.tuning import MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES
from pyoci.security import apparmor
from pyoci.security.capabilities import NAMES, last_cap
from pyoci.spec.load import read_schema


def seccomp_features(schema_defs):
    """What pyoci compiles, and of that what the running kernel (actions,
    flags) and libseccomp (architectures) take."""
    from pyoci.security import libseccomp
    from pyoci.security.seccomp import ACTIONS, FLAGS, NEW_LISTENER, OPERATORS, libseccomp_arch

    def supported(flag):
        # The kernel takes WAIT_KILLABLE_RECV only with a notify listener.
        extra = NEW_LISTENER if flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" else 0
        return libseccomp.flags_supported(FLAGS[flag] | extra)

    return {
        "enabled": True,
        "actions": sorted(a for a, value in ACTIONS.items() if libseccomp.action_available(value)),
        "operators": sorted(OPERATORS),
        "archs": [a for a in schema_defs["seccompArch"]["enum"] if libseccomp.arch_known(libseccomp_arch(a))],
        "knownFlags": sorted(FLAGS),
        "supportedFlags": sorted(f for f in FLAGS if supported(f)),
    }


def features():
    defs = read_schema("config-schema.json")["$defs"]
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": sorted(set(FLAG_OPTIONS) | set(PROPAGATION) | set(RECURSIVE_OPTIONS) | set(IDMAP_OPTIONS)
                              | {COPY_UP}),
        "linux": {
            "namespaces": sorted(FLAGS),
            "capabilities": list(NAMES[: last_cap() + 1]),
            # --systemd-cgroup maps paths onto cgroupfs; pyoci does not talk to systemd.
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": True},
            "seccomp": seccomp_features(defs),
            "apparmor": {"enabled": apparmor.enabled()},
            "selinux": {"enabled": False},
            "memoryPolicy": {"modes": sorted(MEMORY_POLICY_MODES), "flags": sorted(MEMORY_POLICY_FLAGS)},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": True}},
            "netDevices": {"enabled": True},
        },
        "annotations": {"io.github.pyoci.version": __version__},
    }
