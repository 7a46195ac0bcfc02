/* pyoci shim: clone the container's init and run its launch plan in C.
 *
 * Where it sits: `pyoci create` (Python) validates config.json, compiles it
 * into a plan and calls pyoci_spawn().  Everything from clone() to execve()
 * happens here, in a child that never runs Python again.  The child talks to
 * the parent over a SOCK_SEQPACKET socket:
 *
 *   parent (Python)                      child (this file)
 *   ---------------                      -----------------
 *   pyoci_spawn() -- clone ------------> join namespaces, unshare the rest
 *                 <-- MSG_USERNS ------- (new user namespace)
 *   write uid/gid maps --- ack --------> setresuid(0)
 *                                        (pid/time ns joined late: fork again;
 *                                         the middle process exits)
 *                 <-- MSG_PID ---------- init pid
 *   join cgroups --------- ack --------> setsid, run steps: mounts, devices...
 *                 <-- MSG_SYNC --------- createRuntime point
 *   prestart, createRuntime hooks - state ------> createContainer hooks,
 *                                        pivot_root, paths, process set-up
 *                 <-- MSG_SECCOMP ------ (SCMP_ACT_NOTIFY: the notify fd;
 *   to the seccomp agent -- ack ------>  see load_seccomp)
 *                 <-- MSG_READY -------- wait on the start socket
 *   write state, exit                    ... `pyoci start` connects, sends
 *                                        the state; startContainer hooks,
 *                                        seccomp, execve (closes the
 *                                        connection: start sees EOF)
 *
 * That is the sync channel (shim.h, pyoci/launch/sync.py): each message is one
 * packet that starts with its type and length; an ack is a struct
 * pyoci_reply, and the state follows its reply in packets, of any size.
 * A packet that is not one of these ends the child with "sync channel: ...".
 *
 * A failing step sends MSG_ERROR(step, errno, label) and exits, so Python can
 * name the config field; the label carries the syscall that failed in the
 * step too (see fail).  Rules for this file: after clone() no malloc, no
 * stdio, no locks (the parent may have held one), only syscalls and stack,
 * static or mmap'd buffers; every string the child needs was built by
 * Python before.
 */
/* Every constant and kernel structure comes from the headers, none is
 * copied here: glibc 2.36 and the Linux 6.1 UAPI headers (Debian 12's) have
 * them all, and older ones fail the build, the compiler naming what they
 * lack. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <net/if.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP: glibc has neither */
#include <linux/seccomp.h>

#include "shim.h"
#include "ops.h"

static int report_fd = -1;        /* where errors go: sync socket, later the start connection */
static int rootfd = -1;           /* O_PATH fd of the rootfs, for resolving mount targets */
static char exec_path[PATH_MAX];  /* set by RESOLVE_EXEC */
static char *state_buf;           /* state JSON for the createContainer/startContainer hooks (mmap'd) */
static size_t state_len;
static const char *failed_call;   /* the syscall the failing step made last (see fail), or NULL */

/* ---- the sync channel: talking to the parent ------------------------------ */

static void send_msg(int type, int step, int err, int status, int pid, const char *label)
{
    struct pyoci_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.length = sizeof m;
    m.step = step;
    m.err = err;
    m.status = status;
    m.pid = pid;
    if (label)
        strncpy(m.label, label, sizeof m.label - 1);
    if (send(report_fd, &m, sizeof m, MSG_NOSIGNAL) < 0)
        _exit(1);
}

/* The syscall of a step that makes only one, for its error message; the
 * functions behind the others name theirs through failed(). */
static const char *const op_calls[] = {
    [PYOCI_OP_UNSHARE] = "unshare",
    [PYOCI_OP_JOIN_KEYRING] = "keyctl",
    [PYOCI_OP_ROOT_PROPAGATION] = "mount",
    [PYOCI_OP_MAKE_PARENT_PRIVATE] = "mount",
    [PYOCI_OP_SETHOSTNAME] = "sethostname",
    [PYOCI_OP_SETDOMAINNAME] = "setdomainname",
    [PYOCI_OP_SETRLIMIT] = "setrlimit",
    [PYOCI_OP_SCHED_SETATTR] = "sched_setattr",
    [PYOCI_OP_IOPRIO] = "ioprio_set",
    [PYOCI_OP_PERSONALITY] = "personality",
    [PYOCI_OP_MEMPOLICY] = "set_mempolicy",
    [PYOCI_OP_CHDIR] = "chdir",
    [PYOCI_OP_SETGROUPS] = "setgroups",
    [PYOCI_OP_NO_NEW_PRIVS] = "prctl",
    [PYOCI_OP_EXEC] = "execve",
};

/* -1, for a step that fails in the syscall call (whose errno stands). */
static int failed(const char *call)
{
    failed_call = call;
    return -1;
}

/* -1 with errno err, for a step that fails a check of its own, in no syscall. */
static int refused(int err)
{
    failed_call = NULL;
    errno = err;
    return -1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Report the failed step, "label: syscall" ("mounts[3] /proc: mount (tmpcopyup):
 * getdents64"), and end.  The syscall is left out where the label already
 * ends with it ("process.cwd /x: chdir"), and for a hook's exit status. */
static void fail(const struct pyoci_launch *l, int step, int err, int status)
{
    char label[sizeof ((struct pyoci_msg *)0)->label];
    const char *base = step >= 0 ? l->steps[step].label : "namespaces";
    const char *call = failed_call;
    int op = step >= 0 ? l->steps[step].op : 0;
    if (!call && op > 0 && (size_t)op < sizeof op_calls / sizeof op_calls[0])
        call = op_calls[op];
    if (call && !status && !ends_with(base, call))
        snprintf(label, sizeof label, "%s: %s", base, call);
    else
        snprintf(label, sizeof label, "%s", base);
    send_msg(PYOCI_MSG_ERROR, step, err, status, 0, label);
    _exit(1);
}

/* The namespace work before the first step failed in the syscall call. */
static void fail_setup(const struct pyoci_launch *l, const char *call)
{
    failed(call);
    fail(l, -1, errno, 0);
}

/* A reply that breaks the protocol: reported as the failed step "sync
 * channel: ...", and the end of this process. */
static void sync_violation(const char *what, int err)
{
    send_msg(PYOCI_MSG_ERROR, -1, err, 0, 0, what);
    _exit(1);
}

/* One packet into buf: its length, 0 at end-of-file, -1 with errno set.  A
 * packet longer than size, or one carrying descriptors, is EMSGSIZE: cut
 * short by the kernel, it must not pass for a shorter one. */
static ssize_t recv_packet(int fd, void *buf, size_t size)
{
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n;
    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n > 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}

/* The state's length bytes, in packets after its header, into a mapping of
 * their size (no malloc here): 0, or -1 if the sender went away midway. */
static int receive_state(int fd, size_t length)
{
    if (state_buf)
        munmap(state_buf, state_len ? state_len : 1);
    state_len = 0;
    state_buf = mmap(NULL, length ? length : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (state_buf == MAP_FAILED) {
        state_buf = NULL;
        sync_violation("sync channel: no memory for the state", errno);
    }
    state_len = length;
    size_t got = 0;
    while (got < length) {
        size_t want = length - got < PYOCI_CHUNK ? length - got : PYOCI_CHUNK;
        ssize_t n = recv_packet(fd, state_buf + got, want);
        if (n == 0)
            return -1;
        if (n < 0)
            sync_violation("sync channel: a state packet longer than the state's length", errno);
        got += (size_t)n;
    }
    return 0;
}

/* The parent's next reply on fd: an ack, or the state (kept for the
 * hooks).  1, or 0 if the parent went away (at end-of-file, or midway
 * through a state).  Anything else is not a reply. */
static int receive_reply(int fd)
{
    struct pyoci_reply r;
    ssize_t n = recv_packet(fd, &r, sizeof r);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof r)
        sync_violation("sync channel: a reply that is not a struct pyoci_reply", n < 0 ? errno : EPROTO);
    if (r.type == PYOCI_REPLY_ACK && r.length == 0)
        return 1;
    if (r.type != PYOCI_REPLY_STATE)
        sync_violation("sync channel: a reply of unknown type", EPROTO);
    return receive_state(fd, r.length) == 0;
}

/* Wait for the parent's reply to a sync point. */
static void wait_ack(int fd)
{
    if (!receive_reply(fd))
        _exit(1); /* parent gone or gave up: nothing to report to */
}

/* fork() without glibc's atfork machinery, which may take locks. */
static pid_t raw_fork(void)
{
    return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0);
}

/* ---- descriptors ---------------------------------------------------------- */

/* A descriptor declared cleanup_close is closed when it goes out of scope,
 * errno kept, as crun's cleanup_close does: a function that opens several
 * and leaves on many paths closes each on all of them. */
static void close_fd(int *fd)
{
    if (*fd >= 0) {
        int e = errno;
        close(*fd);
        errno = e;
    }
}
#define cleanup_close __attribute__((cleanup(close_fd)))

/* The descriptor in *fd for the caller to keep: the cleanup leaves it open. */
static int keep_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

/* ---- paths inside the rootfs ---------------------------------------------- */

/* How often open_in_root tries again after EAGAIN.  The kernel answers a
 * RESOLVE_IN_ROOT walk with EAGAIN when a rename or mount anywhere on the
 * host raced it (it cannot then prove the walk stayed inside); on a busy
 * host one try in a few thousand sees it, so a handful of retries is enough
 * and a bound keeps a host renaming without pause from stalling create. */
#define OPENAT2_TRIES 64

/* Open path with every component, symlinks included, resolved inside root,
 * so a hostile symlink in the image cannot point a mount outside it. */
static int openat_in_root(int root, const char *path, int flags)
{
    struct open_how how;
    int fd, tries = 0;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    do
        fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
    while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < OPENAT2_TRIES);
    return fd;
}

/* The same inside the rootfs, before pivot_root. */
static int open_in_root(const char *path, int flags)
{
    return openat_in_root(rootfd, path, flags);
}

#define MAX_SYMLINKS 40 /* as the kernel's path walk */

static int mkdir_all_in_root_via(const char *path, int is_file, int links);

/* A descriptor of the rootfs of the caller's own. */
static int dup_root(void)
{
    int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? failed("fcntl") : fd;
}

/* Create the directories of path inside the rootfs (and the last component as
 * a file when is_file) and return an O_PATH fd of it.  A component that is a
 * symlink to something missing is followed, inside the rootfs, and its target
 * made: a destination under "/link" where the image has link -> /elsewhere
 * lands in the rootfs's /elsewhere, as runc's secure join puts it. */
static int mkdir_all_in_root(const char *path, int is_file)
{
    return mkdir_all_in_root_via(path, is_file, 0);
}

/* path with its component at p (a symlink, as read into target) replaced by
 * the symlink's target; the rest after the component follows when not last. */
static int follow_dangling(char *buf, char *p, const char *target, const char *rest, int is_file, int links)
{
    char joined[PATH_MAX];
    int n;
    if (links >= MAX_SYMLINKS)
        return refused(ELOOP);
    *p = '\0'; /* buf is now the directory holding the link, relative to the root */
    if (target[0] == '/')
        n = snprintf(joined, sizeof joined, "%s/%s", target, rest);
    else
        n = snprintf(joined, sizeof joined, "%s%s/%s", buf, target, rest);
    if (n < 0 || (size_t)n >= sizeof joined)
        return refused(ENAMETOOLONG);
    return mkdir_all_in_root_via(joined, is_file, links + 1);
}

static int mkdir_all_in_root_via(const char *path, int is_file, int links)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return refused(ENAMETOOLONG);
    memcpy(buf, path, len + 1);
    int fd = open_in_root(buf, O_PATH);
    if (fd >= 0)
        return fd;
    if (errno != ENOENT)
        return failed("openat2");

    cleanup_close int parent = dup_root();
    if (parent < 0)
        return -1;
    char *p = buf;
    while (*p == '/')
        p++;
    while (*p) {
        char *end = strchr(p, '/');
        int last = 0;
        if (end)
            *end = 0;
        else
            last = 1;
        if (!last) {
            /* trailing slashes: the rest may be empty */
            char *q = end + 1;
            while (*q == '/')
                q++;
            if (!*q)
                last = 1;
        }
        int next = open_in_root(buf, O_PATH);
        if (next < 0 && errno == ENOENT) {
            int r;
            if (last && is_file) {
                r = openat(parent, p, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (r >= 0)
                    close(r);
            } else {
                r = mkdirat(parent, p, 0755);
            }
            if (r < 0 && errno != EEXIST)
                return failed(last && is_file ? "openat" : "mkdirat");
            next = open_in_root(buf, O_PATH);
            char target[PATH_MAX];
            ssize_t n;
            if (next < 0 && errno == ENOENT && (n = readlinkat(parent, p, target, sizeof target - 1)) >= 0) {
                target[n] = '\0';
                return follow_dangling(buf, p, target, last ? "" : end + 1, is_file, links);
            }
        }
        if (next < 0)
            return failed("openat2");
        close(parent);
        parent = next;
        if (last)
            return keep_fd(&parent);
        *end = '/';
        p = end + 1;
        while (*p == '/')
            p++;
    }
    return keep_fd(&parent);
}

/* Like mkdir_all_in_root for the parent of path; *base gets the last component. */
static int open_parent_in_root(const char *path, char *buf, size_t buflen, const char **base)
{
    size_t len = strlen(path);
    if (len >= buflen)
        return refused(ENAMETOOLONG);
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash) {
        *base = buf;
        return dup_root();
    }
    *slash = 0;
    *base = slash + 1;
    if (slash == buf)
        return dup_root();
    return mkdir_all_in_root(buf, 0);
}

static void fd_path(char *out, size_t len, int fd)
{
    snprintf(out, len, "/proc/self/fd/%d", fd);
}

/* Mount flags a user namespace cannot clear: copy them from the mount as it is. */
static unsigned long locked_flags(const char *target)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(target, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

static int remount(const char *target, unsigned long flags)
{
    flags |= MS_REMOUNT | MS_BIND;
    if (mount(NULL, target, NULL, flags, NULL) == 0)
        return 0;
    if (errno != EPERM || mount(NULL, target, NULL, flags | locked_flags(target), NULL) < 0)
        return failed("mount");
    return 0;
}

/* ---- tmpcopyup: what the image had under a tmpfs stays visible in it ------ */

struct shim_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int close_keep_errno(int r, int fd1, int fd2)
{
    int e = errno;
    if (fd1 >= 0)
        close(fd1);
    if (fd2 >= 0)
        close(fd2);
    errno = e;
    return r;
}

static int copy_file(int src, int dst, const char *name, const struct stat *st)
{
    cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return failed("openat");
    cleanup_close int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return failed("openat");
    off_t left = st->st_size;
    while (left > 0) {
        ssize_t n = sendfile(out, in, NULL, left > (1 << 30) ? (1 << 30) : (size_t)left);
        if (n < 0)
            return failed("sendfile");
        if (n == 0)
            break; /* the file shrank while we copied */
        left -= n;
    }
    return 0;
}

/* An entry that is no directory: a file, a symlink or a node. */
static int copy_leaf(int src, int dst, const char *name, const struct stat *st)
{
    char target[PATH_MAX];
    ssize_t n;
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
        return copy_file(src, dst, name, st);
    case S_IFLNK:
        n = readlinkat(src, name, target, sizeof target - 1);
        if (n < 0)
            return failed("readlinkat");
        target[n] = '\0';
        return symlinkat(target, dst, name) < 0 ? failed("symlinkat") : 0;
    default:
        return mknodat(dst, name, st->st_mode, st->st_rdev) < 0 ? failed("mknodat") : 0;
    }
}

/* The owner, mode and times of a copied entry (mode last: chown clears
 * set-id bits; a directory's once its content is in, which moves its times). */
static int copy_attrs(int dst, const char *name, const struct stat *st)
{
    if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return failed("fchownat");
    if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
        return failed("fchmodat");
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    return utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? failed("utimensat") : 0;
}

/* How deep tmpcopyup goes: as deep as a path of PATH_MAX bytes reaches
 * (one-letter names).  A deeper tree fails the mount with ENAMETOOLONG.
 * Each level holds two descriptors open, so the runtime's RLIMIT_NOFILE
 * also bounds the depth: past it, the mount fails with EMFILE, cleanly. */
#define COPY_MAX_DEPTH (PATH_MAX / 2)

/* One directory of the tree being copied. */
struct copy_level {
    int src, dst;           /* the directory and its copy */
    long n, off;            /* bytes getdents64 put in buf, and how far they are copied */
    struct stat st;         /* the directory's own, set on its copy once its content is in */
    /* Read through struct shim_dirent64 pointers: aligned for one, and
     * the kernel pads each record to a multiple of 8 bytes, so every one is. */
    _Alignas(struct shim_dirent64) char buf[4096];
};

/* Make the copy of directory name, open both into next. */
static int enter_dir(const struct copy_level *at, const char *name, struct copy_level *next)
{
    if (mkdirat(at->dst, name, 0700) < 0)
        return failed("mkdirat");
    cleanup_close int src = openat(at->src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return failed("openat");
    next->dst = openat(at->dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next->dst < 0)
        return failed("openat");
    next->src = keep_fd(&src);
    next->n = next->off = 0;
    return 0;
}

/* Copy every entry of directory src into directory dst, subdirectories
 * too.  Walked with a stack of levels in a mapping, not by recursion: an
 * image's tree may be deep enough to overflow the init's stack, and
 * nothing may malloc after clone. */
static int copy_tree(int src, int dst)
{
    struct copy_level *levels = mmap(NULL, COPY_MAX_DEPTH * sizeof *levels, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (levels == MAP_FAILED)
        return failed("mmap");
    int depth = 0, r = -1;
    levels[0].src = src;
    levels[0].dst = dst;
    levels[0].n = levels[0].off = 0;
    for (;;) {
        struct copy_level *at = &levels[depth];
        if (at->off == at->n) {
            at->n = syscall(SYS_getdents64, at->src, at->buf, sizeof at->buf);
            at->off = 0;
            if (at->n < 0) {
                failed("getdents64");
                break;
            }
            if (at->n > 0)
                continue;
            if (depth == 0) {
                r = 0;
                break;
            }
            /* This directory is done: back to its entry in its parent. */
            close(at->src);
            close(at->dst);
            struct stat st = at->st;
            at = &levels[--depth];
            struct shim_dirent64 *d = (struct shim_dirent64 *)(void *)(at->buf + at->off);
            at->off += d->d_reclen;
            if (copy_attrs(at->dst, d->d_name, &st) < 0)
                break;
            continue;
        }
        struct shim_dirent64 *d = (struct shim_dirent64 *)(void *)(at->buf + at->off);
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
            at->off += d->d_reclen;
            continue;
        }
        struct stat st;
        if (fstatat(at->src, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            failed("fstatat");
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            at->off += d->d_reclen;
            if (copy_leaf(at->src, at->dst, d->d_name, &st) < 0 || copy_attrs(at->dst, d->d_name, &st) < 0)
                break;
            continue;
        }
        /* A directory: its entry stays current here until its copy is done. */
        if (depth + 1 == COPY_MAX_DEPTH) {
            refused(ENAMETOOLONG);
            break;
        }
        if (enter_dir(at, d->d_name, &levels[depth + 1]) < 0)
            break;
        levels[++depth].st = st;
    }
    int e = errno;
    for (; depth > 0; depth--) {
        close(levels[depth].src);
        close(levels[depth].dst);
    }
    munmap(levels, COPY_MAX_DEPTH * sizeof *levels);
    errno = e;
    return r;
}

/* ---- steps ---------------------------------------------------------------- */

/* Mount source at dest.  With copy_up (tmpcopyup) the directory under the new mount is
 * opened first: that fd still reaches what the mount hides, and its content
 * is copied into the new mount, reopened by path. */
static int do_mount(const struct pyoci_step *st)
{
    char target[64];
    cleanup_close int below = -1;
    cleanup_close int fd = mkdir_all_in_root(OP_MOUNT_DEST(st), (int)OP_MOUNT_IS_FILE(st));
    if (fd < 0)
        return -1;
    fd_path(target, sizeof target, fd);
    if (OP_MOUNT_COPY_UP(st) && (below = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return failed("open");
    if (mount(OP_MOUNT_SOURCE(st), target, OP_MOUNT_FSTYPE(st), (unsigned long)OP_MOUNT_FLAGS(st),
              OP_MOUNT_DATA(st)) < 0)
        return failed("mount");
    if (below < 0)
        return 0;
    cleanup_close int top = open_in_root(OP_MOUNT_DEST(st), O_RDONLY | O_DIRECTORY);
    if (top < 0)
        return failed("openat2");
    return copy_tree(below, top);
}

/* Put the detached mount tree on the mount point target; closes tree. */
static int move_onto(int tree, int target)
{
    cleanup_close int owned = tree;
    if (syscall(SYS_move_mount, owned, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return failed("move_mount");
    return 0;
}

/* A detached tree from the parent (an idmapped bind) goes onto dest. */
static int attach_mount(const struct pyoci_step *st)
{
    int tree = OP_ATTACH_MOUNT_TREE(st);
    int target = mkdir_all_in_root(OP_ATTACH_MOUNT_DEST(st), (int)OP_ATTACH_MOUNT_IS_FILE(st));
    if (target < 0)
        return close_keep_errno(-1, tree, -1);
    return close_keep_errno(move_onto(tree, target), target, -1);
}

/* Operations on a mount already made at dest: reopen it so the fd names the new mount. */
static int on_mounted(const struct pyoci_step *st)
{
    char target[64];
    const char *dest = st->op == PYOCI_OP_REMOUNT     ? OP_REMOUNT_DEST(st)
                       : st->op == PYOCI_OP_PROPAGATE ? OP_PROPAGATE_DEST(st)
                                                      : OP_SETATTR_DEST(st);
    cleanup_close int fd = open_in_root(dest, O_PATH);
    if (fd < 0)
        return failed("openat2");
    fd_path(target, sizeof target, fd);
    if (st->op == PYOCI_OP_REMOUNT)
        return remount(target, (unsigned long)OP_REMOUNT_FLAGS(st));
    if (st->op == PYOCI_OP_PROPAGATE)
        return mount(NULL, target, NULL, (unsigned long)OP_PROPAGATE_FLAGS(st), NULL) < 0 ? failed("mount") : 0;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = OP_SETATTR_ATTR_SET(st);
    attr.attr_clr = OP_SETATTR_ATTR_CLR(st);
    attr.propagation = OP_SETATTR_PROPAGATION(st);
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return failed("mount_setattr");
    return 0;
}

static int do_mknod(const struct pyoci_step *st)
{
    char buf[PATH_MAX], target[64];
    const char *base;
    cleanup_close int dir = open_parent_in_root(OP_MKNOD_DEST(st), buf, sizeof buf, &base);
    if (dir < 0)
        return -1;
    if (OP_MKNOD_BIND(st)) {
        /* In a user namespace mknod is refused: bind the host's device node instead. */
        int file = openat(dir, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (file < 0)
            return failed("openat");
        close(file);
        cleanup_close int fd = open_in_root(OP_MKNOD_DEST(st), O_PATH);
        if (fd < 0)
            return failed("openat2");
        fd_path(target, sizeof target, fd);
        return mount(OP_MKNOD_HOST(st), target, NULL, MS_BIND, NULL) < 0 ? failed("mount") : 0;
    }
    unlinkat(dir, base, 0); /* an image's own node must not stand in for the config's */
    if (mknodat(dir, base, (mode_t)OP_MKNOD_MODE(st), (dev_t)OP_MKNOD_RDEV(st)) < 0)
        return failed("mknodat");
    if (fchownat(dir, base, (uid_t)OP_MKNOD_UID(st), (gid_t)OP_MKNOD_GID(st), AT_SYMLINK_NOFOLLOW) < 0)
        return failed("fchownat");
    return 0;
}

static int do_symlink(const struct pyoci_step *st)
{
    char buf[PATH_MAX];
    const char *base;
    cleanup_close int dir = open_parent_in_root(OP_SYMLINK_LINK(st), buf, sizeof buf, &base);
    if (dir < 0)
        return -1;
    if (symlinkat(OP_SYMLINK_TARGET(st), dir, base) < 0 && errno != EEXIST)
        return failed("symlinkat");
    return 0;
}

static int do_pivot_root(const char *rootfs)
{
    cleanup_close int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0)
        return failed("open");
    cleanup_close int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (newroot < 0)
        return failed("open");
    if (fchdir(newroot) < 0)
        return failed("fchdir");
    /* pivot_root(".", ".") stacks the old root on top of the new one; no
     * put_old directory is needed in the image. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return failed("pivot_root");
    if (fchdir(oldroot) < 0)
        return failed("fchdir");
    /* Keep the unmount of the old root from propagating to the host. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return failed("mount");
    if (umount2(".", MNT_DETACH) < 0)
        return failed("umount2");
    return chdir("/") < 0 ? failed("chdir") : 0;
}

static int do_chroot(const char *rootfs, int move)
{
    if (chdir(rootfs) < 0)
        return failed("chdir");
    /* Without a mount namespace of its own "/" is the host's: only chroot. */
    if (move && mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return failed("mount");
    if (chroot(".") < 0)
        return failed("chroot");
    return chdir("/") < 0 ? failed("chdir") : 0;
}

/* Write all of content to fd in one write, as procfs files take their value. */
static int write_all(int fd, const char *content)
{
    size_t len = strlen(content);
    ssize_t n = write(fd, content, len);
    if (n < 0)
        return failed("write");
    return (size_t)n == len ? 0 : refused(EIO);
}

static int write_file(const char *path, const char *content)
{
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? failed("open") : write_all(fd, content);
}

/* A sysctl or an AppArmor attr file, written after pivot_root: it must be a
 * file of procfs.  An image without a /proc mount, or a mount the container
 * shares with another, can put a file or a link of its own at that path;
 * the value would land there and the setting would silently not be made
 * (runc's CVE-2025-52881 family).  So the last component is not followed
 * and the file's filesystem is checked: EXDEV when it is not procfs. */
static int write_proc_file(const char *path, const char *content)
{
    struct statfs fs;
    cleanup_close int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return failed("open");
    if (fstatfs(fd, &fs) < 0)
        return failed("fstatfs");
    if (fs.f_type != PROC_SUPER_MAGIC)
        return refused(EXDEV);
    return write_all(fd, content);
}

/* ---- the root's /dev/null, maskedPaths, readonlyPaths ----------------------
 *
 * These run after pivot_root (or chroot), on paths of the image, which it
 * (or a container sharing its /dev) may have made links or other files:
 * runc's CVE-2025-31133, where a /dev/null that leads to core_pattern turns
 * every masked file into core_pattern, writable where no read-only path
 * covers it.  So no mount here is made by path: each path is opened with
 * its last component not followed, checked, and the mount is made on that
 * descriptor. */

/* Open path inside the root the process has now.  Not through rootfd: that
 * names the rootfs's mount as it was when opened, under anything mounted on
 * the rootfs itself since. */
static int open_in_new_root(const char *path, int flags)
{
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return failed("open");
    int fd = openat_in_root(root, path, flags);
    return fd < 0 ? failed("openat2") : fd;
}

static int is_null_device(const struct stat *sb)
{
    return S_ISCHR(sb->st_mode) && sb->st_rdev == makedev(1, 3);
}

/* fd, if it is open on a null device; else it is closed, and -1.  ENODEV,
 * not EPERM, for the error says what is wrong with the image's node, not
 * with the runtime's rights. */
static int refuse_unless_null(int fd)
{
    cleanup_close int owned = fd;
    struct stat sb;
    if (owned < 0)
        return -1;
    if (fstat(owned, &sb) < 0)
        return failed("fstat");
    if (!is_null_device(&sb))
        return refused(ENODEV);
    return keep_fd(&owned);
}

/* O_PATH fd of the root's /dev/null, checked once and kept for every mask
 * (O_PATH: nothing is opened that might not be the null device; it closes at
 * execve).  A link, a file or another device there is refused. */
static int dev_null(void)
{
    static int null_fd = -1;
    if (null_fd < 0)
        null_fd = refuse_unless_null(open_in_new_root("/dev/null", O_PATH | O_NOFOLLOW));
    return null_fd;
}

/* stdio opened on a /dev/null (the host's, outside the new root) is
 * reopened on the root's own /dev/null, read-write: were that a link to a
 * file, the container's stdin and stdout would be that file. */
static int reopen_dev_null(void)
{
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !is_null_device(&st))
            continue;
        if (dev_null() < 0)
            return errno == ENOENT ? 0 : -1; /* a rootfs without one keeps what it was given */
        /* Checked again once open: the node may have changed since. */
        int flags = O_RDWR | O_NOFOLLOW | O_NOCTTY;
        cleanup_close int null = refuse_unless_null(open_in_new_root("/dev/null", flags));
        if (null < 0)
            return -1;
        if (dup3(null, fd, 0) < 0)
            return failed("dup3");
    }
    return 0;
}

/* O_PATH fd of a masked or read-only path, with *sb; -1 with ENOENT when it
 * names nothing (the caller skips it: nothing to hide there), ELOOP when it
 * is a symlink to something: a mount through it would land on whatever the
 * image points it at, not on the path the config names.  A link that leads
 * nowhere names nothing either. */
static int open_mask_target(const char *path, struct stat *sb)
{
    cleanup_close int fd = open_in_new_root(path, O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, sb) < 0)
        return failed("fstat");
    if (!S_ISLNK(sb->st_mode))
        return keep_fd(&fd);
    cleanup_close int target = open_in_new_root(path, O_PATH);
    if (target < 0)
        return -1;
    return refused(ELOOP);
}

/* A file is masked by a bind of the checked null device. */
static int mask_file(int target)
{
    int null = dev_null();
    if (null < 0)
        return -1;
    int tree = (int)syscall(SYS_open_tree, null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    return tree < 0 ? failed("open_tree") : move_onto(tree, target);
}

/* A directory by an empty read-only tmpfs. */
static int mask_dir(int target)
{
    cleanup_close int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return failed("fsopen");
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
        syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
        syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return failed("fsconfig");
    int tree = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    return tree < 0 ? failed("fsmount") : move_onto(tree, target);
}

static int mask_path(const char *path)
{
    struct stat sb;
    cleanup_close int target = open_mask_target(path, &sb);
    if (target < 0)
        return errno == ENOENT ? 0 : -1;
    return S_ISDIR(sb.st_mode) ? mask_dir(target) : mask_file(target);
}

/* A read-only copy of the path's mount tree goes on top of it; unlike a
 * remount, mount_setattr sets only MOUNT_ATTR_RDONLY, so the flags a user
 * namespace may not clear stay as they are. */
static int readonly_path(const char *path)
{
    struct stat sb;
    struct mount_attr attr;
    cleanup_close int target = open_mask_target(path, &sb);
    if (target < 0)
        return errno == ENOENT ? 0 : -1;
    cleanup_close int tree = (int)syscall(SYS_open_tree, target, "",
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (tree < 0)
        return failed("open_tree");
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return failed("mount_setattr");
    return move_onto(keep_fd(&tree), target);
}

static int loopback_up(void)
{
    struct ifreq ifr;
    cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return failed("socket");
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return failed("ioctl SIOCGIFFLAGS");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? failed("ioctl SIOCSIFFLAGS") : 0;
}

/* Send fd to the parent in a message of this type and wait for its ack (it
 * has passed the fd on by then); the caller closes its copy. */
static int hand_over_fd(const struct pyoci_launch *l, int type, int step, int fd)
{
    struct pyoci_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.length = sizeof m;
    m.step = step;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    /* CMSG_FIRSTHDR hands out the buffer as a struct cmsghdr: the union
     * aligns it for one, as cmsg(3) shows; a char array need not be. */
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cbuf;
    memset(&cbuf, 0, sizeof cbuf);
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.buf;
    mh.msg_controllen = sizeof cbuf.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(l->sync_fd, &mh, MSG_NOSIGNAL) < 0)
        return failed("sendmsg");
    wait_ack(l->sync_fd);
    return 0;
}

/* Load the BPF program; with SECCOMP_FILTER_FLAG_NEW_LISTENER (the profile
 * uses SCMP_ACT_NOTIFY) the kernel returns the notify fd, which goes to the
 * parent for the seccomp agent at linux.seccomp.listenerPath.  The filter
 * already applies to the sendmsg and recv that hand the fd over: a profile
 * that sends those to the agent blocks the init before the agent has it. */
static int load_seccomp(const struct pyoci_launch *l, int step, const struct pyoci_step *st)
{
    /* sock_fprog.len is an unsigned short: a longer program must not load
     * as its first instructions.  The kernel takes no more than BPF_MAXINSNS. */
    if (OP_SECCOMP_LENGTH(st) > BPF_MAXINSNS)
        return refused(E2BIG);
    struct sock_fprog prog = {.len = (unsigned short)OP_SECCOMP_LENGTH(st),
                              .filter = (struct sock_filter *)(void *)OP_SECCOMP_PROGRAM(st)};
    unsigned int flags = (unsigned int)OP_SECCOMP_FLAGS(st);
    if (!flags)
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? failed("prctl") : 0;
    int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0)
        return failed("seccomp");
    if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
        return 0;
    cleanup_close int notify = r;
    return hand_over_fd(l, PYOCI_MSG_SECCOMP, step, notify);
}

static int do_console(const struct pyoci_launch *l, int step, const struct pyoci_step *st)
{
    cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return failed("open");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return failed("ioctl TIOCSPTLCK");
    cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0)
        return failed("ioctl TIOCGPTPEER");
    if (OP_CONSOLE_ROWS(st) || OP_CONSOLE_COLS(st)) {
        struct winsize ws;
        memset(&ws, 0, sizeof ws);
        ws.ws_row = (unsigned short)OP_CONSOLE_ROWS(st);
        ws.ws_col = (unsigned short)OP_CONSOLE_COLS(st);
        if (ioctl(master, TIOCSWINSZ, &ws) < 0)
            return failed("ioctl TIOCSWINSZ");
    }

    /* Hand the master to the parent, which passes it on to --console-socket. */
    if (hand_over_fd(l, PYOCI_MSG_CONSOLE, step, master) < 0)
        return -1;

    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return failed("ioctl TIOCSCTTY");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return failed("dup2");
    if (slave <= 2)
        keep_fd(&slave); /* it is stdio now */
    return 0;
}

static int keep_caps(const struct pyoci_step *st)
{
    unsigned long long bounding = OP_KEEP_CAPS_BOUNDING(st);
    int last = (int)OP_KEEP_CAPS_LAST_CAP(st);
    for (int cap = 0; cap <= last; cap++) {
        if (bounding & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return failed("prctl PR_CAPBSET_DROP");
    }
    return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? failed("prctl PR_SET_KEEPCAPS") : 0;
}

static int set_caps(const struct pyoci_step *st)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(OP_CAPS_EFFECTIVE(st) >> (32 * i));
        data[i].permitted = (uint32_t)(OP_CAPS_PERMITTED(st) >> (32 * i));
        data[i].inheritable = (uint32_t)(OP_CAPS_INHERITABLE(st) >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return failed("capset");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return failed("prctl PR_SET_KEEPCAPS");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return failed("prctl PR_CAP_AMBIENT");
    for (int cap = 0; cap < 64; cap++)
        if ((OP_CAPS_AMBIENT(st) & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return failed("prctl PR_CAP_AMBIENT");
    return 0;
}

static int is_executable(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return 0;
    if (!S_ISREG(sb.st_mode)) {
        errno = EACCES;
        return 0;
    }
    return access(path, X_OK) == 0;
}

/* execvp's search, done before the container waits for start so that a
 * missing program fails `create`, as runc does. */
static int resolve_exec(const char *prog, const char *pathvar)
{
    if (strchr(prog, '/')) {
        if (strlen(prog) >= sizeof exec_path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        strcpy(exec_path, prog);
        return is_executable(exec_path) ? 0 : -1;
    }
    if (!pathvar)
        pathvar = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int err = ENOENT;
    const char *p = pathvar;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen == 0) {
            dlen = 1;
            p = ".";
        }
        if (dlen + 1 + strlen(prog) < sizeof exec_path) {
            memcpy(exec_path, p, dlen);
            exec_path[dlen] = '/';
            strcpy(exec_path + dlen + 1, prog);
            if (is_executable(exec_path))
                return 0;
            if (errno == EACCES)
                err = EACCES;
        }
        if (!end)
            break;
        p = end + 1;
    }
    errno = err;
    return -1;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long to wait for pid before checking on it again, when no pidfd tells
 * us it has exited. */
#define HOOK_POLL_MS 10

/* Wait until the hook pid has exited (0, left to be reaped) or its timeout
 * of seconds has passed (-1, ETIMEDOUT, the hook killed and reaped).  The
 * deadline is kept in milliseconds of the monotonic clock, a wide type: a
 * timeout may be any positive integer, and seconds * 1000 in an int wraps, to a poll
 * that never ends or one that ends at once.  poll takes at most INT_MAX ms
 * a call, so a longer wait is several.  Where pidfd_open is missing or
 * refused (an old kernel, a seccomp profile loaded before the
 * startContainer hooks) the same deadline holds, checked by waitid every
 * HOOK_POLL_MS: a timeout the config sets is never dropped. */
static int wait_hook(pid_t pid, unsigned long long seconds)
{
    long long now = monotonic_ms();
    long long deadline = LLONG_MAX; /* for a timeout of more than LLONG_MAX ms */
    if (seconds < (unsigned long long)(LLONG_MAX - now) / 1000)
        deadline = now + (long long)seconds * 1000;
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        siginfo_t info;
        info.si_pid = 0;
        /* WNOWAIT: the caller reaps it and reads its status */
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR)
            return failed("waitid");
        if (info.si_pid == pid)
            return 0;
        long long left = deadline - monotonic_ms();
        if (left <= 0)
            break;
        if (pidfd < 0) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (left < HOOK_POLL_MS ? left : HOOK_POLL_MS) * 1000000L};
            nanosleep(&ts, NULL);
        } else {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            poll(&pfd, 1, left < INT_MAX ? (int)left : INT_MAX);
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return refused(ETIMEDOUT);
}

/* Run a hook in the container's namespaces with the state on its stdin.
 * Returns 0, or -1 with errno set, or the hook's non-zero wait status in *status. */
static int run_hook(const struct pyoci_step *st, int *status)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return failed("pipe2");
    pid_t pid = raw_fork();
    if (pid < 0)
        return failed("clone");
    if (pid == 0) {
        if (dup2(p[0], 0) < 0)
            _exit(127);
        execve(OP_HOOK_PATH(st), OP_HOOK_ARGS(st), OP_HOOK_ENV(st));
        _exit(127);
    }
    close(p[0]);
    /* A hook that does not read its stdin must not kill us with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < state_len) {
        ssize_t n = write(p[1], state_buf + off, state_len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);

    if (OP_HOOK_TIMEOUT(st) && wait_hook(pid, OP_HOOK_TIMEOUT(st)) < 0)
        return -1;
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return failed("waitpid");
    if (ws != 0) {
        *status = ws;
        return -1;
    }
    return 0;
}

static void exit_on_signal(int sig)
{
    _exit(128 + sig);
}

/* While waiting for start the init may be a pid namespace's init, which the
 * kernel shields from every signal it has no handler for: handle the ones
 * that mean "stop" so `kill ID TERM` ends a created container.  execve()
 * resets handled signals to their defaults. */
static void handle_stop_signals(void)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], exit_on_signal);
}

static void wait_start(const struct pyoci_launch *l)
{
    handle_stop_signals();
    send_msg(PYOCI_MSG_READY, -1, 0, 0, 0, NULL);
    close(l->sync_fd);
    for (;;) {
        int conn = accept4(l->start_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        /* A `start` that goes away before its state is in leaves the
         * container created, for the next one. */
        report_fd = conn;
        if (receive_reply(conn)) {
            close(l->start_fd);
            return;
        }
        report_fd = -1;
        close(conn);
    }
}

/* Nothing of the runtime's may reach the program: every fd past stdio and
 * the ones passed on purpose closes at execve.  A step of its own, before a
 * late seccomp filter, which may not allow these calls. */
static int close_on_exec(const struct pyoci_launch *l)
{
    unsigned int first = 3 + (unsigned int)l->keep_fds;
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return failed("close_range");
    for (int fd = 3; fd < (int)first; fd++)
        fcntl(fd, F_SETFD, 0);
    return 0;
}

static int run_step(const struct pyoci_launch *l, int i, int *status)
{
    const struct pyoci_step *st = &l->steps[i];
    struct rlimit rl;
    switch (st->op) {
    case PYOCI_OP_UNSHARE:
        return unshare((int)OP_UNSHARE_FLAGS(st));
    case PYOCI_OP_JOIN_KEYRING:
        /* The container must not share the caller's session keyring; a
         * kernel without keys has nothing to share. */
        if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, OP_JOIN_KEYRING_NAME(st)) < 0 && errno != ENOSYS)
            return -1;
        return 0;
    case PYOCI_OP_ROOT_PROPAGATION:
        return mount(NULL, "/", NULL, (unsigned long)OP_ROOT_PROPAGATION_FLAGS(st), NULL);
    case PYOCI_OP_BIND_ROOTFS:
        if (OP_BIND_ROOTFS_BIND(st)
            && mount(OP_BIND_ROOTFS_ROOTFS(st), OP_BIND_ROOTFS_ROOTFS(st), NULL, MS_BIND | MS_REC, NULL) < 0)
            return -1;
        rootfd = open(OP_BIND_ROOTFS_ROOTFS(st), O_PATH | O_DIRECTORY | O_CLOEXEC);
        return rootfd < 0 ? -1 : 0;
    case PYOCI_OP_MOUNT:
        return do_mount(st);
    case PYOCI_OP_ATTACH_MOUNT:
        return attach_mount(st);
    case PYOCI_OP_REMOUNT:
    case PYOCI_OP_PROPAGATE:
    case PYOCI_OP_SETATTR:
        return on_mounted(st);
    case PYOCI_OP_MKNOD:
        return do_mknod(st);
    case PYOCI_OP_SYMLINK:
        return do_symlink(st);
    case PYOCI_OP_MAKE_PARENT_PRIVATE:
        return mount(NULL, OP_MAKE_PARENT_PRIVATE_PATH(st), NULL, MS_PRIVATE, NULL);
    case PYOCI_OP_SYNC:
        send_msg(PYOCI_MSG_SYNC, i, 0, (int)OP_SYNC_PHASE(st), 0, NULL);
        wait_ack(l->sync_fd);
        return 0;
    case PYOCI_OP_HOOK:
        return run_hook(st, status);
    case PYOCI_OP_PIVOT_ROOT:
        return do_pivot_root(OP_PIVOT_ROOT_ROOTFS(st));
    case PYOCI_OP_CHROOT:
        return do_chroot(OP_CHROOT_ROOTFS(st), (int)OP_CHROOT_MOVE(st));
    case PYOCI_OP_WRITE_FILE:
        return write_proc_file(OP_WRITE_FILE_PATH(st), OP_WRITE_FILE_CONTENT(st));
    case PYOCI_OP_REOPEN_DEV_NULL:
        return reopen_dev_null();
    case PYOCI_OP_MASK_PATH:
        return mask_path(OP_MASK_PATH_PATH(st));
    case PYOCI_OP_READONLY_PATH:
        return readonly_path(OP_READONLY_PATH_PATH(st));
    case PYOCI_OP_REMOUNT_ROOT_RO:
        return remount("/", MS_RDONLY);
    case PYOCI_OP_SETHOSTNAME:
        return sethostname(OP_SETHOSTNAME_NAME(st), strlen(OP_SETHOSTNAME_NAME(st)));
    case PYOCI_OP_SETDOMAINNAME:
        return setdomainname(OP_SETDOMAINNAME_NAME(st), strlen(OP_SETDOMAINNAME_NAME(st)));
    case PYOCI_OP_LOOPBACK_UP:
        return loopback_up();
    case PYOCI_OP_SETRLIMIT:
        rl.rlim_cur = (rlim_t)OP_SETRLIMIT_SOFT(st);
        rl.rlim_max = (rlim_t)OP_SETRLIMIT_HARD(st);
        return prlimit(0, (int)OP_SETRLIMIT_RESOURCE(st), &rl, NULL);
    case PYOCI_OP_SCHED_SETATTR:
        return (int)syscall(SYS_sched_setattr, 0, OP_SCHED_SETATTR_ATTR(st), 0);
    case PYOCI_OP_IOPRIO:
        return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)OP_IOPRIO_VALUE(st));
    case PYOCI_OP_PERSONALITY:
        return personality((unsigned long)OP_PERSONALITY_PERSONA(st)) < 0 ? -1 : 0;
    case PYOCI_OP_MEMPOLICY:
        return (int)syscall(SYS_set_mempolicy, (int)OP_MEMPOLICY_MODE(st), OP_MEMPOLICY_NODES(st),
                            (unsigned long)OP_MEMPOLICY_MAXNODE(st));
    case PYOCI_OP_CONSOLE:
        return do_console(l, i, st);
    case PYOCI_OP_CHDIR:
        return chdir(OP_CHDIR_PATH(st));
    case PYOCI_OP_UMASK:
        umask((mode_t)OP_UMASK_MASK(st));
        return 0;
    case PYOCI_OP_KEEP_CAPS:
        return keep_caps(st);
    case PYOCI_OP_SETGROUPS:
        return setgroups((size_t)OP_SETGROUPS_COUNT(st), OP_SETGROUPS_GIDS(st));
    case PYOCI_OP_SETID:
        if (setresgid((gid_t)OP_SETID_GID(st), (gid_t)OP_SETID_GID(st), (gid_t)OP_SETID_GID(st)) < 0)
            return -1;
        return setresuid((uid_t)OP_SETID_UID(st), (uid_t)OP_SETID_UID(st), (uid_t)OP_SETID_UID(st));
    case PYOCI_OP_CAPS:
        return set_caps(st);
    case PYOCI_OP_NO_NEW_PRIVS:
        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    case PYOCI_OP_RESOLVE_EXEC:
        return resolve_exec(OP_RESOLVE_EXEC_PROGRAM(st), OP_RESOLVE_EXEC_PATH(st));
    case PYOCI_OP_WAIT_START:
        wait_start(l);
        return 0;
    case PYOCI_OP_SECCOMP:
        return load_seccomp(l, i, st);
    case PYOCI_OP_CLOSE_ON_EXEC:
        return close_on_exec(l);
    case PYOCI_OP_EXEC:
        execve(exec_path, OP_EXEC_ARGS(st), OP_EXEC_ENV(st));
        return -1;
    }
    return refused(EINVAL);
}

/* ---- the child ------------------------------------------------------------ */

static void reset_signals(void)
{
    /* Python ignores SIGPIPE and handles SIGINT; the container must start
     * with default dispositions and an empty mask. */
    for (int sig = 1; sig < _NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_main(struct pyoci_launch *l)
{
    report_fd = l->sync_fd;
    /* Until execve (which sets it back for the user's program), no process
     * of the container may ptrace this one or open its /proc/<pid>/mem,
     * environ or exe: it is a copy of the runtime's interpreter, with the
     * runtime's memory.  A process of the same user may do all that to a
     * dumpable process, and another container's processes can see this one
     * when they share its pid namespace.  It is lifted only while the parent
     * writes the id maps (see below). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail_setup(l, "prctl PR_SET_DUMPABLE");
    for (int i = 0; i < l->nclose; i++)
        syscall(SYS_close_range, l->close_first[i], l->close_last[i], 0);
    reset_signals();
    umask(0); /* device nodes and directories get exactly the modes asked for */

    for (int i = 0; i < l->njoin; i++) {
        if (setns(l->join_fds[i], l->join_types[i]) < 0)
            fail_setup(l, "setns");
        close(l->join_fds[i]);
    }
    if (l->unshare_flags && unshare(l->unshare_flags) < 0)
        fail_setup(l, "unshare");
    if (l->new_userns) {
        /* A non-dumpable process's /proc files belong to root: an
         * unprivileged parent (or the setuid newuidmap it runs, which checks
         * who owns the target) could not write its uid_map.  No other process
         * is in the new namespace yet, as runc reasons. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
            fail_setup(l, "prctl PR_SET_DUMPABLE");
        send_msg(PYOCI_MSG_USERNS, -1, 0, 0, 0, NULL);
        wait_ack(l->sync_fd);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
            fail_setup(l, "prctl PR_SET_DUMPABLE");
        if (setresgid(0, 0, 0) < 0)
            fail_setup(l, "setresgid");
        if (setresuid(0, 0, 0) < 0)
            fail_setup(l, "setresuid");
    }
    if (l->timens_offsets && write_file("/proc/self/timens_offsets", l->timens_offsets) < 0)
        fail(l, -1, errno, 0);
    if (l->fork_after) {
        pid_t pid = raw_fork();
        if (pid < 0)
            fail_setup(l, "clone");
        if (pid > 0) {
            send_msg(PYOCI_MSG_PID, -1, 0, 0, pid, NULL);
            _exit(0);
        }
    } else {
        send_msg(PYOCI_MSG_PID, -1, 0, 0, 0, NULL);
    }
    wait_ack(l->sync_fd);
    if (setsid() < 0)
        fail_setup(l, "setsid");

    for (int i = 0; i < l->nsteps; i++) {
        int status = 0;
        errno = 0;
        failed_call = NULL;
        if (run_step(l, i, &status) < 0)
            fail(l, i, errno, status);
    }
    _exit(0);
}

int pyoci_umount(const char *path)
{
    return umount2(path, MNT_DETACH);
}

int pyoci_set_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static int write_map(pid_t pid, const char *name, const char *map)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    return write_file(path, map);
}

/* A user namespace with the given maps, held by a child that only waits. */
static int userns_with_maps(const char *uid_map, const char *gid_map)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    if (pid == 0) {
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    int e = errno;
    close(hold[0]);
    int fd = -1;
    if (pid > 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        if (write_map(pid, "uid_map", uid_map) == 0 && write_map(pid, "gid_map", gid_map) == 0)
            fd = open(path, O_RDONLY | O_CLOEXEC);
        e = errno;
    }
    close(hold[1]); /* the child reads EOF and exits */
    if (pid > 0)
        waitpid(pid, NULL, 0);
    errno = e;
    return fd;
}

int pyoci_idmapped_tree(const char *source, const char *uid_map, const char *gid_map, int recursive,
                        int idmap_all)
{
    cleanup_close int userns = userns_with_maps(uid_map, gid_map);
    if (userns < 0)
        return -errno;
    cleanup_close int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source,
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (tree < 0)
        return -errno;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)userns;
    unsigned int at_flags = AT_EMPTY_PATH | (idmap_all ? AT_RECURSIVE : 0);
    if (syscall(SYS_mount_setattr, tree, "", at_flags, &attr, sizeof attr) < 0)
        return -errno;
    return keep_fd(&tree);
}

int pyoci_setns(int fd, int nstype)
{
    return setns(fd, nstype);
}

/* The child is born in the container's cgroup2 cgroup when cgroup_fd is
 * set: no migration afterwards, so no wait for the write side of the
 * kernel's cgroup_threadgroup_rwsem (an RCU grace period on the first one),
 * and no moment in which the init runs outside its limits.  A kernel
 * without clone3 or CLONE_INTO_CGROUP (or a cgroup this caller may not
 * clone into) gets the plain clone, and the parent joins the cgroup later. */
int pyoci_spawn(struct pyoci_launch *l)
{
    pid_t pid = -1;
    l->in_cgroup = 0;
    if (l->cgroup_fd >= 0) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)(unsigned int)l->clone_flags | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)l->cgroup_fd;
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid > 0)
            l->in_cgroup = 1;
    }
    if (pid < 0)
        pid = (pid_t)syscall(SYS_clone, (unsigned long)(l->clone_flags | SIGCHLD), 0, 0, 0, 0);
    if (pid == 0)
        child_main(l);
    return pid;
}
