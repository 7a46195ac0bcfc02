"""pyoci: an OCI runtime-spec v1.3 runtime, drop-in compatible with runc's CLI."""
import sys

from pyoci import module_archive

__version__ = "0.1.0"
SPEC_VERSION = "1.3.0"

# pyoci's other modules load from the archive written at install, if any.
module_archive.install(__path__[0], sys.meta_path)
