"""pyoci.criu.command.popen: how checkpoint and restore start CRIU (restore joins
the new container's cgroups in CRIU's process before it runs)."""
import pytest

from pyoci.criu import command as criu
from pyoci.core.errors import PyociError


def test_a_failed_preexec_fn_is_an_error_of_pyoci():
    def fail():
        raise PyociError("cgroup join refused")

    with pytest.raises(PyociError, match="^/bin/true could not be started: .*preexec_fn"):
        criu.popen(["/bin/true"], preexec_fn=fail)


def test_without_a_failure_it_is_the_process():
    assert criu.popen(["/bin/true"], preexec_fn=lambda: None).wait() == 0
