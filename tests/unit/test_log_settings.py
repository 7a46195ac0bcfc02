"""How --log, --log-format and --debug reach pyoci.core.log: the CLI configures
the command's log when a flag was given, and Log's own defaults stand for
the flags' otherwise, so a call without them need not load pyoci.core.log."""
import json

import pytest

from pyoci import cli
from pyoci.core.log import Log, log


@pytest.fixture
def command_log():
    """pyoci.core.log's log, put back as it was after the test."""
    before = dict(vars(log))
    yield log
    vars(log).update(before)


def test_logs_defaults_are_the_flags_defaults():
    assert vars(Log()) == vars(Log(*[cli.GLOBAL_DEFAULTS[dest] for dest in cli.LOG_FLAGS]))


def test_the_flags_configure_the_commands_log(tmp_path, command_log, capsys):
    path = tmp_path / "log"
    code = cli.main(["--root", str(tmp_path / "root"), "--log", str(path), "--log-format", "json", "--debug",
                     "state", "missing"])
    assert code == 1
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["level"] for r in records][-1] == "error" and "missing" in records[-1]["msg"]
    assert any(r["level"] == "debug" for r in records)  # --debug's step records
    assert "missing" in capsys.readouterr().err


def test_without_the_flags_the_log_is_left_alone(tmp_path, command_log, monkeypatch):
    monkeypatch.setattr(command_log, "configure", lambda *settings: pytest.fail(f"configured with {settings}"))
    assert cli.main(["--root", str(tmp_path), "--log-format", "text", "state", "missing"]) == 1
