"""An OCI image archive (image-spec's image layout, as a tar) made from a
rootfs directory: one plain-tar layer, its config and manifest, and an index
whose annotations name the image, as `ctr image import` reads them.
Nothing is fetched: the engines' tests run offline.
"""
import hashlib
import io
import json
import os
import platform
import tarfile

# Go's names for the machine, as image configs and engines spell them; the
# other machines' (ppc64le, s390x, riscv64) are the kernel's already.
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def _layer(rootfs):
    """The rootfs as an uncompressed tar, owned by root, paths relative to /."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name, filter=_as_root)
    return buf.getvalue()


def _as_root(info):
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _blob(archive, data, media_type, **extra):
    """Adds data under blobs/sha256/ and returns its descriptor."""
    digest = hashlib.sha256(data).hexdigest()
    _add(archive, f"blobs/sha256/{digest}", data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data), **extra}


def _add(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def write_oci_archive(path, rootfs, name):
    """Writes the image of rootfs to path, named name (e.g. localhost/busybox:latest)."""
    layer = _layer(rootfs)
    config = {
        "architecture": GOARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    with tarfile.open(path, "w") as archive:
        layer_desc = _blob(archive, layer, "application/vnd.oci.image.layer.v1.tar")
        config_desc = _blob(archive, _json(config), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        manifest_desc = _blob(archive, _json(manifest), manifest["mediaType"],
                              platform={"architecture": config["architecture"], "os": "linux"},
                              annotations={"io.containerd.image.name": name,
                                           "org.opencontainers.image.ref.name": name})
        _add(archive, "oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
        _add(archive, "index.json", _json({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                           "manifests": [manifest_desc]}))
    return path
