/* pyoci shim, parent side: OCI seccomp profile -> BPF through libseccomp.
 *
 * Runs in the runtime (create), never in the container's child: Python
 * turns linux.seccomp into these calls, exports the filter as a BPF
 * program, and the child only loads those bytes (PYOCI_OP_SECCOMP), as late
 * as the plan puts it.  Errors are negative errno values, as libseccomp's.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_shim.h"

void *pyoci_seccomp_new(unsigned int default_action)
{
    return seccomp_init(default_action);
}

int pyoci_seccomp_arch(void *ctx, const char *name)
{
    uint32_t arch = seccomp_arch_resolve_name(name);
    if (arch == 0)
        return -EINVAL;
    int r = seccomp_arch_add(ctx, arch);
    return r == -EEXIST ? 0 : r;
}

int pyoci_seccomp_arch_known(const char *name)
{
    return seccomp_arch_resolve_name(name) != 0;
}

int pyoci_seccomp_syscall(const char *name)
{
    return seccomp_syscall_resolve_name(name);
}

int pyoci_seccomp_rule(void *ctx, unsigned int action, int syscall_nr, unsigned int nargs,
                       const unsigned int *index, const int *op,
                       const unsigned long long *value, const unsigned long long *value_two)
{
    struct scmp_arg_cmp cmp[6];
    if (nargs > 6)
        return -EINVAL;
    for (unsigned int i = 0; i < nargs; i++) {
        cmp[i].arg = index[i];
        cmp[i].op = (enum scmp_compare)op[i];
        cmp[i].datum_a = value[i];
        cmp[i].datum_b = value_two[i];
    }
    return seccomp_rule_add_array(ctx, action, syscall_nr, nargs, cmp);
}

int pyoci_seccomp_export(void *ctx, int fd)
{
    return seccomp_export_bpf(ctx, fd);
}

/* 1 when the running kernel has this SECCOMP_RET_* action (features). */
int pyoci_seccomp_action_available(unsigned int action)
{
    return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* 1 when the running kernel takes these SECCOMP_FILTER_FLAG_* bits
 * (features): it checks the flags before it reads the program, so with no
 * program a known flag fails EFAULT and an unknown one EINVAL. */
int pyoci_seccomp_flags_supported(unsigned int flags)
{
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

/* The version of the libseccomp loaded at run time, not of the headers it
 * was built against: what a filter is compiled with. */
void pyoci_seccomp_version(unsigned int version[3])
{
    const struct scmp_version *loaded = seccomp_version();
    version[0] = loaded->major;
    version[1] = loaded->minor;
    version[2] = loaded->micro;
}

void pyoci_seccomp_free(void *ctx)
{
    seccomp_release(ctx);
}
