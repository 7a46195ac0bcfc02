/* pyoci's libseccomp extension (seccomp.c), apart from the shim so that only
 * a container with linux.seccomp, and `features`, load libseccomp: parent
 * side, it builds a filter and exports it as BPF for PYOCI_OP_SECCOMP, which
 * the shim's child loads.  Negative returns are -errno.
 *
 * Read by the C compiler and by cffi's cdef, as shim.h is.
 */
void *pyoci_seccomp_new(unsigned int default_action);
int pyoci_seccomp_arch(void *ctx, const char *name);
int pyoci_seccomp_arch_known(const char *name);
int pyoci_seccomp_syscall(const char *name);
int pyoci_seccomp_rule(void *ctx, unsigned int action, int syscall_nr, unsigned int nargs,
                       const unsigned int *index, const int *op,
                       const unsigned long long *value, const unsigned long long *value_two);
int pyoci_seccomp_export(void *ctx, int fd);
void pyoci_seccomp_free(void *ctx);

/* features: what the running kernel takes */
int pyoci_seccomp_action_available(unsigned int action);
int pyoci_seccomp_flags_supported(unsigned int flags);

/* `pyoci --version`: major, minor, micro of the libseccomp loaded */
void pyoci_seccomp_version(unsigned int version[3]);
