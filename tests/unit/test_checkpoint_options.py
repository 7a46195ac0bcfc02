"""checkpoint's --parent-path (pyoci.criu.checkpoint): relative to
--image-path, joined by name as runc joins it, so that it may name a
sibling of an image directory the checkpoint has yet to make."""
import pytest

from pyoci.core.errors import PyociError
from pyoci.criu.checkpoint import _parent_path
from pyoci.criu.options import Options


def test_a_sibling_of_an_image_path_not_made_yet(tmp_path):
    (tmp_path / "pre").mkdir()
    opts = Options(image_path=str(tmp_path / "final"), parent_path="../pre")
    assert _parent_path(opts) == "../pre"  # as CRIU takes it: relative to the image directory


def test_a_missing_parent_is_named(tmp_path):
    opts = Options(image_path=str(tmp_path / "final"), parent_path="../pre")
    with pytest.raises(PyociError, match=f"^--parent-path: {tmp_path}/pre: no such directory$"):
        _parent_path(opts)


def test_an_absolute_parent_is_refused(tmp_path):
    with pytest.raises(PyociError, match="must be relative"):
        _parent_path(Options(image_path=str(tmp_path), parent_path="/abs"))
