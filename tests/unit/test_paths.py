"""pyoci.core.paths stands in for os.path on the always-loaded modules: it must
give os.path's answers for the paths pyoci handles."""
import os

import pytest

from pyoci.core import paths

PATHS = ["/", "/a", "/a/b", "/a/b/", "a", "a/b", "", ".", "..", "/a/../b", "a/./b/..", "../a", "/..", "/a//b"]


@pytest.mark.parametrize("path", PATHS)
def test_dirname_and_normpath(path):
    assert paths.dirname(path) == os.path.dirname(path)
    if path:
        assert paths.normpath(path) == os.path.normpath(path)


@pytest.mark.parametrize("path", PATHS)
def test_basename_and_isabs(path):
    assert paths.basename(path) == os.path.basename(path)
    assert paths.isabs(path) == os.path.isabs(path)


def test_realpath(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to("dir")
    (tmp_path / "dir" / "up").symlink_to("..")
    for p in ("link", "link/up/link", "dir/.", "missing/x", "link/missing"):
        full = str(tmp_path / p)
        assert paths.realpath(full) == os.path.realpath(full), p


@pytest.mark.parametrize("parts", [("/a", "b"), ("/a/", "b"), ("/a", "/b"), ("a", "b", "c"), ("", "b"), ("/a", "b/")])
def test_join(parts):
    assert paths.join(*parts) == os.path.join(*parts)


@pytest.mark.parametrize("path", ["x", "x/../y", "/abs/p", "."])
def test_abspath(path):
    assert paths.abspath(path) == os.path.abspath(path)


def test_exists_isdir_isfile(tmp_path):
    (tmp_path / "f").write_text("")
    for p in (tmp_path, tmp_path / "f", tmp_path / "missing", tmp_path / "f" / "under-a-file"):
        p = str(p)
        assert (paths.exists(p), paths.isdir(p), paths.isfile(p)) == (os.path.exists(p), os.path.isdir(p),
                                                                      os.path.isfile(p))


def test_makedirs(tmp_path):
    target = str(tmp_path / "a" / "b" / "c")
    paths.makedirs(target, 0o700)
    paths.makedirs(target, 0o700)  # exists already: fine, as exist_ok=True
    assert os.path.isdir(target)
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        paths.makedirs(str(tmp_path / "file" / "x"))
