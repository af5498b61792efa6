/* rtt.c: times a tool under test from outside, as a shell user would run it. */

/*
 * Usage:
 *   rtt [-n COUNT] [-w WARMUP] [-s SIZE] -- TOOL ARGS...
 *	Round trip: runs TOOL ARGS with pipes on its stdin and stdout
 *	(the far end of its socket is an echo server), writes SIZE bytes
 *	(64) to its stdin and waits for them on its stdout, COUNT times
 *	after WARMUP untimed ones.  Then closes its stdin and expects the
 *	tool to exit 0.  Prints one line per round trip: nanoseconds.
 *
 *   rtt -x [-n COUNT] -- TOOL ARGS...
 *	Invocation cost: runs TOOL ARGS COUNT times, stdin and stdout on
 *	/dev/null, one after another.  Prints one line per run: wall
 *	microseconds from fork to reaping, and the child's user + system
 *	CPU microseconds (wait4).  Any run that does not exit 0 is fatal.
 *
 *   rtt -o FILE -- TOOL ARGS...
 *	Resources of one run, what GNU time gives but to the microsecond:
 *	runs TOOL ARGS once on our own stdin and stdout, writes "USER_US
 *	SYS_US MAXRSS_KIB" to FILE, and exits as the tool did (128 + N if
 *	signal N killed it).  SIGTERM, SIGINT and SIGHUP are passed on to
 *	the tool, so that a tool that runs until killed can be killed
 *	through us (timeout(1) signals only its own child).
 *
 *   rtt -c [-ae] [-n COUNT] [-w WARMUP] PATH
 *	Connection rate: COUNT connections to the server at PATH, one
 *	after another, after WARMUP untimed ones.  Each connects, sends one
 *	short line, shuts down its write side, reads until EOF and closes.
 *	With -e the reply must be the line itself (a cat per connection);
 *	without, it must be empty.  -a (with -e): read the echo before
 *	shutting down the write side.  Prints one line: the elapsed seconds
 *	of the timed connections and connections per second.
 *
 *   rtt -p [-n COUNT] [-w WARMUP]
 *	Spawn rate, the floor of a server that runs a program per
 *	connection with the connection itself taken away: COUNT times
 *	(after WARMUP untimed), a socketpair with one short line written
 *	into it and its write side shut down, posix_spawn(3) of /bin/cat
 *	with the other end as its stdin and stdout, the echo read to EOF
 *	and checked, waitpid(2).  Prints what -c prints.
 *
 * Raw samples, not medians: the caller pools them across interleaved
 * repetitions.  Exit 1, with a message, whenever a byte is missing or
 * wrong or the tool fails, so that no broken run can pass for a fast one.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static sigset_t	orig_mask;	/* the signal mask we were started with */
static pid_t	child;		/* rtt -o: the tool, to pass signals on to */

static long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || n < min || n > max)
		errx(2, "bad number: %s", s);
	return n;
}

static long
usec(struct timeval tv)
{
	return tv.tv_sec * 1000000L + tv.tv_usec;
}

static void
status_check(int status, char **cmd)
{
	if (WIFSIGNALED(status))
		errx(1, "%s: killed by signal %d", cmd[0], WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		errx(1, "%s: exit %d", cmd[0], WEXITSTATUS(status));
}

static pid_t
spawn(char **cmd, int in, int out)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/* Our SIG_IGN and blocked signals would survive the exec. */
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &orig_mask, NULL);
		if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
			err(127, "dup2");
		execvp(cmd[0], cmd);
		err(127, "exec %s", cmd[0]);
	}
	return pid;
}

static void
invocations(char **cmd, long count)
{
	struct rusage ru;
	long t0, i;
	int null, status;
	pid_t pid;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		err(1, "/dev/null");
	for (i = 0; i < count; i++) {
		t0 = now_ns();
		pid = spawn(cmd, null, null);
		if (wait4(pid, &status, 0, &ru) == -1)
			err(1, "wait4");
		printf("%ld %ld\n", (now_ns() - t0) / 1000,
		    usec(ru.ru_utime) + usec(ru.ru_stime));
		status_check(status, cmd);
	}
}

static void
pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int
resources(char **cmd, const char *path)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	struct rusage ru;
	sigset_t block;
	FILE *f;
	size_t i;
	int status;
	pid_t pid;

	/* Blocked until child is set: a signal before it is passed on too. */
	sigemptyset(&block);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) == -1)
			err(1, "sigaction");
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	child = pid = spawn(cmd, STDIN_FILENO, STDOUT_FILENO);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR)
			err(1, "wait4");
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fprintf(f, "%ld %ld %ld\n", usec(ru.ru_utime), usec(ru.ru_stime),
	    ru.ru_maxrss);
	if (fclose(f) == EOF)
		err(1, "%s", path);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}

static void
round_trips(char **cmd, long count, long warmup, size_t size)
{
	char *msg, *got;
	long t0, i;
	size_t off;
	ssize_t n;
	int in[2], out[2], status;
	pid_t pid;

	if ((msg = malloc(size)) == NULL || (got = malloc(size)) == NULL)
		err(1, "malloc");
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		err(1, "pipe");
	pid = spawn(cmd, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	for (i = -warmup; i < count; i++) {
		/* A changing pattern, so a stale or repeated echo is caught. */
		memset(msg, 'a' + (int)((i + warmup) % 26), size);
		t0 = now_ns();
		for (off = 0; off < size; off += (size_t)n)
			if ((n = write(in[1], msg + off, size - off)) == -1)
				err(1, "write to %s", cmd[0]);
		for (off = 0; off < size; off += (size_t)n) {
			if ((n = read(out[0], got + off, size - off)) == -1)
				err(1, "read from %s", cmd[0]);
			if (n == 0)
				errx(1, "%s: EOF after %ld round trips, %zu of "
				    "%zu bytes", cmd[0], i + warmup, off, size);
		}
		if (i >= 0)
			printf("%ld\n", now_ns() - t0);
		if (memcmp(msg, got, size) != 0)
			errx(1, "%s: echo differs from what was sent", cmd[0]);
	}
	close(in[1]);
	if ((n = read(out[0], got, size)) == -1)
		err(1, "read from %s", cmd[0]);
	if (n > 0)
		errx(1, "%s: unexpected bytes after the last echo", cmd[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	status_check(status, cmd);
}

/* Reads from s into buf until it holds want bytes or EOF; returns how many. */
static size_t
reply(int s, char *buf, size_t off, size_t want, const char *path, long i)
{
	ssize_t n;

	for (; off < want; off += (size_t)n) {
		if ((n = read(s, buf + off, want - off)) == -1)
			err(1, "read from %s (connection %ld)", path, i);
		if (n == 0)
			break;
	}
	return off;
}

/*
 * One connection: the line out, the write side shut, the reply in to EOF.
 * The line changes with i, so that a reply meant for another connection
 * is caught.  await: the echo is in before the write side is shut, for
 * ncat -e, which drops the reply of a client that half-closed first.
 */
static void
connection(const struct sockaddr_un *sa, long i, int echo, int await)
{
	char msg[64], got[128];
	size_t len, off;
	ssize_t n;
	int s;

	len = (size_t)snprintf(msg, sizeof(msg), "ucat bench %ld\n", i);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		err(1, "connect %s (connection %ld)", sa->sun_path, i);
	for (off = 0; off < len; off += (size_t)n)
		if ((n = send(s, msg + off, len - off, MSG_NOSIGNAL)) == -1)
			err(1, "send to %s (connection %ld)", sa->sun_path, i);
	off = await ? reply(s, got, 0, len, sa->sun_path, i) : 0;
	if (shutdown(s, SHUT_WR) == -1)
		err(1, "shutdown %s (connection %ld)", sa->sun_path, i);
	off = reply(s, got, off, sizeof(got), sa->sun_path, i);
	close(s);
	if (echo && (off != len || memcmp(msg, got, len) != 0))
		errx(1, "%s: connection %ld: %zu bytes back, not the %zu "
		    "sent", sa->sun_path, i, off, len);
	if (!echo && off != 0)
		errx(1, "%s: connection %ld: %zu bytes back, expected none",
		    sa->sun_path, i, off);
}

/* One spawn of /bin/cat on a socketpair holding line i (see rtt -p). */
static void
spawn_one(long i)
{
	static char *cat[] = { "cat", NULL };
	posix_spawn_file_actions_t fa;
	char msg[64], got[128];
	size_t len, off;
	ssize_t n;
	int sp[2], status;
	pid_t pid;

	len = (size_t)snprintf(msg, sizeof(msg), "ucat bench %ld\n", i);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	for (off = 0; off < len; off += (size_t)n)
		if ((n = send(sp[0], msg + off, len - off, MSG_NOSIGNAL)) == -1)
			err(1, "send");
	if (shutdown(sp[0], SHUT_WR) == -1)
		err(1, "shutdown");
	if ((errno = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (errno = posix_spawn_file_actions_adddup2(&fa, sp[1], 0)) != 0 ||
	    (errno = posix_spawn_file_actions_adddup2(&fa, sp[1], 1)) != 0)
		err(1, "posix_spawn_file_actions");
	if ((errno = posix_spawn(&pid, "/bin/cat", &fa, NULL, cat,
	    environ)) != 0)
		err(1, "posix_spawn /bin/cat");
	posix_spawn_file_actions_destroy(&fa);
	close(sp[1]);
	off = reply(sp[0], got, 0, sizeof(got), "/bin/cat", i);
	close(sp[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	status_check(status, cat);
	if (off != len || memcmp(msg, got, len) != 0)
		errx(1, "/bin/cat: spawn %ld: %zu bytes back, not the %zu sent",
		    i, off, len);
}

static void
spawns(long count, long warmup)
{
	long t0 = 0, i;
	double secs;

	for (i = -warmup; i < count; i++) {
		if (i == 0)
			t0 = now_ns();
		spawn_one(i + warmup);
	}
	secs = (now_ns() - t0) / 1e9;
	printf("%.6f %.1f\n", secs, count / secs);
}

static void
connections(const char *path, long count, long warmup, int echo, int await)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long t0 = 0, i;
	double secs;

	if (strlen(path) >= sizeof(sa.sun_path))
		errx(2, "%s: longer than %zu bytes", path,
		    sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	for (i = -warmup; i < count; i++) {
		if (i == 0)
			t0 = now_ns();
		connection(&sa, i + warmup, echo, await);
	}
	secs = (now_ns() - t0) / 1e9;
	printf("%.6f %.1f\n", secs, count / secs);
}

int
main(int argc, char **argv)
{
	long count = 1000, warmup = 50, size = 64;
	const char *ofile = NULL;
	int ch, aflag = 0, cflag = 0, eflag = 0, pflag = 0, xflag = 0;

	sigprocmask(SIG_BLOCK, NULL, &orig_mask);
	while ((ch = getopt(argc, argv, "+acen:o:ps:w:x")) != -1) {
		switch (ch) {
		case 'a':
			aflag = 1;
			break;
		case 'c':
			cflag = 1;
			break;
		case 'e':
			eflag = 1;
			break;
		case 'n':
			count = number(optarg, 1, 100000000);
			break;
		case 'o':
			ofile = optarg;
			break;
		case 'p':
			pflag = 1;
			break;
		case 's':
			size = number(optarg, 1, 1 << 20);
			break;
		case 'w':
			warmup = number(optarg, 0, 100000000);
			break;
		case 'x':
			xflag = 1;
			break;
		default:
			goto usage;
		}
	}
	if (pflag && optind == argc) {
		/* SIGPIPE stays as it was: cat would inherit SIG_IGN. */
		spawns(count, warmup);
		return 0;
	}
	if (optind >= argc || pflag || (cflag && argc - optind != 1))
usage:		errx(2, "usage: rtt [-x | -o file] [-n count] [-w warmup] "
		    "[-s size] -- tool args...\n"
		    "       rtt -c [-ae] [-n count] [-w warmup] path\n"
		    "       rtt -p [-n count] [-w warmup]");
	/* A dead tool shows as EPIPE on write, not as our silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (cflag) {
		connections(argv[optind], count, warmup, eflag, aflag);
		return 0;
	}
	if (ofile != NULL)
		return resources(argv + optind, ofile);
	if (xflag)
		invocations(argv + optind, count);
	else
		round_trips(argv + optind, count, warmup, (size_t)size);
	return 0;
}
