"""Security settings of the container process: capabilities (and later seccomp, LSMs)."""
