"""Error types shared by every command; the CLI turns them into exit status 1.

Messages use runc's words where engines match on them (containerd's shim and
podman look for "container does not exist", "container not running", ...).
"""


class PyociError(Exception):
    """A failure to report to the user: the message names the field or argument."""

    exit_code = 1


class ConfigError(PyociError):
    """config.json is invalid: schema or semantic checks."""


class NotFound(PyociError):
    def __init__(self, container_id):
        super().__init__(f"container does not exist: {container_id}")


class WrongState(PyociError):
    """An operation the container's current status does not allow."""

