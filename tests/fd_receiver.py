"""A one-shot AF_UNIX listener, in a thread, for the descriptors pyoci hands
over (the seccomp notify fd, a pidfd): it takes one connection, receives
its payload (to end-of-file) and fds, and passes them to a handler."""
import socket
import threading


def receive_once(path, handle, max_fds=4):
    """Listen on path; handle(payload, fds) runs in the thread. Returns the thread."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        payload, fds, _flags, _addr = socket.recv_fds(conn, 65536, max_fds)
        while more := conn.recv(1 << 20):  # a stream: the payload may go on past the first read
            payload += more
        conn.close()
        listener.close()
        handle(payload, fds)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread
