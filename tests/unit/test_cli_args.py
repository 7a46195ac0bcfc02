"""The subcommand argument parser: runc's flag forms, exit-1 errors."""
import pytest

from pyoci.cli import Flag, HelpRequested, parse
from pyoci.cli.create import CREATE_FLAGS
from pyoci.core.errors import PyociError

KILL = [Flag(("-a", "--all"), "all")]


def test_value_forms_and_flags_after_positionals():
    a = parse("create", CREATE_FLAGS, ["container_id"], ["--bundle=/b", "--pid-file", "/p", "id1", "--no-pivot"])
    assert (a.bundle, a.pid_file, a.container_id, a.no_pivot, a.preserve_fds) == ("/b", "/p", "id1", True, 0)
    assert parse("create", CREATE_FLAGS, ["container_id"], ["-b", "x", "--preserve-fds=2", "c"]).preserve_fds == 2
    assert parse("create", CREATE_FLAGS, ["container_id"], ["-bundle", "/old", "c"]).bundle == "/old"


def test_optional_positional_and_switch_values():
    a = parse("kill", KILL, ["container_id", "signal?"], ["--all", "c"])
    assert (a.all, a.container_id, a.signal) == (True, "c", None)
    assert parse("kill", KILL, ["container_id", "signal?"], ["c", "9", "--all=false"]).all is False


def test_rest_takes_everything_after_the_positionals():
    a = parse("exec", [Flag("-t", "tty")], ["container_id"], ["-t", "c", "ls", "-l", "--", "x"], rest="command")
    assert (a.tty, a.container_id, a.command) == (True, "c", ["ls", "-l", "--", "x"])
    assert parse("exec", [], ["container_id"], ["c", "--", "sh"], rest="command").command == ["sh"]


@pytest.mark.parametrize("argv, words", [
    (["--nope", "c"], "flag provided but not defined: --nope"),
    (["--bundle"], "flag needs an argument: --bundle"),
    (["--preserve-fds", "x", "c"], "is not a number"),
    ([], "missing argument: CONTAINER_ID"),
    (["a", "b"], "unexpected argument: b"),
])
def test_errors_name_the_argument(argv, words):
    with pytest.raises(PyociError, match=words):
        parse("create", CREATE_FLAGS, ["container_id"], argv)


def test_errors_name_the_command_once():
    with pytest.raises(PyociError) as raised:
        parse("run", CREATE_FLAGS, ["container_id"], [])
    assert str(raised.value) == "run: missing argument: CONTAINER_ID"


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["--format", "json", "-h"]])
def test_help_is_asked_for_wherever_a_flag_may_stand(argv):
    with pytest.raises(HelpRequested):
        parse("ps", [Flag(("-f", "--format"), "format", str)], ["container_id"], argv, rest="ps_args")
    with pytest.raises(HelpRequested):
        parse("kill", KILL, ["container_id", "signal?"], ["c", "--all"] + argv[-1:])


@pytest.mark.parametrize("argv, command", [
    (["c", "ls", "--help"], ["ls", "--help"]),
    (["c", "--", "--help"], ["--help"]),
    (["--", "c", "-h"], ["-h"]),
])
def test_help_inside_execs_command_is_the_commands(argv, command):
    assert parse("exec", [], ["container_id"], argv, rest="command").command == command
