/* pyoci shim, parent side: the cgroup v2 device controller.
 *
 * cgroup2 has no devices.allow/deny files; access to device nodes is decided
 * by a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.  Python
 * (pyoci.cgroups.device_program) writes the program's instructions from
 * linux.resources.devices; this loads it and attaches it to the container's
 * cgroup: during create, before the init joins, and again for each `update`
 * of the rules, in place of the program create (or the last update) attached.
 * The attachment holds the program; the fds used here are closed.  Errors are
 * negative errno values.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

static int bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load(const void *insns, unsigned int count)
{
    static char license[] = "Apache-2.0";
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (unsigned long)insns;
    attr.insn_cnt = count;
    attr.license = (unsigned long)license;
    return bpf(BPF_PROG_LOAD, &attr);
}

/* The id the kernel gave the program of fd: what the state records, so that
 * an update can name the program it replaces. */
static int program_id(int fd)
{
    struct bpf_prog_info info;
    union bpf_attr attr;
    memset(&info, 0, sizeof info);
    memset(&attr, 0, sizeof attr);
    attr.info.bpf_fd = (unsigned int)fd;
    attr.info.info_len = sizeof info;
    attr.info.info = (unsigned long)&info;
    return bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : (int)info.id;
}

/* *fd: the program replace_id, -1 when there is none to replace (no id, or
 * the program is gone: its attachment was its last holder).  0 or -errno. */
static int replaced(unsigned int replace_id, int *fd)
{
    *fd = -1;
    if (replace_id == 0)
        return 0;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = replace_id;
    *fd = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    return *fd >= 0 || errno == ENOENT ? 0 : -errno;
}

static int attach(int cgroup, int prog, int old, unsigned int flags)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (unsigned int)cgroup;
    attr.attach_bpf_fd = (unsigned int)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    /* Programs of parent cgroups keep applying too, as with v1's hierarchy. */
    attr.attach_flags = BPF_F_ALLOW_MULTI | flags;
    if (flags & BPF_F_REPLACE)
        attr.replace_bpf_fd = (unsigned int)old;
    return bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
}

static int detach(int cgroup, int prog)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (unsigned int)cgroup;
    attr.attach_bpf_fd = (unsigned int)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return bpf(BPF_PROG_DETACH, &attr) < 0 ? -errno : 0;
}

/* Take every program attached to cgroup itself, but keep_id, off it: in a
 * cgroup of the container's own, any other is one an update that was killed
 * before it recorded its program's id left there, or one a runtime that did
 * not record ids attached.  Ancestors' programs are not listed (no
 * BPF_F_QUERY_EFFECTIVE). */
static int detach_others(int cgroup, unsigned int keep_id)
{
    unsigned int ids[64];
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (unsigned int)cgroup;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (unsigned long)ids;
    attr.query.prog_cnt = sizeof ids / sizeof ids[0];
    if (bpf(BPF_PROG_QUERY, &attr) < 0)
        return -errno;
    for (unsigned int i = 0; i < attr.query.prog_cnt; i++) {
        int fd;
        if (ids[i] == keep_id || replaced(ids[i], &fd) < 0 || fd < 0)
            continue;
        detach(cgroup, fd);  /* ENOENT: taken off meanwhile */
        close(fd);
    }
    return 0;
}

/* Every program attached with BPF_F_ALLOW_MULTI must allow an access, so the
 * old program is replaced, not joined: a second one could only tighten.
 * BPF_F_REPLACE swaps it in one step, and only where it is attached to this
 * cgroup; a kernel without it (before 5.6, EINVAL) gets the new program
 * first and then loses the old, briefly holding both (the stricter of the
 * two), never neither.  Only the program named is taken off, and in a
 * cgroup pyoci made (sole) then every other one: a cgroup pyoci did not make
 * may hold others' programs. */
int pyoci_device_program_attach(const char *cgroup_dir, const void *insns, unsigned int count,
                                unsigned int replace_id, int sole)
{
    int prog = load(insns, count);
    if (prog < 0)
        return -errno;
    int old = -1, cgroup = -1;
    int id = program_id(prog);
    int r = id < 0 ? id : replaced(replace_id, &old);
    if (r == 0 && (cgroup = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        r = -errno;
    if (r < 0)
        goto out;
    r = old < 0 ? attach(cgroup, prog, -1, 0) : attach(cgroup, prog, old, BPF_F_REPLACE);
    if (r == -ENOENT && old >= 0) {
        /* Not attached here (taken off by someone else, or an id the kernel
         * reused): there is nothing to replace. */
        r = attach(cgroup, prog, -1, 0);
    } else if (r == -EINVAL && old >= 0) {
        r = attach(cgroup, prog, -1, 0);
        if (r == 0)
            detach(cgroup, old);  /* ENOENT: it was not attached here */
    }
    if (r == 0 && sole)
        r = detach_others(cgroup, (unsigned int)id);
out:
    if (cgroup >= 0)
        close(cgroup);
    if (old >= 0)
        close(old);
    close(prog);
    return r < 0 ? r : id;
}
