"""The sync channel's Python side (pyoci.launch.sync, pyoci.launch.native.read_message):
whole messages only, replies framed with their type and length, a state
of any size in packets.  Over a real SOCK_SEQPACKET pair; the C side is
tested with real containers (tests/integration/test_crash_consistency.py)."""
import os
import socket
import struct
import sys
import threading

import pytest

from pyoci.launch import native, sync


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    yield ours, theirs
    ours.close()
    theirs.close()


def message(kind, pid=0, length=sync.SIZE, label=b"step"):
    return struct.pack("=6i500s", kind, length, -1, 0, 0, pid, label)


def test_a_whole_message_is_read(pair):
    ours, theirs = pair
    theirs.send(message(sync.MSG_PID, pid=42))
    msg = native.read_message(ours.fileno())
    assert (msg.type, msg.pid, msg.label) == (sync.MSG_PID, 42, "step")


def test_end_of_file_is_none(pair):
    ours, theirs = pair
    theirs.close()
    assert native.read_message(ours.fileno()) is None


@pytest.mark.parametrize("packet", [b"\x05", message(sync.MSG_PID)[:-1], message(sync.MSG_PID) + b"x",
                                    message(sync.MSG_PID) * 3, message(sync.MSG_PID, length=20)],
                         ids=["one byte", "one byte short", "one byte long", "three messages long", "wrong length"])
def test_a_packet_that_is_not_one_message_is_an_error(pair, packet):
    ours, theirs = pair
    theirs.send(packet)
    with pytest.raises(sync.ProtocolError, match="not a message of 524"):
        native.read_message(ours.fileno())


def test_a_descriptor_with_a_bad_packet_is_closed(pair, tmp_path):
    ours, theirs = pair
    with open(tmp_path / "f", "w") as f:
        socket.send_fds(theirs, [b"x"], [f.fileno()])
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(sync.ProtocolError):
        native.read_message(ours.fileno())
    assert set(os.listdir("/proc/self/fd")) <= before


def reply(kind, length):
    return kind.to_bytes(4, sys.byteorder) + length.to_bytes(4, sys.byteorder)


def test_an_ack_is_a_reply_of_length_zero(pair):
    ours, theirs = pair
    sync.ack(ours.fileno())
    assert theirs.recv(100) == reply(sync.REPLY_ACK, 0)


def test_a_state_goes_in_chunks_after_its_header(pair):
    ours, theirs = pair
    text = '{"big": "' + "z" * (2 * sync.CHUNK + 10) + '"}'


    sender = threading.Thread(target=sync.send_state, args=(ours.fileno(), text))
    sender.start()
    header = theirs.recv(100)
    assert header == reply(sync.REPLY_STATE, len(text))
    packets = []
    while sum(map(len, packets)) < len(text):
        packets.append(theirs.recv(sync.CHUNK + 1))
    sender.join()
    assert [len(p) for p in packets] == [sync.CHUNK, sync.CHUNK, len(text) - 2 * sync.CHUNK]
    assert b"".join(packets).decode() == text
