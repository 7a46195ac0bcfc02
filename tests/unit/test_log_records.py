"""The --log file (pyoci.core.log_records): one record per line whatever a message
holds, and never written through a symlink planted at its name."""
from pyoci.core.log import Log


def test_a_text_record_is_one_line_whatever_the_message_holds(tmp_path):
    path = tmp_path / "log"
    Log(str(path)).error('bad "value"\ntime="forged" level=info msg="all is well"\\')
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(r'msg="bad \"value\"\ntime=\"forged\" level=info msg=\"all is well\"\\"')


def test_the_log_is_not_written_through_a_planted_symlink(tmp_path, capsys):
    target = tmp_path / "precious"
    target.write_text("precious\n")
    (tmp_path / "log").symlink_to(target)
    Log(str(tmp_path / "log")).error("a record")
    assert target.read_text() == "precious\n"
    assert "a record" in capsys.readouterr().err  # where it goes instead
