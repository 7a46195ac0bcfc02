"""`features`: what this runtime implements, per runtime-spec features.md."""
from pyoci import SPEC_VERSION, __version__
from pyoci.plan.mounts import FLAG_OPTIONS, PROPAGATION, RECURSIVE_OPTIONS
from pyoci.plan.namespaces import FLAGS
from pyoci.security.capabilities import NAMES, last_cap


def seccomp_features():
    from pyoci.security.seccomp import ACTIONS, FLAGS, OPERATORS

    return {
        "enabled": True,
        "actions": sorted(ACTIONS),
        "operators": sorted(OPERATORS),
        "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
        "knownFlags": sorted(FLAGS),
        "supportedFlags": sorted(FLAGS),
    }


def features():
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": sorted(set(FLAG_OPTIONS) | set(PROPAGATION) | set(RECURSIVE_OPTIONS)),
        "linux": {
            "namespaces": sorted(FLAGS),
            "capabilities": list(NAMES[: last_cap() + 1]),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": False},
            "seccomp": seccomp_features(),
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {"io.github.pyoci.version": __version__},
    }
