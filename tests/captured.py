"""Running a command whose output the test reads: stdout and stderr go to
temporary files, not pipes, because a container's init (or an engine's
conmon) inherits them and would hold a pipe open long after the command
returned."""
import subprocess
import tempfile


def run_captured(argv, **kwargs):
    """subprocess.run(argv, **kwargs) with .stdout and .stderr as text."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run(argv, stdout=out, stderr=err, **kwargs)
        out.seek(0)
        err.seek(0)
        proc.stdout = out.read().decode(errors="replace")
        proc.stderr = err.read().decode(errors="replace")
    return proc
