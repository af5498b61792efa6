/* end.c: the two kinds of byte end, stdio and a stream socket, and their reads and writes. */
#include "config.h"

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/*
 * Stdin and stdout as one end, with a buffer of END_BUF_SIZE bytes.  They
 * outlive a connection: with -k the next client gets what stdin still
 * holds, a closed stdout stays closed, and so does a zero-copy move
 * found not to work (splice.c).  -1 with errno where no buffer could be
 * had.
 */
int
end_stdio(struct end *e, const struct options *o, struct trace *t)
{
	struct stat st;

	memset(e, 0, sizeof(*e));
	if ((e->buf.data = malloc(END_BUF_SIZE)) == NULL)
		return -1;
	e->buf.size = END_BUF_SIZE;
	e->kind = END_STDIO;
	e->name = "stdio";
	e->trace = t;
	e->rfd = o->no_stdin ? -1 : STDIN_FILENO;
	e->wfd = STDOUT_FILENO;
	e->crlf = o->crlf;
	e->instant = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	e->retry_at = -1;
	return 0;
}

/* Descriptors 0, 1 and 2 that are closed get /dev/null, so that no
 * socket takes their numbers.  -1 where that cannot be done. */
int
end_stdio_fill(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
	}
	return 0;
}

/*
 * Stdin open only for writing, or stdout only for reading, would never
 * poll ready: -1 with errno EBADF and *which naming it.
 */
int
end_stdio_check(const struct options *o, const char **which)
{
	int in = fcntl(STDIN_FILENO, F_GETFL);
	int out = fcntl(STDOUT_FILENO, F_GETFL);

	errno = EBADF;
	*which = "stdin";
	if (!o->no_stdin && in != -1 && (in & O_ACCMODE) == O_WRONLY)
		return -1;
	*which = "stdout";
	if (out != -1 && (out & O_ACCMODE) == O_RDONLY)
		return -1;
	return 0;
}

static bool
connected(int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	return getpeername(fd, (struct sockaddr *)&sun, &len) == 0;
}

/*
 * A connected socket, or a datagram listener's, named name in messages,
 * with a buffer of END_BUF_SIZE bytes, and a message socket's batch (only
 * the pages its messages touch are ever used).  e starts zeroed, or as a
 * socket end made before, whose buffers serve again (a -k listener's
 * next client).  -1 with errno where they could not be had.
 */
int
end_socket(struct end *e, const struct options *o, struct trace *t, int fd,
    const char *name)
{
	char *data = e->buf.data, *area = e->batch.area;

	memset(e, 0, sizeof(*e));
	e->kind = o->type == SOCK_STREAM ? END_STREAM : END_MESSAGE;
	e->buf.data = data;
	e->batch.area = area;
	if ((e->buf.data == NULL &&
	    (e->buf.data = malloc(END_BUF_SIZE)) == NULL) ||
	    (e->kind == END_MESSAGE && e->batch.area == NULL &&
	    (e->batch.area = malloc(BATCH_MAX * (size_t)DGRAM_MAX)) == NULL)) {
		end_free(e);
		return -1;
	}
	e->buf.size = END_BUF_SIZE;
	e->type = o->type;
	e->name = name;
	e->trace = t;
	e->rfd = e->wfd = fd;
	/* A send never waits (MSG_DONTWAIT), nor does a datagram's. */
	e->instant = true;
	e->half_close = o->type != SOCK_DGRAM && !o->no_shutdown;
	/* An unconnected datagram socket (a listener's) answers whoever
	 * sent last. */
	e->replying = o->type == SOCK_DGRAM && !connected(fd);
	e->verbose = o->verbose > 0;
	e->retry_at = -1;
	e->sendfds = o->send_fds;
	e->nsendfds = o->nsend_fds;
	e->fds_pending = o->nsend_fds > 0;
	/* -W: this many messages, then the session is over. */
	if (e->kind == END_MESSAGE && o->recv_limit > 0) {
		e->quota = (unsigned long)o->recv_limit;
		e->quota_ends = true;
	}
	sock_prepare(fd, o);
	return 0;
}

/*
 * A program's stdin (wfd) and stdout (rfd), pipes of ucat's own, as one
 * end named name: read and written as stdio is, except that its end of
 * data closes the program's stdin, and that what it prints, up to its
 * end, is one message (move.c).  end_free closes them.  -1 with errno
 * where no buffer could be had.
 */
int
end_program(struct end *e, struct trace *t, int rfd, int wfd,
    const char *name)
{
	memset(e, 0, sizeof(*e));
	if ((e->buf.data = malloc(END_BUF_SIZE)) == NULL)
		return -1;
	e->buf.size = END_BUF_SIZE;
	e->kind = END_STDIO;
	e->program = true;
	e->name = name;
	e->trace = t;
	e->rfd = rfd;
	e->wfd = wfd;
	e->retry_at = -1;
	return 0;
}

/* The end's memory, let go; a program's pipes are closed, other
 * descriptors are not the end's to close. */
void
end_free(struct end *e)
{
	int saved = errno;

	if (e->program && e->rfd != -1)
		close(e->rfd);
	if (e->program && e->wfd != -1)
		close(e->wfd);
	free(e->buf.data);
	free(e->batch.area);
	e->buf.data = e->batch.area = NULL;
	errno = saved;
}

/* A failed read or write, in ucat's words: the address is in them. */
void
end_warn(const struct end *e, bool reading)
{
	char what[ADDR_TEXT_MAX + 32];
	int saved = errno;

	/* Stdio by name; a socket, or a program, with its address. */
	if (e->kind == END_STDIO && !e->program)
		snprintf(what, sizeof(what), "%s", reading ? "stdin" :
		    "stdout");
	else
		snprintf(what, sizeof(what), "%s %s", reading ?
		    "receive from" : "send to", e->name);
	warnx("%s: %s", what, strerror(saved));
	trace_event(e->trace, "error: %s: %s", what, strerror(saved));
}

/*
 * What a read or write that returned r means; errno's usual suspects are
 * handled here, once for every end that is not a message socket.  A reset
 * ends the reading (the peer said all it will), and the writing (EPIPE).
 */
static enum io
outcome(struct end *e, ssize_t r, size_t *n, bool reading)
{
	if (r > 0) {
		*n = (size_t)r;
		return IO_DONE;
	}
	if (r == 0)
		return reading ? IO_EOF : IO_AGAIN;
	switch (errno) {
	case EINTR:
	case EAGAIN:
		return IO_AGAIN;
	case ECONNRESET:
		if (e->kind == END_STDIO)
			break;
		e->reset = reading;
		return reading ? IO_EOF : IO_GONE;
	case EPIPE:
		if (reading)
			break;
		return IO_GONE;
	}
	end_warn(e, reading);
	return IO_FAIL;
}

/* One read of at most len bytes into p; *n is what came.  (A message
 * end is read in batches: message_read_batch.) */
enum io
end_read(struct end *e, char *p, size_t len, size_t *n)
{
	enum io r;
	ssize_t got;

	*n = 0;
	got = e->kind == END_STDIO ? read(e->rfd, p, len) :
	    recv(e->rfd, p, len, MSG_DONTWAIT);
	r = outcome(e, got, n, true);
	e->nread += *n;
	return r;
}

/*
 * One write of what p holds; *n is what went.  A write never waits: the
 * socket's is MSG_DONTWAIT, and stdout is written only once poll said so.
 * (A message end is written a message at a time: message.c.)
 */
enum io
end_write(struct end *e, const char *p, size_t len, size_t *n)
{
	enum io r;
	ssize_t put;

	*n = 0;
	if (e->kind == END_STDIO)
		put = write(e->wfd, p, len);
	else if (e->fds_pending)
		put = fdpass_send(e, p, len, NULL, 0);
	else
		put = send(e->wfd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	r = outcome(e, put, n, false);
	e->nwritten += *n;
	return r;
}

/*
 * Writes the messages of b to stdout from where they stopped, each
 * followed by a newline with -L (newline), in one writev(2); b->next and
 * b->off then say how far they went.
 */
enum io
end_write_batch(struct end *e, struct batch *b, bool newline)
{
	struct iovec iov[2 * BATCH_MAX];
	size_t n, unit, skip;
	ssize_t put;
	int i, k = 0;
	enum io r;

	for (i = b->next; i < b->n; i++) {
		skip = i == b->next ? b->off : 0;
		if (skip < b->len[i]) {
			iov[k].iov_base = BATCH_SLOT(b, i) + skip;
			iov[k++].iov_len = b->len[i] - skip;
		}
		if (newline) {
			iov[k].iov_base = (void *)(uintptr_t)"\n";
			iov[k++].iov_len = 1;
		}
	}
	n = 0;
	r = IO_DONE;
	if (k > 0) {
		put = writev(e->wfd, iov, k);
		if ((r = outcome(e, put, &n, false)) != IO_DONE)
			return r;
	}
	e->nwritten += n;
	/* Whole messages (with their newlines) first, then part of one;
	 * empty ones without a newline go with those before them. */
	while (b->next < b->n) {
		unit = b->len[b->next] + (newline ? 1 : 0) - b->off;
		if (n < unit) {
			b->off += n;
			break;
		}
		n -= unit;
		b->next++;
		b->off = 0;
	}
	return r;
}

/*
 * Tells the peer that nothing more comes (SHUT_WR, unless --no-shutdown),
 * or that nothing more is wanted (SHUT_RD).  A program hears the first
 * as the end of its stdin; stdio and datagrams have no such thing.
 */
void
end_shutdown(struct end *e, int how)
{
	if (e->program && how == SHUT_WR && e->wfd != -1) {
		close(e->wfd);
		e->wfd = -1;
	}
	if (e->kind == END_STDIO || e->type == SOCK_DGRAM)
		return;
	if (how == SHUT_WR && !e->half_close)
		return;
	(void)shutdown(e->wfd, how);
}

/* Whether a write may go now: a reply needs a sender to go to, and waits
 * out the pause after a full receiver. */
bool
end_ready(const struct end *e)
{
	if (!e->replying)
		return true;
	return e->peerlen > sizeof(sa_family_t) && e->retry_at < 0;
}

/* O_NONBLOCK on or off, for zero-copy moves: splice(2) and sendfile(2)
 * take no MSG_DONTWAIT. */
void
end_nonblock(struct end *e, bool on)
{
	int fl;

	if (e->nonblock == on || (fl = fcntl(e->wfd, F_GETFL)) == -1)
		return;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (fcntl(e->wfd, F_SETFL, fl) != -1)
		e->nonblock = on;
}
