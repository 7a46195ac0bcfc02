"""Container lifecycle operations, one module each: create, start, kill, delete, run."""
