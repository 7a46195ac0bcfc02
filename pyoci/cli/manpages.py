"""Build time: pyoci's man pages, pyoci(8) and one pyoci-COMMAND(8) per
command, as runc ships runc(8) and runc-create(8).

They are written from the tables the command line parses with (GLOBALS and
COMMANDS in pyoci.cli; each command module's docstring, FLAGS, POSITIONALS
and REST), so a page lists exactly the flags the parser takes.  setup.py's
build calls write(), and its install puts the pages in
<prefix>/share/man/man8, where man(1) finds the pages of a prefix whose bin
is on PATH (a virtualenv's included).  Never imported by a command.
"""
import os
import re

from pyoci import __version__
from pyoci.cli import COMMAND_HELP, COMMANDS, GLOBALS, SUMMARY

SECTION = "8"


def escape(text):
    """text as troff sets it literally: a backslash escaped, every - a
    minus (troff may set a bare - as a hyphen, which breaks a copied flag),
    and a line that starts with . or ' kept from being read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def prose(text):
    """A docstring's text: paragraphs apart, `code` in bold."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n.PP\n".join(re.sub(r"`([^`]+)`", r"\\fB\1\\fR", escape(p)) for p in paragraphs)


def summary(doc):
    """A docstring's opening, up to its first full stop or colon outside
    parentheses: the page's NAME line and its entry in pyoci(8)."""
    first = " ".join(doc.strip().split("\n\n")[0].split()) + " "
    for end in re.finditer(r"[.:] ", first):
        head = first[:end.start()]
        if head.count("(") == head.count(")"):
            return head
    return first.strip()


def page_name(command=None):
    return f"pyoci-{command}" if command else "pyoci"


def header(command, description):
    name = page_name(command)
    # .nh: no hyphenation, which would split flag and page names across lines.
    return [f'.TH "{name.upper()}" "{SECTION}" "" "pyoci {__version__}" "pyoci Manual"', ".nh",
            ".SH NAME", f"{escape(name)} \\- {escape(description)}"]


def options(title, flags):
    """A section listing flags, as .TP entries: names and value, then help."""
    lines = [f".SH {title}"]
    for flag in flags:
        names = ", ".join(f"\\fB{escape(n)}\\fR" for n in flag.names)
        value = f" \\fI{escape(flag.metavar)}\\fR" if flag.metavar else ""
        repeat = "; repeatable" if flag.takes == "list" else ""
        lines += [".TP", names + value, escape(flag.help + repeat)]
    return lines


def arguments(positionals, rest):
    """The synopsis's arguments, in usage()'s notation."""
    shown = [f"[\\fI{escape(p[:-1].upper())}\\fR]" if p.endswith("?") else f"\\fI{escape(p.upper())}\\fR"
             for p in positionals]
    if rest:
        shown.append(f"[\\-\\-] \\fI{escape(rest.upper())}\\fR...")
    return " ".join(shown)


def see_also(pages):
    return [".SH SEE ALSO", ",\n".join(f"\\fB{escape(p)}\\fR({SECTION})" for p in pages)]


def command_module(command):
    # As pyoci.cli.main imports a command's module.
    return getattr(__import__(f"pyoci.cli.{COMMANDS[command]}").cli, COMMANDS[command])


def command_page(command):
    module = command_module(command)
    lines = header(command, summary(module.__doc__))
    lines += [".SH SYNOPSIS",
              f"\\fBpyoci\\fR [\\fIglobal flags\\fR] \\fB{command}\\fR [\\fIflags\\fR] "
              + arguments(module.POSITIONALS, getattr(module, "REST", None)),
              ".SH DESCRIPTION", prose(module.__doc__)]
    lines += options("OPTIONS", module.FLAGS + [COMMAND_HELP])
    return lines + see_also(["pyoci", "runc"])


def main_page():
    lines = header(None, summary(SUMMARY))
    lines += [".SH SYNOPSIS",
              "\\fBpyoci\\fR [\\fIglobal flags\\fR] \\fICOMMAND\\fR [\\fIflags\\fR] [\\fIarguments\\fR]",
              ".SH DESCRIPTION", prose(f"{SUMMARY}\n\nGlobal flags come before the command, and the command's "
                                       "flags after it, before or after its arguments (until a bare --). "
                                       f"Each command has its own page, {page_name('COMMAND')}({SECTION})."),
              ".SH COMMANDS"]
    for command in COMMANDS:
        lines += [".TP", f"\\fB{command}\\fR", escape(summary(command_module(command).__doc__))]
    lines += options("GLOBAL OPTIONS", GLOBALS)
    return lines + see_also([page_name(c) for c in COMMANDS] + ["runc"])


def write(directory):
    """Every page into directory, as NAME.8."""
    os.makedirs(directory, exist_ok=True)
    pages = {page_name(): main_page(), **{page_name(c): command_page(c) for c in COMMANDS}}
    for name, lines in pages.items():
        with open(os.path.join(directory, f"{name}.{SECTION}"), "w") as f:
            f.write("\n".join(lines) + "\n")
