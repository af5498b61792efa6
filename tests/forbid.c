/*
 * forbid.c: an LD_PRELOAD library for tests/sandbox.bats.  At ucat's first
 * poll(2), which comes once the pump runs and ucat is confined, it does
 * what a compromised ucat might try, as UCAT_FORBID says:
 *
 *   open		open /dev/null (seccomp: killed with SIGSYS)
 *   socket		make a Unix stream socket (seccomp: SIGSYS, in a relay
 *			too once it has connected to TARGET)
 *   kill		signal 0 to its parent (seccomp: SIGSYS)
 *   unlink:PATH	remove PATH, a file outside ucat's socket directories
 *			(Landlock: refused)
 *
 * or, at a relay's first connect(2), before it has connected to TARGET:
 *
 *   dgram		make a Unix datagram socket (seccomp: SIGSYS, unless
 *			-s names a file, whose stale socket one probes for)
 *
 * and says on stderr how it went: "forbid: open: ok", "forbid: unlink:
 * Permission denied".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
say(const char *what, int rc)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "forbid: %s: %s\n", what,
	    rc == -1 ? strerror(errno) : "ok");
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real_poll)(struct pollfd *, nfds_t, int);
	static int done;
	const char *what = getenv("UCAT_FORBID");
	int fd;

	if (real_poll == NULL)
		real_poll = (int (*)(struct pollfd *, nfds_t, int))
		    dlsym(RTLD_NEXT, "poll");
	if (!done && what != NULL) {
		done = 1;
		if (strcmp(what, "open") == 0) {
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			say("open", fd);
			if (fd != -1)
				close(fd);
		} else if (strcmp(what, "socket") == 0) {
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			say("socket", fd);
			if (fd != -1)
				close(fd);
		} else if (strcmp(what, "kill") == 0)
			say("kill", kill(getppid(), 0));
		else if (strncmp(what, "unlink:", 7) == 0)
			say("unlink", unlink(what + 7));
	}
	return real_poll(fds, n, timeout);
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real_connect)(int, const struct sockaddr *, socklen_t);
	static int done;
	const char *what = getenv("UCAT_FORBID");
	int s;

	if (real_connect == NULL)
		real_connect = (int (*)(int, const struct sockaddr *,
		    socklen_t))dlsym(RTLD_NEXT, "connect");
	if (!done && what != NULL && strcmp(what, "dgram") == 0) {
		done = 1;
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		say("dgram", s);
		if (s != -1)
			close(s);
	}
	return real_connect(fd, sa, len);
}
