/* sandbox.c: once its sockets and files are set up, ucat confines itself (seccomp, Landlock). */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "ucat.h"

/*
 * What a compromised ucat could still do is what its mode needs: move
 * bytes between the descriptors it has, accept clients, reap children,
 * remove its own socket files (sock.c checks dev and inode first).  It
 * may not open a file, make a socket, signal another process or run a
 * program; a system call outside the list kills it with SIGSYS.  A relay
 * may make sockets of TARGET's family and type (and, with -s, the probe
 * of a stale socket there), bind -s, and fork as fork(2) does until it
 * has connected to TARGET; then (in each -k child) a second
 * filter takes that away too, before any byte of a client is read.
 * Landlock, where the kernel has it, also leaves no file access but
 * removing files beneath the directories of its own socket files (and, in
 * a relay with -s, making one there).
 *
 * Modes that run programs (-e, -c) are not confined: a filter is inherited
 * by every program started, and those programs are the user's.  ASan's
 * run-time needs calls of its own at exit, so a sanitizer build is not
 * confined either; valgrind's tests pass --no-sandbox.
 */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANITIZED	1
#endif
#endif

/*
 * What this build uses, decided once: seccomp on the 64-bit architectures
 * whose system calls the lists below name as their C libraries make them
 * (SECCOMP_ARCH, the audit arch the filter checks; 32-bit ones have
 * socketcall and *_time64 calls), Landlock wherever its header is.
 */
#if defined(HAVE_SECCOMP) && !defined(SANITIZED)
#if defined(__x86_64__) && !defined(__ILP32__)
#define SECCOMP_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SECCOMP_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define SECCOMP_ARCH	AUDIT_ARCH_RISCV64
#endif
#endif
#if defined(HAVE_LANDLOCK) && !defined(SANITIZED)
#define USE_LANDLOCK	1
#endif

#if defined(SECCOMP_ARCH) || defined(USE_LANDLOCK)
#include <sys/prctl.h>
#endif

#ifdef SECCOMP_ARCH
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sched.h>
#include <signal.h>
#include <termios.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* The low and high 32 bits of a call's argument i (little-endian). */
#define ARG_LO(i)	(offsetof(struct seccomp_data, args[i]))
#define ARG_HI(i)	(offsetof(struct seccomp_data, args[i]) + 4)

/* What glibc's fork(2) asks clone for. */
#define FORK_FLAGS	(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS	SECCOMP_RET_KILL
#endif

/* Every mode: moving bytes, waiting, the files it has, memory, signals,
 * time, exit.  (A libc uses some of several names for one thing.) */
static const int every_mode[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev,
	SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg,
#ifdef SYS_recvmmsg
	SYS_recvmmsg,
#endif
#ifdef SYS_sendmmsg
	SYS_sendmmsg,
#endif
	SYS_splice,
#ifdef SYS_sendfile
	SYS_sendfile,
#endif
#ifdef SYS_sendfile64
	SYS_sendfile64,
#endif
#ifdef SYS_poll
	SYS_poll,
#endif
	SYS_ppoll, SYS_pselect6,
#ifdef SYS_pipe
	SYS_pipe,
#endif
	SYS_pipe2, SYS_close, SYS_fcntl,
#ifdef SYS_fcntl64
	SYS_fcntl64,
#endif
	SYS_lseek,
#ifdef SYS__llseek
	SYS__llseek,
#endif
	SYS_fstat,
#ifdef SYS_fstat64
	SYS_fstat64,
#endif
#ifdef SYS_stat
	SYS_stat,
#endif
#ifdef SYS_lstat
	SYS_lstat,
#endif
#ifdef SYS_newfstatat
	SYS_newfstatat,
#endif
#ifdef SYS_fstatat64
	SYS_fstatat64,
#endif
#ifdef SYS_statx
	SYS_statx,
#endif
#ifdef SYS_unlink
	SYS_unlink,
#endif
	SYS_unlinkat,
	SYS_getsockopt, SYS_setsockopt, SYS_shutdown, SYS_getsockname,
	SYS_getpeername, SYS_accept, SYS_accept4, SYS_wait4,
#ifdef SYS_send
	SYS_send, SYS_recv,
#endif
	/* raise(3) after cleaning up: a signal to itself only. */
	SYS_getpid, SYS_gettid, SYS_tkill, SYS_tgkill,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_rt_sigsuspend,
#ifdef SYS_sigreturn
	SYS_sigreturn,
#endif
	SYS_restart_syscall, SYS_exit, SYS_exit_group,
	SYS_brk, SYS_mmap,
#ifdef SYS_mmap2
	SYS_mmap2,
#endif
	SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect, SYS_futex,
	SYS_getrandom, SYS_clock_gettime, SYS_clock_nanosleep,
#ifdef SYS_nanosleep
	SYS_nanosleep,
#endif
#ifdef SYS_gettimeofday
	SYS_gettimeofday,
#endif
};

/* A relay until it has connected to TARGET: that connection (socket is
 * checked apart), and with -k a child per client. */
static const int relay_mode[] = {
	SYS_connect, SYS_bind, SYS_set_robust_list,
#ifdef SYS_fork
	SYS_fork,
#endif
#ifdef SYS_rseq
	SYS_rseq,
#endif
};

#define MAX_INSNS	256

struct prog {
	struct sock_filter	insn[MAX_INSNS];
	unsigned short		n;
};

static void
emit(struct prog *p, struct sock_filter f)
{
	if (p->n < MAX_INSNS)
		p->insn[p->n++] = f;
}

/* The three instructions a filter is made of here. */
static void
load(struct prog *p, unsigned off)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
}

static void
ret(struct prog *p, unsigned action)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

/* If the accumulator is k, skip jt instructions, else jf. */
static void
jeq(struct prog *p, unsigned k, unsigned char jt, unsigned char jf)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt,
	    jf));
}

/*
 * Each check below either leaves the call number in the accumulator and
 * goes on, or decides: one that loads an argument ends in a return on
 * every path.
 */

/* If the call is nr, allow it. */
static void
allow(struct prog *p, int nr)
{
	jeq(p, (unsigned)nr, 0, 1);
	ret(p, SECCOMP_RET_ALLOW);
}

/* Call nr only with its argument i one of the n values v (n < 8). */
static void
allow_one_of(struct prog *p, int nr, int i, const unsigned *v,
    unsigned char n)
{
	unsigned char k;

	jeq(p, (unsigned)nr, 0, (unsigned char)(n + 3));
	load(p, ARG_LO(i));
	for (k = 0; k < n; k++)
		jeq(p, v[k], (unsigned char)(n - k), 0);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	ret(p, SECCOMP_RET_ALLOW);
}

/* Call nr only with its argument i one of a and b. */
static void
allow_either(struct prog *p, int nr, int i, unsigned a, unsigned b)
{
	const unsigned v[] = { a, b };

	allow_one_of(p, nr, i, v, 2);
}

/* clone(2) only as fork(2) makes it: no thread, no namespace. */
static void
allow_fork_clone(struct prog *p)
{
	jeq(p, SYS_clone, 0, 6);
	load(p, ARG_HI(0));
	jeq(p, 0, 0, 3);
	load(p, ARG_LO(0));
	jeq(p, FORK_FLAGS, 0, 1);
	ret(p, SECCOMP_RET_ALLOW);
	ret(p, SECCOMP_RET_KILL_PROCESS);
}

/*
 * socket(2) only of TARGET's family and type, and where -s names a file,
 * the datagram socket that probes for a stale one there (sock.c).  The
 * call number is loaded again after the arguments were looked at.
 */
static void
allow_socket(struct prog *p, int family, int type)
{
	jeq(p, SYS_socket, 0, 7);
	load(p, ARG_LO(0));
	jeq(p, (unsigned)family, 0, 4);
	load(p, ARG_LO(1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf));
	jeq(p, (unsigned)type, 0, 1);
	ret(p, SECCOMP_RET_ALLOW);
	load(p, offsetof(struct seccomp_data, nr));
}

/*
 * A tap's: the swap out (renaming the server's socket back, at a signal)
 * and, in each child, becoming the client before connecting to the
 * server (setgroups, setresgid, setresuid: only ever to give up root).
 */
static void
allow_tap(struct prog *p)
{
#ifdef SYS_renameat
	allow(p, SYS_renameat);
#endif
#ifdef SYS_renameat2
	allow(p, SYS_renameat2);
#endif
	allow(p, SYS_geteuid);
	allow(p, SYS_setgroups);
	allow(p, SYS_setresgid);
	allow(p, SYS_setresuid);
}

/* setns(2) only into the network namespace held on fd a or b. */
static void
allow_setns(struct prog *p, int a, int b)
{
	jeq(p, SYS_setns, 0, 8);
	load(p, ARG_LO(1));
	jeq(p, CLONE_NEWNET, 0, 5);
	load(p, ARG_LO(0));
	jeq(p, (unsigned)a, 2, 0);
	jeq(p, (unsigned)b, 1, 0);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	ret(p, SECCOMP_RET_ALLOW);
	ret(p, SECCOMP_RET_KILL_PROCESS);
}

/* What prctl(2) may do: see seccomp_enter. */
static const unsigned prctls[] = { PR_SET_SECCOMP, PR_GET_SECCOMP,
    PR_SET_DUMPABLE };

/* The filter for a pump, or (connecting) for a relay that has yet to
 * connect to TARGET. */
static int
seccomp_enter(const struct options *o, bool connecting)
{
	struct prog p = { .n = 0 };
	struct sock_fprog fprog;
	size_t i;

	load(&p, offsetof(struct seccomp_data, arch));
	jeq(&p, SECCOMP_ARCH, 1, 0);
	ret(&p, SECCOMP_RET_KILL_PROCESS);
	load(&p, offsetof(struct seccomp_data, nr));
	/* No call at all: what a tracer (strace -e inject) turns a call
	 * into, to make it fail. */
	allow(&p, -1);
#if defined(__x86_64__)
	/* The x32 numbers of the same calls: not ours. */
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, 0, 1));
	ret(&p, SECCOMP_RET_KILL_PROCESS);
#endif
	for (i = 0; i < sizeof(every_mode) / sizeof(every_mode[0]); i++)
		allow(&p, every_mode[i]);
	if (connecting) {
		for (i = 0; i < sizeof(relay_mode) / sizeof(relay_mode[0]); i++)
			allow(&p, relay_mode[i]);
		allow_socket(&p, o->target.family, o->type);
		if (o->src_set && o->src.place.dir != -1)
			allow_socket(&p, AF_UNIX, SOCK_DGRAM);
		/* Binding -s from inside its directory (place_socket). */
		if (o->src_set && o->src.place.dir != -1 &&
		    !o->src.place.pinned)
			allow(&p, SYS_fchdir);
		/* Reaching the server of --tap from inside its directory. */
		if (o->target.place.dir != -1 && !o->target.place.pinned)
			allow(&p, SYS_fchdir);
		if (o->tap != NULL)
			allow_tap(&p);
		/* A relay's connections in TARGET's namespace (ns.c): into
		 * it and back, by the descriptors held, and nothing else. */
		if (o->target.ns_fd != -1)
			allow_setns(&p, o->target.ns_fd, ns_self());
		allow_fork_clone(&p);
		/* prctl(2) only to add a filter, which can only take more
		 * away, or to ask whether one is in place; and in a tap's
		 * child, to be undumpable as the client. */
		allow_one_of(&p, SYS_prctl, 0, prctls, o->tap != NULL ? 3 : 2);
	}
#ifdef SYS_clone3
	/* fork(2) may try clone3 first; its flags cannot be looked at, so
	 * it is told there is none, and clone is used. */
	jeq(&p, SYS_clone3, 0, 1);
	ret(&p, SECCOMP_RET_ERRNO | ENOSYS);
#endif
	/* ioctl only to ask whether stderr is a terminal (stdio does, on
	 * its first message). */
	allow_either(&p, SYS_ioctl, 1, TCGETS, TIOCGWINSZ);
	ret(&p, SECCOMP_RET_KILL_PROCESS);
	if (p.n == MAX_INSNS)
		errx(1, "sandbox: the filter is too long");

	fprog.len = p.n;
	fprog.filter = p.insn;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}
#endif /* SECCOMP_ARCH */

#ifdef USE_LANDLOCK
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

/* The file rights of Landlock's ABI 1, 2, 3 and 5, all handled (denied
 * but where a rule allows them).  None of them is about connecting to a
 * socket, which a relay does. */
static unsigned long long
handled_rights(int abi)
{
	unsigned long long r = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
	return r;
}

/* Lets what rights says be done in the directory of a socket file: the
 * one held for it (place.c). */
static int
allow_dir(int ruleset, const struct uaddr *ua, unsigned long long rights)
{
	struct landlock_path_beneath_attr pb;

	if (ua->place.dir == -1)
		return 0;
	pb.allowed_access = rights;
	pb.parent_fd = ua->place.dir;
	return (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
}

/* 0 when confined, or where the kernel has no Landlock; -1 on error. */
static int
landlock_enter(const struct options *o)
{
	struct landlock_ruleset_attr attr;
	/* A relay's -s socket, and a tap's swap out (a rename in PATH's
	 * directory) make a socket file. */
	unsigned long long make = (o->relay && o->src_set) || o->tap != NULL ?
	    LANDLOCK_ACCESS_FS_MAKE_SOCK : 0;
	int abi, fd, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled_rights(abi);
#ifdef LANDLOCK_SCOPE_SIGNAL
	/* No signal to a process outside (ucat's own children are in). */
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_SIGNAL;
#endif
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1)
		return -1;
	if ((!o->listen || o->keep_file || allow_dir(fd, &o->addr,
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | (o->tap != NULL ? make : 0)) ==
	    0) &&
	    (!o->src_set || allow_dir(fd, &o->src,
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | make) == 0))
		rc = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return rc;
}
#endif /* USE_LANDLOCK */

/*
 * Confines ucat for the rest of its life, if o's mode allows (no program
 * to run, no --no-sandbox).  A failure to confine is an error: ucat would
 * otherwise run with less protection than it says.
 */
void
sandbox_enter(const struct options *o)
{
	if (o->no_sandbox || o->exec_argv != NULL)
		return;
	/* What the C library would open later: the time zone (strftime,
	 * for -x). */
	tzset();
#if defined(SECCOMP_ARCH) || defined(USE_LANDLOCK)
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		err(1, "sandbox: no_new_privs");
#endif
#ifdef USE_LANDLOCK
	if (landlock_enter(o) == -1)
		err(1, "sandbox: landlock");
#endif
#ifdef SECCOMP_ARCH
	if (seccomp_enter(o, o->relay) == -1) {
		/* A kernel built without seccomp filters. */
		if (errno != EINVAL)
			err(1, "sandbox: seccomp");
		if (o->verbose)
			warnx("not confined: this kernel has no seccomp filter");
		return;
	}
#endif
}

/*
 * A relay has connected to TARGET: it makes no socket and no child any
 * more.  A second filter takes those away (filters only add up), before
 * a client's first byte is read.
 */
void
sandbox_connected(const struct options *o)
{
#ifdef SECCOMP_ARCH
	/* Only where the first is (not with --no-sandbox, nor on a kernel
	 * without filters). */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2 &&
	    seccomp_enter(o, false) == -1)
		err(1, "sandbox: seccomp");
#else
	(void)o;
#endif
}

/* For ucat -V: what sandbox_enter uses in this build. */
const char *
sandbox_features(void)
{
	return ""
#ifdef SECCOMP_ARCH
	    " seccomp"
#endif
#ifdef USE_LANDLOCK
	    " landlock"
#endif
	    ;
}
