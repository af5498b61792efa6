/* end.c: the two kinds of byte end, stdio and a stream socket, and their reads and writes. */
#include "config.h"

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/*
 * Stdin and stdout as one end, buffered in buf (END_BUF_SIZE bytes).  They
 * outlive a connection: with -k the next client gets what stdin still
 * holds, and a closed stdout stays closed.  Zero-copy moves are chosen
 * here, once, from what the descriptors are.
 */
void
end_stdio(struct end *e, const struct options *o, char *buf)
{
	struct stat st;

	memset(e, 0, sizeof(*e));
	e->kind = END_STDIO;
	e->name = "stdio";
	e->rfd = o->no_stdin ? -1 : STDIN_FILENO;
	e->wfd = STDOUT_FILENO;
	e->buf.data = buf;
	e->buf.size = END_BUF_SIZE;
	e->instant = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	e->retry_at = -1;
	/* Spliced bytes never reach ucat's memory, where -x and --pcap see
	 * them. */
	if (o->type == SOCK_STREAM && !o->no_splice && !trace_on()) {
		if (e->rfd != -1)
			e->rmove = move_choose(e->rfd, true);
		e->wmove = move_choose(e->wfd, false);
	}
}

static bool
connected(int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	return getpeername(fd, (struct sockaddr *)&sun, &len) == 0;
}

/* A connected socket, or a datagram listener's, named name in messages,
 * buffered in buf (END_BUF_SIZE bytes). */
void
end_socket(struct end *e, const struct options *o, int fd, const char *name,
    char *buf)
{
	memset(e, 0, sizeof(*e));
	e->buf.data = buf;
	e->buf.size = END_BUF_SIZE;
	e->kind = o->type == SOCK_STREAM ? END_STREAM : END_MESSAGE;
	e->type = o->type;
	e->name = name;
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
	sock_prepare(fd, o);
}

/* A failed read or write, in ucat's words: the address is in them. */
void
end_warn(const struct end *e, bool reading)
{
	int saved = errno;

	if (e->kind == END_STDIO)
		warn("%s", reading ? "stdin" : "stdout");
	else
		warn("%s %s", reading ? "receive from" : "send to", e->name);
	if (e->kind == END_STDIO)
		dump_event("error: %s: %s", reading ? "stdin" : "stdout",
		    strerror(saved));
	else
		dump_event("error: %s %s: %s", reading ? "receive from" :
		    "send to", e->name, strerror(saved));
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
 * A message end sends all of p as one message, or drops it (*n is 0).
 */
enum io
end_write(struct end *e, const char *p, size_t len, size_t *n)
{
	enum io r;
	ssize_t put;

	*n = 0;
	if (e->kind == END_MESSAGE)
		r = message_write(e, p, len, n);
	else {
		if (e->kind == END_STDIO)
			put = write(e->wfd, p, len);
		else if (e->fds_pending)
			put = fdpass_send(e, p, len, NULL, 0);
		else
			put = send(e->wfd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		r = outcome(e, put, n, false);
	}
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
 * or that nothing more is wanted (SHUT_RD).  Stdio and datagrams have no
 * such thing.
 */
void
end_shutdown(struct end *e, int how)
{
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
