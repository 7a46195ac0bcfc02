"""What commands make of a state directory that is not a whole record
(pyoci.state): a create killed before state.json (Unfinished), a state.json
cut short or not pyoci's (Damaged), cleanup.json unreadable; and a damaged
checkpoint's descriptors.json.  The real steps, with real containers, are
in tests/integration/test_crash_consistency.py."""
import json
import os

import pytest

from pyoci.core.errors import ConfigError, NotFound
from pyoci.criu.externals import inherit_stdio
from pyoci.state import CLEANUP_KEYS, Container, Damaged, Unfinished, atomic_write


@pytest.fixture
def container(tmp_path):
    c = Container(str(tmp_path), "c1")
    c.make()
    yield c
    c.unlock()


def test_a_directory_without_state_json_is_unfinished(container):
    with pytest.raises(Unfinished, match="container does not exist: c1 .*delete --force removes"):
        container.load()


def test_a_directory_a_create_still_holds_is_plain_not_found(container):
    """Another command's view while create is at work (it holds the lock)."""
    other = Container(container.root, container.id)
    with pytest.raises(NotFound) as e:
        other.load()
    assert not isinstance(e.value, Unfinished)
    container.unlock()
    with pytest.raises(Unfinished):
        other.load()


def test_no_directory_is_plain_not_found(tmp_path):
    with pytest.raises(NotFound) as e:
        Container(str(tmp_path), "c2").load()
    assert not isinstance(e.value, Unfinished) and str(e.value) == "container does not exist: c2"


@pytest.mark.parametrize("text, why", [
    ('{"ociVersion": "1.3.0", "pid": 4', "Expecting ',' delimiter: line 1 column 33"),
    ("", "Expecting value: line 1 column 1"),
    ("[1, 2]", "it lacks an object"),
    ('{"ociVersion": "1.3.0", "pid": 4}', "it lacks init_start_time, bundle, rootfs, created"),
])
def test_a_state_json_that_is_not_a_record_is_damaged(container, text, why):
    with open(os.path.join(container.dir, "state.json"), "w") as f:
        f.write(text)
    with pytest.raises(Damaged) as e:
        container.load()
    assert why in str(e.value) and "state.json is damaged" in str(e.value) and "\n" not in str(e.value)


def test_cleanup_json_round_trips_and_unreadable_is_empty(container):
    facts = {"pid": 7, "init_start_time": 9, "cgroup": {"dirs": {}, "made": []}, "host_mounts": None}
    assert set(facts) == set(CLEANUP_KEYS)
    container.save_cleanup(facts)
    assert container.load_cleanup() == facts
    with open(os.path.join(container.dir, "cleanup.json"), "w") as f:
        f.write('{"pid": ')
    assert container.load_cleanup() == {}
    os.unlink(os.path.join(container.dir, "cleanup.json"))
    assert container.load_cleanup() == {}


def test_atomic_write_leaves_no_temporary_file_and_a_whole_file(tmp_path):
    path = tmp_path / "state.json"
    atomic_write(str(path), "x" * 300_000)
    assert os.listdir(tmp_path) == ["state.json"] and path.read_text() == "x" * 300_000


@pytest.mark.parametrize("text", ['["pipe:[1]", ', '{"a": 1}', "[1, 2, 3]"])
def test_a_damaged_descriptors_json_is_a_config_error(tmp_path, text):
    (tmp_path / "descriptors.json").write_text(text)
    with pytest.raises(ConfigError, match="descriptors.json is damaged"):
        inherit_stdio(str(tmp_path))


def test_descriptors_json_of_pipes_become_inherit_fds(tmp_path):
    (tmp_path / "descriptors.json").write_text(json.dumps(["/dev/null", "pipe:[12]", "pipe:[13]"]))
    assert inherit_stdio(str(tmp_path)) == ["--inherit-fd", "fd[1]:pipe:[12]", "--inherit-fd", "fd[2]:pipe:[13]"]
