/* fdpass.c: descriptors passed with SCM_RIGHTS: ours with --send-fd, and a peer's, closed at once. */
#include "config.h"

#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/*
 * Sends len bytes of p from end e (to `to`, unless NULL) with the
 * descriptors of --send-fd attached: the kernel gives them to the peer
 * with the first of these bytes.  As send(2): a count, or -1 with errno;
 * once a byte went, the descriptors are passed, and -v says so.
 */
ssize_t
fdpass_send(struct end *e, const char *p, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	size_t n = e->nsendfds;
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(sizeof(int) * SEND_FDS_MAX)];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t put;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_name = (void *)(uintptr_t)to;
	mh.msg_namelen = to != NULL ? tolen : 0;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), e->sendfds, sizeof(int) * n);
	do {
		put = sendmsg(e->wfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (put == -1 && errno == EINTR);
	if (put > 0 || (put == 0 && e->kind == END_MESSAGE)) {
		e->fds_pending = false;
		if (e->verbose)
			warnx("passed %zu descriptor%s to %s", n, n == 1 ? "" :
			    "s", e->name);
	}
	return put;
}

/* Descriptors a peer passed (SCM_RIGHTS) are not ucat's to keep: closed,
 * and with -v said so. */
void
fdpass_drop(struct msghdr *mh, const char *name, bool verbose)
{
	struct cmsghdr *c;
	size_t i, n, all = 0;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
		all += n;
	}
	if (!verbose)
		return;
	/* Those that found no room were closed by the kernel. */
	if (mh->msg_flags & MSG_CTRUNC)
		warnx("%s: closed the descriptors the peer passed", name);
	else if (all > 0)
		warnx("%s: closed %zu descriptor%s the peer passed", name, all,
		    all == 1 ? "" : "s");
}

/*
 * --send-fd: copies of the descriptors, of ucat's own (close-on-exec, from
 * 3 on), made once the address is known: what ucat closes (a listener,
 * --ready-fd) is never what it passes.  -1 with errno.
 */
int
fdpass_copy(struct options *o)
{
	size_t i;

	for (i = 0; i < o->nsend_fds; i++)
		if ((o->send_fds[i] = fcntl(o->send_fds[i], F_DUPFD_CLOEXEC,
		    3)) == -1)
			return -1;
	return 0;
}
