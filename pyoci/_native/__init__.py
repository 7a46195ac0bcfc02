"""The C shim (shim.c) and its cffi build script; only pyoci.native imports it."""
