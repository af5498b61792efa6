/* ns.c: the network namespace a socket of ns:PID: or netns:NAME: is made in, entered for socket(2) alone. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

#ifdef HAVE_SETNS
#include <sched.h>

/* ucat's own network namespace, held to come back to; -1: not yet. */
static int self = -1;

/* The descriptor of ucat's own namespace (for the sandbox), or -1. */
int
ns_self(void)
{
	return self;
}

/*
 * Opens the namespace ua names, and enters it once and comes back, so
 * that one not permitted is said now: 0, or -1 with why (a line without
 * the address).  Every descriptor is held for ucat's life: a confined
 * ucat opens nothing later.
 */
int
ns_open(struct uaddr *ua, char *why, size_t size)
{
	char path[64 + NAME_MAX];

	if (ua->ns_len == 0)
		return 0;
	if (self == -1 && (self = open("/proc/self/ns/net", O_RDONLY |
	    O_CLOEXEC)) == -1) {
		snprintf(why, size, "ucat's own namespace: %s",
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), ua->ns_named ? "/run/netns/%.*s" :
	    "/proc/%.*s/ns/net", (int)ua->ns_len, ua->ns_id);
	if ((ua->ns_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			snprintf(why, size, ua->ns_named ? "no such network "
			    "namespace (see ip netns list)" : "no such process");
		else
			snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if (setns(ua->ns_fd, CLONE_NEWNET) == -1) {
		snprintf(why, size, "%s", errno == EPERM ? "entering its "
		    "network namespace is not permitted" : strerror(errno));
		close(ua->ns_fd);
		ua->ns_fd = -1;
		return -1;
	}
	if (setns(self, CLONE_NEWNET) == -1) {
		snprintf(why, size, "coming back: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * socket(2) in ua's namespace (ucat's own where it names none): the
 * namespace a socket is made in is the one its @names and TCP ports are
 * of; ucat itself is back in its own before anything else happens.
 */
int
ns_socket(const struct uaddr *ua, int family, int type)
{
	int fd, saved;

	if (ua == NULL || ua->ns_fd == -1)
		return socket(family, type, 0);
	if (setns(ua->ns_fd, CLONE_NEWNET) == -1)
		return -1;
	fd = socket(family, type, 0);
	saved = errno;
	if (setns(self, CLONE_NEWNET) == -1) {
		/* Nothing else may be made in the wrong namespace. */
		if (fd != -1)
			close(fd);
		return -1;
	}
	errno = saved;
	return fd;
}

#else /* !HAVE_SETNS */

int
ns_self(void)
{
	return -1;
}

int
ns_open(struct uaddr *ua, char *why, size_t size)
{
	if (ua->ns_len == 0)
		return 0;
	snprintf(why, size, "namespaces are not supported on this system");
	return -1;
}

int
ns_socket(const struct uaddr *ua, int family, int type)
{
	(void)ua;
	return socket(family, type, 0);
}

#endif /* HAVE_SETNS */
