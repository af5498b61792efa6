/* activate.c: sockets ucat inherits: fd:N, fdname:NAME and systemd's LISTEN_FDS. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* systemd passes its sockets from descriptor 3 on (sd_listen_fds(3)). */
#define LISTEN_FDS_START	3

/* A decimal number from 1 to INT_MAX, or 0. */
static long
number(const char *text)
{
	char *end;
	long v;

	if (text == NULL || *text < '0' || *text > '9')
		return 0;
	errno = 0;
	v = strtol(text, &end, 10);
	return errno != 0 || *end != '\0' || v > INT_MAX ? 0 : v;
}

/*
 * Takes what systemd passed (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES): the
 * sockets count only if LISTEN_PID is ucat's own pid (they were meant for
 * another process otherwise, as sd_listen_fds(3) decides).  The variables
 * are removed whatever they said, so that no program ucat runs sees them,
 * and the sockets are closed on exec.
 */
void
activate_env(struct activation *a)
{
	const char *names;
	long n;
	int fd;

	a->fds = 0;
	a->names = NULL;
	if (number(getenv("LISTEN_PID")) == (long)getpid() &&
	    (n = number(getenv("LISTEN_FDS"))) > 0 &&
	    n <= INT_MAX - LISTEN_FDS_START) {
		a->fds = (int)n;
		names = getenv("LISTEN_FDNAMES");
		if (names != NULL && (a->names = strdup(names)) == NULL)
			a->fds = 0;
		/* As sd_listen_fds does, up to the first that is not open. */
		for (fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + a->fds;
		    fd++)
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
				break;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* The address of -l given none: the one socket systemd passed. */
void
activate_default(struct uaddr *ua)
{
	memset(ua, 0, sizeof(*ua));
	ua->place.dir = ua->place.home = -1;
	ua->inherited = true;
	ua->fd = LISTEN_FDS_START;
	ua->text = "fd:3";
}

/* fdname:NAME: the socket passed under that name (without
 * LISTEN_FDNAMES, each is "unknown", as systemd names them).  -1 if none
 * was. */
static int
activate_name(struct uaddr *ua, const struct activation *a)
{
	const char *p = a->names, *end;
	size_t len = strlen(ua->fdname);
	int i;

	if (p == NULL && a->fds > 0 && strcmp(ua->fdname, "unknown") == 0) {
		ua->fd = LISTEN_FDS_START;
		return 0;
	}
	for (i = 0; p != NULL && i < a->fds; i++) {
		end = strchr(p, ':');
		if ((size_t)((end != NULL ? end : p + strlen(p)) - p) == len &&
		    memcmp(p, ua->fdname, len) == 0) {
			ua->fd = LISTEN_FDS_START + i;
			return 0;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

/*
 * What the inherited socket ua->fd is: its family and own address into
 * ua, its type, and whether it is a listener (a listening stream or
 * seqpacket socket, or an unconnected datagram one) rather than a
 * connection.  -1 with errno: EBADF (not open), ENOTSOCK (not a socket),
 * EAFNOSUPPORT (neither Unix nor TCP), EDESTADDRREQ (neither listening
 * nor connected).
 */
static int
inspect(struct uaddr *ua, int *type, bool *listener)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(int), plen = sizeof(peer);
	struct stat st;
	int on = 0;
	bool connected;

	if (fcntl(ua->fd, F_GETFD) == -1)
		return -1;
	if (fstat(ua->fd, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	if (getsockopt(ua->fd, SOL_SOCKET, SO_TYPE, type, &len) == -1)
		return -1;
	ua->len = sizeof(ua->ss);
	if (getsockname(ua->fd, &ua->sa, &ua->len) == -1)
		return -1;
	ua->family = ua->sa.sa_family;
	if (ua->family != AF_UNIX && (*type != SOCK_STREAM ||
	    (ua->family != AF_INET && ua->family != AF_INET6))) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	ua->abstract = ua->family == AF_UNIX &&
	    ua->len > sizeof(sa_family_t) && ua->sun.sun_path[0] == '\0';
	connected = getpeername(ua->fd, (struct sockaddr *)&peer, &plen) == 0;
	*listener = !connected;
	if (*type != SOCK_DGRAM && !connected) {
#ifdef SO_ACCEPTCONN
		len = sizeof(on);
		if (getsockopt(ua->fd, SOL_SOCKET, SO_ACCEPTCONN, &on,
		    &len) == -1)
			on = 0;
#else
		on = 1;
#endif
		if (!on) {
			errno = EDESTADDRREQ;
			return -1;
		}
	}
	(void)fcntl(ua->fd, F_SETFD, FD_CLOEXEC);
	/* ucat waits in accept(2) and recv(2) itself (systemd's
	 * NonBlocking=yes, or a parent's own habit, would make them fail). */
	if ((on = fcntl(ua->fd, F_GETFL)) != -1 && (on & O_NONBLOCK))
		(void)fcntl(ua->fd, F_SETFL, on & ~O_NONBLOCK);
	return 0;
}

static const char *
type_name(int type)
{
	return type == SOCK_DGRAM ? "datagram" : type == SOCK_SEQPACKET ?
	    "seqpacket" : "stream";
}

/*
 * An inherited socket (fd:, fdname:, or -l with no address under systemd)
 * says what it is: its type, and whether ucat listens on it or pumps on
 * it, whatever -l said.  Returns 0, or the exit status of what went wrong
 * (2: a usage error, as a -u or --seqpacket that disagrees; 1: the
 * system's), with why saying it (RULES_WHY_MAX bytes).
 */
int
activate_inherit(struct options *o, const struct activation *a, char *why)
{
	struct uaddr *ua = &o->addr;
	bool listener;
	int type;

	if (ua->fdname != NULL && activate_name(ua, a) == -1) {
		snprintf(why, RULES_WHY_MAX, "address '%s': no socket of that "
		    "name was passed (LISTEN_FDNAMES)", ua->text);
		return 2;
	}
	if (inspect(ua, &type, &listener) == -1) {
		switch (errno) {
		case EBADF:
			snprintf(why, RULES_WHY_MAX, "address '%s': descriptor "
			    "%d is not open", ua->text, ua->fd);
			return 2;
		case ENOTSOCK:
			snprintf(why, RULES_WHY_MAX, "address '%s': descriptor "
			    "%d is not a socket", ua->text, ua->fd);
			return 2;
		case EAFNOSUPPORT:
			snprintf(why, RULES_WHY_MAX, "address '%s': not a Unix "
			    "socket, nor a TCP stream", ua->text);
			return 2;
		case EDESTADDRREQ:
			snprintf(why, RULES_WHY_MAX, "address '%s': a socket "
			    "neither listening nor connected", ua->text);
			return 2;
		}
		snprintf(why, RULES_WHY_MAX, "address '%s': %s", ua->text,
		    strerror(errno));
		return 1;
	}
	if (o->type_given && o->type != type) {
		snprintf(why, RULES_WHY_MAX, "%s: address '%s' is a %s socket",
		    o->type == SOCK_DGRAM ? "-u" : "--seqpacket", ua->text,
		    type_name(type));
		return 2;
	}
	o->type = type;
	o->listen = listener;
	return 0;
}
