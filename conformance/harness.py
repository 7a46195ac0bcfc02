"""The conformance suite's view of a runtime: any runc-compatible binary.

Each Runtime runs its binary with a private --root, hands out unique
container ids, and force-deletes every one of them after each clause, even
when the runtime misbehaved.  Bundles are busybox-static root filesystems
(tests/bundle.py) with the clause's changes to a default config.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from bundle import default_config, make_rootfs, write_bundle  # noqa: E402


class Failed(AssertionError):
    """A clause the runtime does not meet; the message says how."""


class Skipped(Exception):
    """A clause this host cannot check."""


def check(condition, message):
    if not condition:
        raise Failed(message)


def hybrid_cgroups():
    """v1 controllers plus a cgroup2 mount: the layout crun refuses."""
    with open("/proc/self/mountinfo") as f:
        types = [line.split(" - ")[1].split()[0] for line in f if " - " in line]
    return "cgroup" in types and "cgroup2" in types


def command_for(name, path):
    """The argv prefix that runs a runtime; crun needs a private mount
    namespace without the cgroup2 mount on hybrid hosts."""
    if os.path.basename(path) == "crun" and hybrid_cgroups():
        return ["unshare", "-m", "--propagation", "slave", "sh", "-c",
                'umount -l /sys/fs/cgroup/unified; exec "$0" "$@"', path]
    return [path]


class Runtime:
    def __init__(self, name, path, workdir, rootfs):
        self.name = name
        self.path = path
        self.cmd = command_for(name, path)
        self.workdir = workdir
        self.rootfs = rootfs
        self.root = os.path.join(workdir, "state-" + name)
        self.ids = []

    def new_id(self):
        cid = f"conf-{self.name}-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def __call__(self, *args, timeout=30, input=None):
        """Run a command; stdout/stderr to files so a container's init can
        inherit them without keeping us waiting."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.run(self.cmd + ["--root", self.root, *args], stdout=out, stderr=err,
                                      input=input, timeout=timeout)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            out.seek(0)
            err.seek(0)
            return Result(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"))

    def bundle(self, args, mutate=None):
        path = os.path.join(self.workdir, uuid.uuid4().hex[:10])
        config = default_config(args, self.rootfs)
        # Every field the clauses use exists since 1.0.2, and older runtimes
        # (crun 1.8) refuse versions newer than they know.
        config["ociVersion"] = "1.0.2"
        if mutate:
            mutate(config)
        return write_bundle(path, config)

    def state(self, cid):
        result = self("state", cid)
        check(result.code == 0, f"state {cid} failed: {result.err.strip()}")
        try:
            return json.loads(result.out)
        except ValueError:
            raise Failed(f"state output is not JSON: {result.out!r}") from None

    def created(self, args=("sleep", "1000"), mutate=None):
        cid = self.new_id()
        result = self("create", "--bundle", self.bundle(list(args), mutate), cid)
        check(result.code == 0, f"create failed: {result.err.strip()}")
        return cid

    def run_probe(self, script, mutate=None):
        """Run `sh -c script` in a fresh container; its stdout."""
        cid = self.new_id()
        result = self("run", "--bundle", self.bundle(["sh", "-c", script], mutate), cid)
        check(result.code == 0, f"run failed ({result.code}): {result.err.strip()} {result.out.strip()}")
        return result.out

    def wait_status(self, cid, wanted, timeout=10):
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            result = self("state", cid)
            status = json.loads(result.out)["status"] if result.code == 0 else None
            if status == wanted:
                return
            time.sleep(0.02)
        raise Failed(f"status stayed {status!r}, wanted {wanted!r}")

    def clean_up(self):
        for cid in self.ids:
            self("delete", "--force", cid)
        self.ids = []


class Result:
    __slots__ = ("code", "out", "err")

    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err


class Workspace:
    """A temp directory (0755, so user namespaces can reach it) with one rootfs."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="pyoci-conformance-")
        os.chmod(self.dir, 0o755)
        self.rootfs = make_rootfs(os.path.join(self.dir, "rootfs"))
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
