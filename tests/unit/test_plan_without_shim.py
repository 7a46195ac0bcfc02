"""create's planning (pyoci.plan) is plain data and kernel constants the
build generated: it imports, and compiles a plan, where neither compiled
extension can be loaded."""
import subprocess
import sys

WITHOUT_SHIM = """
import sys

class NoExtension:
    def find_spec(self, name, path=None, target=None):
        if name in ("pyoci._native._shim", "pyoci._native._seccomp"):
            raise ImportError(f"{name} blocked")

sys.meta_path.insert(0, NoExtension())
import pyoci.plan.compile, pyoci.plan.devices, pyoci.plan.exec, pyoci.plan.mounts
import pyoci.plan.namespaces, pyoci.plan.process, pyoci.plan.steps, pyoci.plan.tuning
from pyoci.cgroups import Hierarchy
from pyoci.core.log import log
from pyoci.plan.namespaces import close_joins
from pyoci.spec.default import default_config

config = default_config()
config["root"]["path"] = sys.argv[1]
hierarchy = Hierarchy("/sys/fs/cgroup", frozenset({"memory"}), True)
plan = pyoci.plan.compile.compile_plan(config, sys.argv[1], log, {"/sys/fs/cgroup": "/sys/fs/cgroup/x"}, [hierarchy])
close_joins(plan)
try:
    import pyoci.launch.native
except ImportError:
    pass
else:
    raise SystemExit("the block did not hold")
print(plan.steps[-1].op)
assert not {"pyoci._native._shim", "pyoci._native._seccomp", "_cffi_backend"} & set(sys.modules)
"""


def test_the_plan_package_needs_no_compiled_extension(tmp_path):
    # -I: the installed pyoci, not a source tree in the working directory
    proc = subprocess.run([sys.executable, "-I", "-c", WITHOUT_SHIM, str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "EXEC\n"
