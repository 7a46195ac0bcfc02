/*
 * The `pyoci` command: exec the python3 next to this launcher with -I -S and
 * a bootstrap that runs pyoci's command line.
 *
 * Engines start the runtime once per operation, so start-up is most of the
 * cost of start, state, kill and delete.  A `#!python` script would run
 * `site` (and every .pth hook of the environment), and installers strip
 * flags from that line; a shell script costs a shell (bench/README.md).  This
 * costs one small exec.  -I: PYTHON* variables and the user's site directory
 * must not change what a runtime does.  -S: no site; the one directory it
 * would add for us, the environment's site-packages, is added by hand.
 *
 * For create, run and exec it first starts the cgroup warm-up (warm_migrations),
 * except on a pure cgroup v2 host, where nothing migrates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* The warm-up's limit, should the runtime not end it: a create's init has
 * joined its cgroup well within this. */
#define WARM_BUDGET_MS 200
#define WARMUP_VARIABLE "PYOCI_WARMUP_PID"
#define WARM_EVERY_MS 2

static const char BOOTSTRAP[] =
    "import sys\n"
    "prefix = sys.executable.rpartition('/bin/')[0]\n"
    "sys.path.append('%s/lib/python%d.%d/site-packages' % (prefix, *sys.version_info[:2]))\n"
    "try:\n"
    "    from pyoci.cli import run_and_exit\n"
    "except ImportError:  # installed outside a prefix layout (a distribution's dist-packages)\n"
    "    import site\n"
    "    site.main()\n"
    "    from pyoci.cli import run_and_exit\n"
    "run_and_exit()\n";

/* The cgroup.procs of this process's own cgroup in the cgroup2 hierarchy,
 * else in a v1 hierarchy, where distributions mount them; 0 when neither is
 * there (the warm-up is then skipped; nothing else changes).  Any hierarchy
 * will do: the lock the warm-up is for is one for all of them. */
static int own_cgroup_procs(char *procs, size_t size)
{
    static const char *const v2_mounts[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    char lines[4096], mount[PATH_MAX];
    struct statfs fs;
    int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, lines, sizeof(lines) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    lines[n] = '\0';
    *procs = '\0';
    /* Lines are "id:controllers:path"; the cgroup2 one is "0::path". */
    for (char *line = strtok(lines, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *controllers = strchr(line, ':'), *path;
        if (controllers == NULL || (path = strchr(++controllers, ':')) == NULL)
            continue;
        *path++ = '\0';
        if (strcmp(path, "/") == 0)
            path = "";
        if (*controllers == '\0') {
            for (size_t i = 0; i < sizeof(v2_mounts) / sizeof(v2_mounts[0]); i++)
                if (statfs(v2_mounts[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                    return snprintf(procs, size, "%s%s/cgroup.procs", v2_mounts[i], path) < (int)size;
        } else if (*procs == '\0' && strncmp(controllers, "name=", 5) != 0) {
            snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", controllers);
            if (statfs(mount, &fs) != 0 || fs.f_type != CGROUP_SUPER_MAGIC
                || snprintf(procs, size, "%s%s/cgroup.procs", mount, path) >= (int)size)
                *procs = '\0';
        }
    }
    return *procs != '\0';  /* no cgroup2: the first v1 hierarchy found */
}

/* Pay the wait of create's first cgroup migration while the interpreter
 * starts, in a process of its own; returns its pid, or 0.
 *
 * A write to cgroup.procs takes the kernel's cgroup_threadgroup_rwsem for
 * writing, which, from its idle fast-path state, first waits for an RCU grace
 * period (bench/README.md; runc pays it too), and holds cgroup_mutex
 * meanwhile, so even mkdir of the container's cgroups waits behind it.  For a
 * grace period after a write the next writer does not wait.  So a helper
 * moves itself into its own cgroup (a no-op move) at once and again every
 * WARM_EVERY_MS: create's mkdirs and the init's join then find the lock ready.
 * Forks elsewhere take the lock's slower read side meanwhile, as during any
 * migration.
 *
 * The helper is the runtime's child, named to it in WARMUP_VARIABLE:
 * pyoci/launch/warmup.py ends and reaps it once the init has joined, or when the
 * command ends, so it is never left to an engine's subreaper.  It closes
 * every descriptor, so that an engine reading the runtime's output is not
 * held up, and ends by itself if the runtime dies or WARM_BUDGET_MS passes.
 * Anything failing just ends it: the join then waits as it would have. */
static pid_t warm_migrations(void)
{
    char procs[PATH_MAX + 32], pid[24];
    struct statfs fs;
    /* On a pure cgroup2 host create and exec clone their process straight
     * into its cgroup (CLONE_INTO_CGROUP): nothing migrates, and the helper
     * would only cost CPU and make create's mkdir wait behind its first
     * write (bench/cgroup_entry.py: create 0.89 of the time without it). */
    if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
        return 0;
    if (!own_cgroup_procs(procs, sizeof(procs)))
        return 0;
    int runtime = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (runtime < 0)
        return 0;
    pid_t helper = fork();
    if (helper != 0) {
        close(runtime);
        return helper > 0 ? helper : 0;
    }
    if ((runtime > 0 && close_range(0, (unsigned)runtime - 1, 0) != 0) || close_range((unsigned)runtime + 1, ~0U, 0) != 0)
        _exit(0);
    int len = snprintf(pid, sizeof(pid), "%d", getpid());
    struct pollfd exited = {.fd = runtime, .events = POLLIN};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, (size_t)len) != len)
            _exit(0);
        close(fd);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < WARM_BUDGET_MS
             && poll(&exited, 1, WARM_EVERY_MS) == 0);
    _exit(0);
}

int main(int argc, char **argv)
{
    /* The variable names this launcher's helper and nothing else. */
    unsetenv(WARMUP_VARIABLE);
    /* Any argument will do (a container named "run" costs a helper ended at
     * once): telling the command from the global flags' values is the CLI's. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "create") == 0 || strcmp(argv[i], "run") == 0 || strcmp(argv[i], "exec") == 0) {
            pid_t helper = warm_migrations();
            char value[24];
            snprintf(value, sizeof(value), "%d", (int)helper);
            if (helper > 0)
                setenv(WARMUP_VARIABLE, value, 1);
            break;
        }

    static const char interpreter[] = "python3";
    char path[PATH_MAX];
    /* The launcher's own directory (symlinks to it resolved), but not the
     * interpreter's: python3 in a venv is a symlink, and the venv is found
     * from the path it is started by. */
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - sizeof(interpreter));
    if (n < 0) {
        fprintf(stderr, "pyoci: /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, interpreter);

    char **args = calloc((size_t)argc + 5, sizeof(char *));
    if (args == NULL) {
        fprintf(stderr, "pyoci: out of memory\n");
        return 1;
    }
    args[0] = path;
    args[1] = "-I";
    args[2] = "-S";
    args[3] = "-c";
    args[4] = (char *)BOOTSTRAP;
    memcpy(args + 5, argv + 1, (size_t)argc * sizeof(char *)); /* with the closing NULL */
    execv(path, args);
    fprintf(stderr, "pyoci: %s: %s\n", path, strerror(errno));
    return 1;
}
