"""List the containers under --root."""
import sys

from pyoci.cli import Flag
from pyoci.core.jsonio import dumps


FLAGS = [
    Flag(("-f", "--format"), "format", str, "table", "table or json"),
    Flag(("-q", "--quiet"), "quiet", None, False, "print ids only"),
]
POSITIONALS = []


def run(ctx, args):
    from pyoci.core.errors import NotFound, PyociError
    from pyoci.state import Container, Damaged, list_ids

    if args.format not in ("table", "json"):
        raise PyociError(f"--format: {args.format!r} is not table or json")
    states = []
    for container_id in list_ids(ctx.root):
        container = Container(ctx.root, container_id)
        try:
            container.load()
        except NotFound:
            continue  # deleted while we looked
        except Damaged as e:
            sys.stderr.write(f"pyoci: {e}\n")  # the others are still listed
            continue
        states.append(container.spec_state())
    if args.quiet:
        sys.stdout.write("".join(s["id"] + "\n" for s in states))
    elif args.format == "json":
        sys.stdout.write(dumps(states) + "\n")
    else:
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"] or "root") for s in states]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            sys.stdout.write("   ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
