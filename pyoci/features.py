"""`features`: what this runtime implements, per runtime-spec features.md."""
from pyoci import SPEC_VERSION, __version__
from pyoci.plan.mounts import COPY_UP, FLAG_OPTIONS, IDMAP_OPTIONS, PROPAGATION, RECURSIVE_OPTIONS
from pyoci.plan.namespaces import FLAGS
from pyoci.security import apparmor
from pyoci.security.capabilities import NAMES, last_cap


def seccomp_features():
    """What pyoci compiles, and of that what the running kernel takes."""
    from pyoci._native._shim import lib
    from pyoci.security.seccomp import ACTIONS, FLAGS, NEW_LISTENER, OPERATORS

    def supported(flag):
        # The kernel takes WAIT_KILLABLE_RECV only with a notify listener.
        extra = NEW_LISTENER if flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" else 0
        return lib.pyoci_seccomp_flags_supported(FLAGS[flag] | extra)

    return {
        "enabled": True,
        "actions": sorted(a for a, value in ACTIONS.items() if lib.pyoci_seccomp_action_available(value)),
        "operators": sorted(OPERATORS),
        "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
        "knownFlags": sorted(FLAGS),
        "supportedFlags": sorted(f for f in FLAGS if supported(f)),
    }


def features():
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": sorted(set(FLAG_OPTIONS) | set(PROPAGATION) | set(RECURSIVE_OPTIONS) | set(IDMAP_OPTIONS)
                              | {COPY_UP}),
        "linux": {
            "namespaces": sorted(FLAGS),
            "capabilities": list(NAMES[: last_cap() + 1]),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": False},
            "seccomp": seccomp_features(),
            "apparmor": {"enabled": apparmor.enabled()},
            "selinux": {"enabled": False},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": True}},
        },
        "annotations": {"io.github.pyoci.version": __version__},
    }
