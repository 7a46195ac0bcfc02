/* pyoci shim: the C half of container creation.
 *
 * Python compiles config.json into a launch plan (struct pyoci_launch: the
 * namespace work plus a flat array of steps) and calls pyoci_spawn().  The
 * child it clones never returns to Python: it runs the plan in C and either
 * execs the user program or reports (step, errno) to the parent.
 *
 * These declarations are read both by the C compiler and by cffi's cdef, so
 * they stay within what cdef understands: no macros with expressions, no
 * preprocessor conditionals.
 */

/* The sync channel (pyoci/launch/sync.py is its Python side).  Each message is
 * one SOCK_SEQPACKET packet that starts with its type and length, and a
 * packet of any other length, or one the receiver's buffer cut short, is an
 * error, never a message.
 *
 * Messages from the child to the parent over the sync socket (and, after
 * start, over start's connection): a whole struct pyoci_msg. */
enum pyoci_msg_type {
    PYOCI_MSG_USERNS = 1,  /* new user namespace made: write uid/gid maps, then ack */
    PYOCI_MSG_PID,         /* pid = the container's init (host pid); ack after joining cgroups */
    PYOCI_MSG_SYNC,        /* step reached a sync point (phase in status) */
    PYOCI_MSG_CONSOLE,     /* carries the pty master as SCM_RIGHTS */
    PYOCI_MSG_READY,       /* setup done, waiting for start */
    PYOCI_MSG_ERROR,       /* step failed: step, err (errno), status (hook exit status), label */
    PYOCI_MSG_SECCOMP      /* carries the seccomp notify fd as SCM_RIGHTS; ack once it is passed on */
};

struct pyoci_msg {
    int type;
    int length;            /* sizeof(struct pyoci_msg) */
    int step;
    int err;
    int status;
    int pid;
    char label[500];
};

/* Replies from the parent (create, exec; start over its connection): a
 * struct pyoci_reply, and for a state its length bytes of JSON after it, in
 * packets of at most PYOCI_CHUNK bytes, so a state of any size gets through. */
enum pyoci_reply_type {
    PYOCI_REPLY_ACK = 1,   /* length 0: go on */
    PYOCI_REPLY_STATE      /* the state JSON for the hooks, length bytes */
};

struct pyoci_reply {
    unsigned int type;
    unsigned int length;
};

#define PYOCI_CHUNK 65536

/* One step of the plan: its opcode (enum pyoci_op) and arguments, and a
 * label naming the config field it came from, for error messages.  Which
 * argument goes in which member is declared once, per operation and by
 * name, in pyoci/plan/ops.py: the build generates ops.h from it (the enum,
 * and the OP_<OP>_<FIELD>(st) accessors shim.c reads a step with), and
 * pyoci.launch.native packs a step by the same table. */
struct pyoci_step {
    int op;
    unsigned long long n[5];
    const char *s[4];
    char *const *argv;
    char *const *envp;
    const char *label;
};

struct pyoci_launch {
    int clone_flags;        /* namespaces created by clone() itself */
    int unshare_flags;      /* namespaces created after joining others */
    int join_fds[8];        /* namespaces to join, user first */
    int join_types[8];
    int njoin;
    int new_userns;         /* wait for the parent to write id maps */
    int fork_after;         /* pid or time namespace applies to children: fork once more */
    const char *timens_offsets;  /* written to /proc/self/timens_offsets, or NULL */
    int sync_fd;            /* child's end of the sync socket */
    int start_fd;           /* listening socket `start` connects to, or -1 */
    int keep_fds;           /* fds 3 .. 3+keep_fds-1 survive (LISTEN_FDS, --preserve-fds) */
    unsigned int close_first[16]; /* fd ranges the child closes at once: everything it */
    unsigned int close_last[16];  /* was not handed on purpose (a lock, a log file...) */
    int nclose;
    int cgroup_fd;          /* cgroup2 directory to clone the child into (CLONE_INTO_CGROUP), or -1 */
    int in_cgroup;          /* set by pyoci_spawn: 1 when the child was cloned into cgroup_fd */
    int nsteps;
    struct pyoci_step *steps;
};

/* Clone the child and return its pid (the init, unless fork_after), or -1 with errno set. */
int pyoci_spawn(struct pyoci_launch *launch);

/* umount2(path, MNT_DETACH): delete takes down what a container without its
 * own mount namespace mounted in the host's. */
int pyoci_umount(const char *path);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): `run` waits for an init that is not its child. */
int pyoci_set_subreaper(void);

/* sockets.c, the runtime's ends of its sockets to the child (all
 * AF_UNIX SOCK_SEQPACKET, close-on-exec; -errno on failure): */
/* the sync socket pair, into fds */
int pyoci_socket_pair(int fds[2]);
/* a socket listening at name (relative to the working directory) */
int pyoci_listen(const char *name, int backlog);
/* a socket connected to name */
int pyoci_connect(const char *name);
/* one packet into buf (its length; 0 once the peer has gone; -EMSGSIZE for
 * one longer than size), and the descriptor it carried in *passed_fd (-1 if
 * none, which a caller must close even on -EMSGSIZE) */
int pyoci_receive(int fd, void *buf, int size, int *passed_fd);

/* Parent side, before the clone: a detached copy of the mount at source
 * (with its submounts when recursive), idmapped (on every mount of it when
 * idmap_all) through a user namespace with uid_map and gid_map ("inside
 * outside count" lines).  The idmapping must be set from the user namespace
 * that owns the filesystem, the host's, not from the container's; the child
 * attaches the tree (PYOCI_OP_ATTACH_MOUNT).  Returns the fd or -errno. */
int pyoci_idmapped_tree(const char *source, const char *uid_map, const char *gid_map, int recursive,
                        int idmap_all);

/* setns(2) for the calling (single-threaded) process: create enters the
 * container's network namespace to set up the devices it moved there. */
int pyoci_setns(int fd, int nstype);

/* Load a BPF_PROG_TYPE_CGROUP_DEVICE program of count instructions and attach
 * it to the cgroup2 directory in place of the program whose id is replace_id
 * (0: none), where that one is attached there (devices.c).  sole: the cgroup
 * is the container's own, and every other program attached to it goes too.
 * Returns the new program's id; negative returns are -errno. */
int pyoci_device_program_attach(const char *cgroup_dir, const void *insns, unsigned int count,
                                unsigned int replace_id, int sole);
