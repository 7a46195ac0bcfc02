"""AppArmor: the profile a container's process runs under (create's init,
or exec's process).

Planned at create or exec, applied in the shim as runc does: before the
uid switch and the capability drop, the process writes "exec PROFILE" to its
own attr file, and the kernel moves it into the profile at execve.  A
profile on a host without AppArmor is an error, not ignored.
"""
from pyoci.core import paths
from pyoci.core.errors import ConfigError

ENABLED = "/sys/module/apparmor/parameters/enabled"
# Since Linux 5.8 each LSM has its own attr directory; older kernels have the shared file.
OWN_ATTR = "/proc/self/attr/apparmor/exec"
SHARED_ATTR = "/proc/self/attr/exec"


def enabled():
    try:
        with open(ENABLED) as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


def add_profile_step(plan, profile, field):
    if not enabled():
        raise ConfigError(f"{field}: AppArmor is not enabled on this host")
    attr = OWN_ATTR if paths.exists(OWN_ATTR) else SHARED_ATTR
    plan.add("WRITE_FILE", f"{field} {profile}: apply", path=attr, content=f"exec {profile}")
