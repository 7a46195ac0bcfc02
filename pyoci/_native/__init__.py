"""The C shim (shim.c) and its cffi build script; only pyoci.launch.native imports it."""
