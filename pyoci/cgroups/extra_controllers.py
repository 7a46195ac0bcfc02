"""linux.resources beyond memory, pids, cpu and devices: blockIO,
hugepageLimits, network, rdma and unified (create, update).

pyoci.cgroups.resources imports this only for a config that sets one of
them, so the common create does not load it.
"""
from pyoci.core import paths
from pyoci.cgroups.resources import v2_dir_for, v1_dir, v2_dir, write
from pyoci.core.errors import ConfigError

THROTTLES = (("throttleReadBpsDevice", "read_bps_device", "rbps"), ("throttleWriteBpsDevice", "write_bps_device", "wbps"),
             ("throttleReadIOPSDevice", "read_iops_device", "riops"),
             ("throttleWriteIOPSDevice", "write_iops_device", "wiops"))


def apply_v1(res, dirs, hierarchies):
    if res.get("unified"):
        raise ConfigError("linux.resources.unified: needs a cgroup v2 host; this one has v1 controllers")
    apply_blkio_v1(res.get("blockIO", {}), v1_dir(dirs, hierarchies, "blkio"))
    apply_common(res, dirs, hierarchies)


def apply_v2(res, dirs, hierarchies):
    d = v2_dir(dirs, hierarchies)
    apply_blkio_v2(res.get("blockIO", {}), d)
    apply_common(res, dirs, hierarchies)
    apply_unified(res.get("unified", {}), d)


def apply_common(res, dirs, hierarchies):
    """The families whose controller may be in either version (on a hybrid
    host, hugetlb and rdma may exist only in cgroup2)."""
    apply_hugetlb(res.get("hugepageLimits", []), dirs, hierarchies)
    apply_network(res.get("network", {}), dirs, hierarchies)
    apply_rdma(res.get("rdma", {}), dirs, hierarchies)


def controller_dir(controller, dirs, hierarchies, field):
    """Where controller's files are: its v1 hierarchy, else cgroup2 (on a
    hybrid host, hugetlb or rdma may be there alone)."""
    return v1_dir(dirs, hierarchies, controller) or v2_dir_for(controller, dirs, hierarchies, field)


def device_numbers(entry):
    return f"{entry['major']}:{entry['minor']}"


def existing(d, names):
    """The first of names that d has (weight files depend on the I/O scheduler)."""
    return next((n for n in names if d is not None and paths.exists(paths.join(d, n))), None)


def apply_blkio_v1(blkio, d):
    field = "linux.resources.blockIO"
    for key, candidates in (("weight", ("blkio.weight", "blkio.bfq.weight")), ("leafWeight", ("blkio.leaf_weight",))):
        if key in blkio:
            name = existing(d, candidates)
            if name is None:
                raise ConfigError(f"{field}.{key}: this host's blkio controller has no {' or '.join(candidates)}")
            write(d, name, blkio[key], f"{field}.{key}")
    for i, entry in enumerate(blkio.get("weightDevice", [])):
        for key, candidates in (("weight", ("blkio.weight_device", "blkio.bfq.weight_device")),
                                ("leafWeight", ("blkio.leaf_weight_device",))):
            if key in entry:
                name = existing(d, candidates)
                if name is None:
                    raise ConfigError(f"{field}.weightDevice[{i}].{key}: this host's blkio controller has no "
                                      f"{' or '.join(candidates)}")
                write(d, name, f"{device_numbers(entry)} {entry[key]}", f"{field}.weightDevice[{i}]")
    for key, suffix, _v2_key in THROTTLES:
        for i, entry in enumerate(blkio.get(key, [])):
            write(d, f"blkio.throttle.{suffix}", f"{device_numbers(entry)} {entry['rate']}", f"{field}.{key}[{i}]")


def apply_blkio_v2(blkio, d):
    field = "linux.resources.blockIO"
    if "leafWeight" in blkio or any("leafWeight" in e for e in blkio.get("weightDevice", [])):
        raise ConfigError(f"{field}.leafWeight: cgroup v2 has no leaf weight")
    if "weight" in blkio or blkio.get("weightDevice"):
        name = existing(d, ("io.bfq.weight", "io.weight"))
        if name is None:
            raise ConfigError(f"{field}.weight: this host's io controller has no io.weight or io.bfq.weight")
        if "weight" in blkio:
            # v1's 10-1000 onto v2's 1-10000, as runc and crun convert it.
            weight = blkio["weight"] if name == "io.bfq.weight" else 1 + (blkio["weight"] - 10) * 9999 // 990
            write(d, name, weight, f"{field}.weight")
        for i, entry in enumerate(blkio.get("weightDevice", [])):
            write(d, name, f"{device_numbers(entry)} {entry['weight']}", f"{field}.weightDevice[{i}]")
    limits = {}
    for key, _suffix, v2_key in THROTTLES:
        for entry in blkio.get(key, []):
            limits.setdefault(device_numbers(entry), []).append(f"{v2_key}={entry['rate']}")
    for device, settings in limits.items():
        write(d, "io.max", f"{device} {' '.join(settings)}", f"{field}.throttle ({device})")


def apply_hugetlb(limits, dirs, hierarchies):
    for i, entry in enumerate(limits):
        field = f"linux.resources.hugepageLimits[{i}]"
        d = controller_dir("hugetlb", dirs, hierarchies, field)
        if d is None:
            raise ConfigError(f"{field}: the host has no hugetlb controller")
        size = entry["pageSize"]
        name = f"hugetlb.{size}.{'max' if d == v2_dir(dirs, hierarchies) else 'limit_in_bytes'}"
        if paths.exists(paths.join(d, "cgroup.procs")) and not paths.exists(paths.join(d, name)):
            raise ConfigError(f"{field}.pageSize: this host has no {size} huge pages")
        write(d, name, entry["limit"], field)


def apply_network(network, dirs, hierarchies):
    field = "linux.resources.network"
    if "classID" in network:
        d = v1_dir(dirs, hierarchies, "net_cls")
        if d is None:
            raise ConfigError(f"{field}.classID: the host has no net_cls controller (cgroup v1 only)")
        write(d, "net_cls.classid", network["classID"], f"{field}.classID")
    if network.get("priorities"):
        d = v1_dir(dirs, hierarchies, "net_prio")
        if d is None:
            raise ConfigError(f"{field}.priorities: the host has no net_prio controller (cgroup v1 only)")
        for i, entry in enumerate(network["priorities"]):
            write(d, "net_prio.ifpriomap", f"{entry['name']} {entry['priority']}", f"{field}.priorities[{i}]")


def apply_rdma(rdma, dirs, hierarchies):
    for device, limits in rdma.items():
        field = f"linux.resources.rdma.{device}"
        d = controller_dir("rdma", dirs, hierarchies, field)
        if d is None:
            raise ConfigError(f"{field}: the host has no rdma controller")
        settings = [f"{name}={limits[key]}" for key, name in (("hcaHandles", "hca_handle"), ("hcaObjects", "hca_object"))
                    if key in limits]
        write(d, "rdma.max", f"{device} {' '.join(settings)}", field)


# The cgroup.* files a config may set: limits on the subtree.  The others
# move processes or controllers, freeze or kill, which are the runtime's.
CGROUP_LIMITS = ("cgroup.max.depth", "cgroup.max.descendants")


def apply_unified(unified, d):
    """linux.resources.unified: cgroup2 file -> value, written as given.  A
    key must be an interface file of a controller enabled in the container's
    cgroup ("<controller>.<name>") or one of CGROUP_LIMITS: never a path,
    and never a file that moves processes or controllers."""
    try:
        with open(paths.join(d, "cgroup.controllers")) as f:
            enabled = f.read().split()
    except FileNotFoundError:
        enabled = []
    for key, value in unified.items():
        field = f"linux.resources.unified.{key}"
        controller, _, name = key.partition(".")
        if controller == "cgroup":
            allowed = key in CGROUP_LIMITS
        else:
            allowed = bool(name) and "/" not in key and controller in enabled
        if not allowed:
            raise ConfigError(f"{field}: not a controller file of the container's cgroup (controllers there: "
                              f"{' '.join(enabled) or 'none'}; cgroup files: {', '.join(CGROUP_LIMITS)})")
        write(d, key, value, field)
