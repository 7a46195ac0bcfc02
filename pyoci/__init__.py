"""pyoci: an OCI runtime-spec v1.3 runtime, drop-in compatible with runc's CLI."""

__version__ = "0.1.0"
SPEC_VERSION = "1.3.0"
