"""pyoci.launch.handover.send_fd over a stream: the rest of a payload sendmsg did
not take is sent, and nothing more once it took it all (a console socket's
reader, conmon, closes as soon as it has the fd).  With a stand-in socket,
so that the peer's timing is decided by the test."""
import pytest

from pyoci.launch import handover


class Stream:
    """A connected stream whose peer has closed after the first sendmsg."""

    def __init__(self, *_args):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def connect(self, _path):
        pass

    def sendall(self, data):
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("taken, refused", [(7, False), (3, True)])
def test_only_what_sendmsg_did_not_take_is_sent(monkeypatch, taken, refused):
    monkeypatch.setattr(handover.socket, "socket", Stream)
    monkeypatch.setattr(handover.socket, "send_fds", lambda s, buffers, fds: taken)
    if refused:  # a payload cut short by a peer that went away is an error
        with pytest.raises(handover.PyociError, match="--console-socket /x: broken pipe"):
            handover.send_fd("/x", b"payload", 5, "--console-socket")
    else:
        handover.send_fd("/x", b"payload", 5, "--console-socket")
