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
 * remove its own socket files (sock.c checks dev and inode first), and in
 * a relay connect to TARGET.  It may not open a file, make a socket
 * (outside a relay), or run a program; a system call outside the list
 * kills it with SIGSYS.  Landlock, where the kernel has it, also leaves it
 * no file access but removing files in the directories of its own socket
 * files (and, in a relay with -s, making one there).
 *
 * Modes that run programs (-e, -c) are not confined: a filter is inherited
 * by every program started, and those programs are the user's.  ASan's
 * run-time needs calls of its own at exit, so a sanitizer build is not
 * confined either; valgrind's tests pass --no-sandbox.
 */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

#if (defined(HAVE_SECCOMP) || defined(HAVE_LANDLOCK)) && !defined(SANITIZED)
#include <sys/prctl.h>
#endif

#if defined(HAVE_SECCOMP) && !defined(SANITIZED)
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__) && defined(__ILP32__)
#define ARCH_NR		0	/* x32: not confined */
#elif defined(__x86_64__)
#define ARCH_NR		AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define ARCH_NR		AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define ARCH_NR		AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define ARCH_NR		AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH_NR		AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define ARCH_NR		AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define ARCH_NR		AUDIT_ARCH_S390X
#else
#define ARCH_NR		0
#endif

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
	SYS_getpid, SYS_gettid, SYS_kill, SYS_tkill, SYS_tgkill,
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

/* A relay: a new connection to TARGET for each client, by a child of its
 * own with -k. */
static const int relay_mode[] = {
	SYS_socket, SYS_connect, SYS_bind, SYS_clone, SYS_set_robust_list,
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

/* If the call is nr, allow it. */
static void
allow(struct prog *p, int nr)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (unsigned)nr, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
}

/* ioctl only to ask whether stderr is a terminal (stdio does, on its
 * first message). */
static void
allow_tty_ioctl(struct prog *p)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_ioctl, 0, 5));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, args[1])));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    TCGETS, 1, 0));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    TIOCGWINSZ, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
}

static int
seccomp_enter(bool relay)
{
	struct prog p = { .n = 0 };
	struct sock_fprog fprog;
	size_t i;

	if (ARCH_NR == 0)
		return 0;
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch)));
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    ARCH_NR, 1, 0));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr)));
	/* No call at all: what a tracer (strace -e inject) turns a call
	 * into, to make it fail. */
	allow(&p, -1);
#if defined(__x86_64__)
	/* The x32 numbers of the same calls: not ours. */
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, 0, 1));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
#endif
	for (i = 0; i < sizeof(every_mode) / sizeof(every_mode[0]); i++)
		allow(&p, every_mode[i]);
	if (relay)
		for (i = 0; i < sizeof(relay_mode) / sizeof(relay_mode[0]); i++)
			allow(&p, relay_mode[i]);
#ifdef SYS_clone3
	/* fork(2) may try clone3 first; its flags cannot be looked at, so
	 * it is told there is none, and clone is used. */
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_clone3, 0, 1));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | ENOSYS));
#endif
	allow_tty_ioctl(&p);
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
	if (p.n == MAX_INSNS)
		errx(1, "sandbox: the filter is too long");

	fprog.len = p.n;
	fprog.filter = p.insn;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}
#endif /* HAVE_SECCOMP */

#if defined(HAVE_LANDLOCK) && !defined(SANITIZED)
#include <sys/syscall.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
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

/* Lets what rights says be done in the directory of a socket file. */
static int
allow_dir(int ruleset, const struct uaddr *ua, unsigned long long rights)
{
	struct landlock_path_beneath_attr pb;
	char path[PATH_MAX];
	int rc;

	if (ua->family != AF_UNIX || ua->abstract || ua->inherited)
		return 0;
	/* The path as bound (ADDRESS's text may say unix:). */
	snprintf(path, sizeof(path), "%.*s", (int)sizeof(ua->sun.sun_path),
	    ua->sun.sun_path);
	pb.allowed_access = rights;
	if ((pb.parent_fd = open(dirname(path), O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return rc;
}

/* 0 when confined, or where the kernel has no Landlock; -1 on error. */
static int
landlock_enter(const struct options *o)
{
	struct landlock_ruleset_attr attr;
	unsigned long long make = o->relay && o->src_set ?
	    LANDLOCK_ACCESS_FS_MAKE_SOCK : 0;
	int abi, fd, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled_rights(abi);
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1)
		return -1;
	if ((!o->listen || allow_dir(fd, &o->addr,
	    LANDLOCK_ACCESS_FS_REMOVE_FILE) == 0) &&
	    (!o->src_set || allow_dir(fd, &o->src,
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | make) == 0))
		rc = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return rc;
}
#endif /* HAVE_LANDLOCK */

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
#if (defined(HAVE_SECCOMP) || defined(HAVE_LANDLOCK)) && !defined(SANITIZED)
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		err(1, "sandbox: no_new_privs");
#endif
#if defined(HAVE_LANDLOCK) && !defined(SANITIZED)
	if (landlock_enter(o) == -1)
		err(1, "sandbox: landlock");
#endif
#if defined(HAVE_SECCOMP) && !defined(SANITIZED)
	if (seccomp_enter(o->relay) == -1)
		err(1, "sandbox: seccomp");
#endif
}

/* For ucat -V: what sandbox_enter uses in this build. */
const char *
sandbox_features(void)
{
#if defined(SANITIZED)
	return "";
#elif defined(HAVE_SECCOMP) && defined(HAVE_LANDLOCK)
	return ARCH_NR != 0 ? " seccomp landlock" : " landlock";
#elif defined(HAVE_SECCOMP)
	return ARCH_NR != 0 ? " seccomp" : "";
#elif defined(HAVE_LANDLOCK)
	return " landlock";
#else
	return "";
#endif
}
