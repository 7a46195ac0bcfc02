/*
 * The runtime's ends of its sockets to a container's first process: the
 * sync socket pair create and exec answer the child over, the start socket
 * the init waits on, and run's connection to it.
 *
 * Here rather than through Python's _socket: loading that module and
 * running its socket objects for these few calls cost time and memory on
 * every create, run and exec (bench/README.md).
 * `start` alone, which does not load the shim, still connects with _socket.
 *
 * Each returns a descriptor (close-on-exec), a byte count or 0, or -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

int pyoci_socket_pair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0 ? 0 : -errno;
}

/* A SOCK_SEQPACKET socket and name's address; -ENAMETOOLONG when name does
 * not fit (callers use names relative to the state directory). */
static int seqpacket_socket(const char *name, struct sockaddr_un *addr)
{
    size_t len = strlen(name);
    if (len >= sizeof(addr->sun_path))
        return -ENAMETOOLONG;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, name, len);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    return fd >= 0 ? fd : -errno;
}

int pyoci_listen(const char *name, int backlog)
{
    struct sockaddr_un addr;
    int fd = seqpacket_socket(name, &addr);
    if (fd < 0)
        return fd;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int pyoci_connect(const char *name)
{
    struct sockaddr_un addr;
    int fd = seqpacket_socket(name, &addr);
    if (fd < 0)
        return fd;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int pyoci_receive(int fd, void *buf, int size, int *passed_fd)
{
    struct iovec iov = {.iov_base = buf, .iov_len = (size_t)size};
    /* Room for one descriptor, all a message carries; the kernel closes
     * any more (and sets MSG_CTRUNC). */
    union {
        char bytes[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                         .msg_controllen = sizeof(control.bytes)};
    *passed_fd = -1;
    /* EINTR goes back to the caller, which runs Python's signal handlers
     * (create's undo on SIGTERM) before it asks again. */
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)  /* reset: the child died with a message unread; as for its end */
        return errno == ECONNRESET ? 0 : -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int)))
            memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
    /* A packet longer than buf, cut short by the kernel: not a message. */
    if (msg.msg_flags & MSG_TRUNC)
        return -EMSGSIZE;
    return (int)n;
}
