/* notify.c: readiness: systemd's NOTIFY_SOCKET and s6's notification fd (--ready-fd). */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/* The socket to tell systemd with, and where: STOPPING=1 is told from a
 * signal handler too. */
static int			 notify_fd = -1;
static struct sockaddr_un	 notify_addr;
static socklen_t		 notify_len;
/* READY=1 went out: STOPPING=1 is owed at exit. */
static volatile sig_atomic_t	 owed;

/* NOTIFY_SOCKET as text, for a warning. */
static const char *
notify_name(char *buf, size_t size)
{
	return addr_format((const struct sockaddr *)&notify_addr, notify_len,
	    buf, size);
}

/*
 * Takes NOTIFY_SOCKET (a path, or @name for an abstract one) out of the
 * environment, so that no program ucat runs answers for it, and keeps a
 * datagram socket to send to it.  A NOTIFY_SOCKET that cannot be used is
 * warned of; ucat goes on.
 */
void
notify_setup(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	char text[ADDR_TEXT_MAX];
	size_t len;

	if (name == NULL)
		return;
	len = strlen(name);
	/* An @name has ADDR_PATH_MAX bytes after the @, as a path does. */
	if ((name[0] != '/' && name[0] != '@') || len < 2 ||
	    len - (name[0] == '@') > ADDR_PATH_MAX) {
		warnx("NOTIFY_SOCKET '%.*s': not a path or an @name; "
		    "readiness is not told", (int)ADDR_PATH_MAX + 1, name);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, name, len);
	if (name[0] == '@')
		notify_addr.sun_path[0] = '\0';
	/* An abstract name counts exactly its bytes; a path its NUL too. */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (name[0] == '@' ? 0 : 1));
	unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd == -1)
		warn("NOTIFY_SOCKET %s", notify_name(text, sizeof(text)));
#if !HAVE_DECL_SOCK_CLOEXEC
	else
		(void)fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
#endif
}

static int
tell(const char *state, size_t len)
{
	ssize_t n;

	do {
		n = sendto(notify_fd, state, len, MSG_NOSIGNAL | MSG_DONTWAIT,
		    (const struct sockaddr *)&notify_addr, notify_len);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Ucat is ready (listening, or connected): READY=1 with status as STATUS=,
 * and a newline on --ready-fd (ready_fd, -1: none), which is then closed.
 * Once only.
 */
void
notify_ready(int ready_fd, const char *status)
{
	char state[ADDR_TEXT_MAX + 64], text[ADDR_TEXT_MAX];
	int n, i;
	ssize_t w;

	if (ready_fd != -1) {
		do {
			w = write(ready_fd, "\n", 1);
		} while (w == -1 && errno == EINTR);
		if (w != 1)
			warn("--ready-fd %d", ready_fd);
		close(ready_fd);
	}
	if (notify_fd == -1)
		return;
	n = snprintf(state, sizeof(state), "READY=1\nSTATUS=%s\n", status);
	if (n >= (int)sizeof(state))
		n = (int)sizeof(state) - 1;
	/* The status is one line: an address's control bytes would start
	 * assignments of their own. */
	for (i = sizeof("READY=1\nSTATUS=") - 1; i < n - 1; i++)
		if ((unsigned char)state[i] < 0x20 || state[i] == 0x7f)
			state[i] = '?';
	/* Owed before it may be sent: a signal in between still says
	 * STOPPING=1. */
	owed = 1;
	if (tell(state, (size_t)n) == -1) {
		owed = 0;
		warn("NOTIFY_SOCKET %s", notify_name(text, sizeof(text)));
		close(notify_fd);
		notify_fd = -1;
	}
}

/* Ready, as a client: connected to ADDRESS. */
void
notify_connected(const struct options *o)
{
	char status[ADDR_TEXT_MAX + 16];

	snprintf(status, sizeof(status), "connected to %s", o->addr.text);
	notify_ready(o->ready_fd, status);
}

/* At exit, and from a signal handler: STOPPING=1, if READY=1 went out. */
void
notify_stopping(void)
{
	static const char stopping[] = "STOPPING=1\n";

	if (!owed)
		return;
	owed = 0;
	(void)tell(stopping, sizeof(stopping) - 1);
}

/* In a child that serves one client: the parent's readiness is not its
 * own to end. */
void
notify_forget(void)
{
	owed = 0;
}
