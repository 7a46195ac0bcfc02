/*
 * The `pyoci` command: exec the python3 next to this launcher with -I -S and
 * a bootstrap that runs pyoci's command line.
 *
 * Engines start the runtime once per operation, so start-up is most of the
 * cost of start, state, kill and delete.  A `#!python` script would run
 * `site` (several ms, and every .pth hook of the environment), and installers
 * strip flags from that line; a shell script costs a shell (~1.3 ms).  This
 * costs one small exec.  -I: PYTHON* variables and the user's site directory
 * must not change what a runtime does.  -S: no site; the one directory it
 * would add for us, the environment's site-packages, is added by hand.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
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
