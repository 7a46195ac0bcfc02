"""`ps`: the processes of a container, by host pid, from its cgroup (those
that are the container's: pyoci.runtime.members).

--format json prints the pids as a JSON array (containerd's `task ps` reads
that); the table is the host's `ps` (its options as given, default -ef)
cut down to the container's processes, as runc prints it."""
import subprocess

from pyoci.runtime import members
from pyoci.core.errors import PyociError
from pyoci.state import Container


def container_pids(root, container_id):
    container = Container(root, container_id)
    container.load()
    return members.of_container(container)


def table(pids, ps_args):
    """The host's ps output, header and the lines of pids only."""
    try:
        listing = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise PyociError("ps: no ps command on this host") from None
    except subprocess.CalledProcessError as e:
        raise PyociError(f"ps {' '.join(ps_args)}: {e.stderr.strip() or f'exit status {e.returncode}'}") from None
    header, *lines = listing.splitlines()
    if "PID" not in header.split():
        raise PyociError(f"ps {' '.join(ps_args)}: no PID column in its output")
    column = header.split().index("PID")
    wanted = set(pids)
    return "\n".join([header] + [line for line in lines
                                 if len(line.split()) > column and line.split()[column].isdigit()
                                 and int(line.split()[column]) in wanted]) + "\n"
