/* pyoci shim, parent side: the cgroup v2 device controller.
 *
 * cgroup2 has no devices.allow/deny files; access to device nodes is decided
 * by a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.  Python
 * (pyoci.cgroups.device_program) writes the program's instructions from
 * linux.resources.devices; this loads it and attaches it to the container's
 * cgroup during create, before the init joins.  The attachment holds the
 * program; the fds used here are closed.  Errors are negative errno values.
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

int pyoci_device_program_attach(const char *cgroup_dir, const void *insns, unsigned int count)
{
    static char license[] = "Apache-2.0";
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (unsigned long)insns;
    attr.insn_cnt = count;
    attr.license = (unsigned long)license;
    int prog = bpf(BPF_PROG_LOAD, &attr);
    if (prog < 0)
        return -errno;
    int cgroup = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup < 0) {
        int e = errno;
        close(prog);
        return -e;
    }
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (unsigned int)cgroup;
    attr.attach_bpf_fd = (unsigned int)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    /* Programs of parent cgroups keep applying too, as with v1's hierarchy. */
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    int r = bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
    close(cgroup);
    close(prog);
    return r;
}
