/* pump.c: the poll() loop over two flows between two ends. */
#include "config.h"

#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/* How many sendfile(2) calls may follow each other before a poll. */
#define FILE_ROUNDS	16
/* How many full batches may follow each other before a poll looks at
 * everything else. */
#define HOT_ROUNDS	16

/*
 * A flow moves what its source end gives to its destination end: through
 * the source's buffer (copying), or with no copy at all.  It is done when
 * nothing more can go: its source ended and all went out, or its
 * destination went away.
 */
struct flow {
	struct end	*src;
	struct end	*dst;
	struct buf	*buf;		/* src's: read and not yet written */
	enum move	 how;		/* copy through buf, or zero-copy */
	bool		 whole;		/* one read is one message: only into
					 * an empty buffer */
	bool		 lines;		/* -L into messages: a line each */
	bool		 newline;	/* -L out of messages: one after each */
	bool		 held;		/* whole: a message (maybe empty) is in
					 * buf */
	bool		 done;
	bool		 blocked;	/* zero-copy: dst was full */
	char		 mark;		/* traced: '>' a to b, '<' b to a */
	uint64_t	 offset;	/* -x: stream bytes traced */
	uint64_t	 messages;	/* -x: messages traced */
	/* Out of a message end: batches of messages stand for buf. */
	struct batch	*batch;
	/* MOVE_PIPE: a pipe of the flow's own stands for buf. */
	int		 pipe[2];
	size_t		 pipecap;	/* bytes it holds */
	size_t		 piped;		/* bytes in it */
	bool		 pipefull;	/* it took nothing more (its slots, not
					 * its bytes, ran out) */
};

/* Two flows over two ends, and the deadlines they share. */
struct session {
	const struct options *o;
	struct flow	 flow[2];
	bool		 relay;		/* two sockets: a reset ends both */
	bool		 reset;		/* and one did */
	struct flow	*waiting;	/* the flow whose moves may block */
	bool		 never_wait;	/* a blocking move came back EAGAIN */
	int		 hot;		/* full batches taken since a poll */
	double		 quit_at;	/* -q; < 0: none */
	double		 idle_at;	/* -w; < 0: none */
};

/*
 * What a zero-copy move knows as it starts, which tells what an EAGAIN
 * means: the source was seen ready, so the destination is full; the
 * destination was seen ready, so the source is empty; or the move was
 * free to block, and something made it non-blocking anyway.
 */
enum seen { SRC_READY, DST_READY, MAY_WAIT };

/* Marks n bytes written; an empty buffer starts over at its beginning,
 * and holds no message. */
static void
consume(struct flow *f, size_t n)
{
	struct buf *b = f->buf;

	b->head += n;
	if (b->head == b->tail) {
		b->head = b->tail = 0;
		f->held = false;
	}
}

/* Something read is still to be written: bytes, or an empty message. */
static bool
pending(const struct flow *f)
{
	return f->buf->head != f->buf->tail || f->held || f->piped > 0 ||
	    (f->batch != NULL && f->batch->next < f->batch->n);
}

/* Moved through a buffer of ucat's (memory, or its own pipe): read when
 * there is room, written when there is something, as poll says. */
static bool
buffered(const struct flow *f)
{
	return f->how == MOVE_COPY || f->how == MOVE_PIPE;
}

static void
active(struct session *s)
{
	if (s->o->timeout > 0)
		s->idle_at = clock_now() + s->o->timeout;
}

/*
 * The next unit for the destination: every pending byte, or with -L into
 * messages one line (its newline is *used but not sent; a last line
 * without one goes once the source has ended).
 */
static bool
next_unit(const struct flow *f, size_t *len, size_t *used)
{
	const struct buf *b = f->buf;
	size_t n = b->tail - b->head;
	const char *nl;

	*len = *used = n;
	if (!f->lines)
		return n > 0 || f->held;
	if ((nl = memchr(b->data + b->head, '\n', n)) != NULL) {
		*len = (size_t)(nl - (b->data + b->head));
		*used = *len + 1;
		return true;
	}
	return f->src->eof && n > 0;
}

/* Input is wanted: a stream takes what fits, a message needs an empty
 * buffer, a line waits until the last one went. */
static bool
wants_input(const struct flow *f)
{
	size_t len, used;

	if (f->done || f->src->eof || !end_ready(f->dst))
		return false;
	if (f->how == MOVE_PIPE)
		return f->piped < f->pipecap && !f->pipefull;
	if (f->how != MOVE_COPY)
		return !f->blocked;
	if (f->whole)
		return !pending(f);
	if (f->lines)
		return !next_unit(f, &len, &used);
	return f->buf->tail < f->buf->size;
}

/* Something waits for room in the destination. */
static bool
wants_room(const struct flow *f)
{
	size_t len, used;

	if (f->done)
		return false;
	if (f->how == MOVE_PIPE)
		return f->piped > 0;
	if (f->how != MOVE_COPY)
		return f->blocked;
	if (f->batch != NULL)
		return end_ready(f->dst) && pending(f);
	return end_ready(f->dst) && next_unit(f, &len, &used);
}

/*
 * The source ended and all went out: the destination hears of it
 * (half-close), and from stdin's end -q starts.  The half-close is
 * activity too: -w and -q count from the same moment, so that with equal
 * values -q ends the session, as asked, and -w does not.
 */
static void
flow_finish(struct session *s, struct flow *f)
{
	double t = clock_now();

	/* --send-fd: nothing went yet, so one NUL byte (a message of one)
	 * carries the descriptors first. */
	if (f->dst->fds_pending && !f->dst->closed) {
		f->buf->data[f->buf->tail++] = '\0';
		f->held = f->whole;
		return;
	}
	f->done = true;
	end_shutdown(f->dst, SHUT_WR);
	trace_eof(f->mark, f->dst->kind == END_STDIO || f->dst->half_close);
	if (s->o->timeout > 0)
		s->idle_at = t + s->o->timeout;
	if (f->src->kind == END_STDIO && s->o->quit_after >= 0)
		s->quit_at = t + s->o->quit_after;
}

/* The destination takes nothing more (a closed stdout, a peer gone): what
 * the flow holds stays with its source (stdin's waits for a next client),
 * and a socket source is told that nothing more is wanted. */
static void
flow_gone(struct flow *f)
{
	f->done = f->dst->closed = true;
	end_shutdown(f->src, SHUT_RD);
}

static void
pipe_close(struct flow *f)
{
	if (f->pipe[0] == -1)
		return;
	close(f->pipe[0]);
	close(f->pipe[1]);
	f->pipe[0] = f->pipe[1] = -1;
}

/* Zero-copy is not for these descriptors: copy, now and from now on. */
static void
flow_copy(struct flow *f)
{
	f->how = f->src->rmove = f->dst->wmove = MOVE_COPY;
	pipe_close(f);
}

/* Socket to the flow's pipe.  A pipe that takes nothing although the
 * socket was ready has run out of slots: it waits for the next drain. */
static int
pipe_in(struct session *s, struct flow *f)
{
	ssize_t n = move_fast(MOVE_SPLICE, f->src->rfd, f->pipe[1]);

	if (n >= 0) {
		f->piped += (size_t)n;
		f->src->nread += (uint64_t)n;
		f->src->eof |= n == 0;
		active(s);
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		f->pipefull = f->piped > 0;
		return 0;
	case ECONNRESET:
		f->src->eof = f->src->reset = true;
		return 0;
	case EINVAL:
		/* Copying takes over once the pipe is empty. */
		if (f->piped == 0)
			flow_copy(f);
		else
			f->pipefull = true;
		return 0;
	}
	end_warn(f->src, true);
	return -1;
}

/* The flow's pipe to the socket. */
static int
pipe_out(struct session *s, struct flow *f)
{
	ssize_t n = move_fast(MOVE_SPLICE, f->pipe[0], f->dst->wfd);

	if (n > 0) {
		f->piped -= (size_t)n;
		f->pipefull = false;
		f->dst->nwritten += (uint64_t)n;
		active(s);
		return 0;
	}
	switch (n == 0 ? EAGAIN : errno) {
	case EAGAIN:
		return 0;
	case EPIPE:
	case ECONNRESET:
		flow_gone(f);
		return 0;
	}
	end_warn(f->dst, false);
	return -1;
}

static int
flow_read(struct session *s, struct flow *f)
{
	struct buf *b = f->buf;
	size_t want, n;
	enum io r;

	if (f->lines && b->head > 0) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	if (b->tail == b->size) {
		warnx("%s: line longer than %d bytes", f->src->kind ==
		    END_STDIO ? "stdin" : f->src->name, DGRAM_MAX);
		return -1;
	}
	/* Into messages (without -L), one read is one message. */
	want = f->whole ? DGRAM_MAX : b->size - b->tail;
	r = end_read(f->src, b->data + b->tail, want, &n);
	if (r == IO_FAIL)
		return -1;
	if (r == IO_EOF)
		f->src->eof = true;
	if (r != IO_DONE && r != IO_EOF)
		return 0;
	b->tail += n;
	f->held = r == IO_DONE && f->whole;
	active(s);
	return 0;
}

/*
 * -x and --pcap see each chunk once it was delivered: a message as it is sent (or,
 * into a byte end, as it was received), stream bytes at their offset.
 */
static void
flow_dump(struct flow *f, size_t n, size_t len)
{
	const char *p = f->buf->data + f->buf->head;

	if (f->dst->kind == END_MESSAGE && n == len)
		trace_chunk(f->mark, p, len, true, ++f->messages);
	else if (f->src->kind != END_MESSAGE && f->dst->kind != END_MESSAGE) {
		trace_chunk(f->mark, p, n, false, f->offset);
		f->offset += n;
	}
}

/* What a write's outcome means for its flow; -1: it failed (said). */
static int
written(struct session *s, struct flow *f, enum io r)
{
	switch (r) {
	case IO_DONE:
		active(s);
		return 0;
	case IO_GONE:
		flow_gone(f);
		return 0;
	case IO_FAIL:
		return -1;
	default:
		return 0;
	}
}

static int
flow_write(struct session *s, struct flow *f)
{
	size_t len, used, n;
	enum io r;

	if (!next_unit(f, &len, &used))
		return 0;
	/* An empty message has nothing to write out to a byte end. */
	if (len == 0 && f->dst->kind != END_MESSAGE) {
		consume(f, used);
		return 0;
	}
	r = end_write(f->dst, f->buf->data + f->buf->head, len, &n);
	if (r == IO_DONE) {
		flow_dump(f, n, len);
		consume(f, f->dst->kind == END_MESSAGE ? used : n);
	}
	return written(s, f, r);
}

/* A batch of messages from a message end; each is seen by -x and --pcap
 * as it came, when it goes to a byte end. */
static int
batch_in(struct session *s, struct flow *f, short revents)
{
	struct batch *b = f->batch;
	int i;

	switch (message_read_batch(f->src, b, revents)) {
	case IO_FAIL:
		return -1;
	case IO_EOF:
		f->src->eof = true;
		return 0;
	case IO_DONE:
		break;
	default:
		return 0;
	}
	if (f->dst->kind != END_MESSAGE)
		for (i = 0; i < b->n; i++)
			trace_chunk(f->mark, BATCH_SLOT(b, i), b->len[i], true,
			    ++f->messages);
	active(s);
	return 0;
}

/* Sends messages (iov), as many as go, and sees them go. */
static int
messages_out(struct session *s, struct flow *f, struct iovec *iov, int n,
    int *sent)
{
	bool dropped;
	enum io r;
	int i;

	r = message_write_many(f->dst, iov, n, sent, &dropped);
	for (i = 0; r == IO_DONE && i < *sent - (dropped ? 1 : 0); i++)
		trace_chunk(f->mark, iov[i].iov_base, iov[i].iov_len, true,
		    ++f->messages);
	return written(s, f, r);
}

/* What a batch holds, out: written to a byte end (with -L's newlines),
 * or sent on as messages. */
static int
batch_out(struct session *s, struct flow *f)
{
	struct iovec iov[BATCH_MAX];
	struct batch *b = f->batch;
	int i, sent = 0;

	if (f->dst->kind == END_MESSAGE) {
		for (i = b->next; i < b->n; i++) {
			iov[i - b->next].iov_base = BATCH_SLOT(b, i);
			iov[i - b->next].iov_len = b->len[i];
		}
		if (messages_out(s, f, iov, b->n - b->next, &sent) == -1)
			return -1;
		b->next += sent;
		return 0;
	}
	return written(s, f, end_write_batch(f->dst, b, f->newline));
}

/* -L into messages: the lines read, each a message, as many at once as
 * the kernel takes (the last one without a newline once stdin ended). */
static int
lines_out(struct session *s, struct flow *f)
{
	struct iovec iov[BATCH_MAX];
	size_t used[BATCH_MAX], at = f->buf->head;
	const char *p, *nl;
	int k, i, sent = 0;

	for (k = 0; k < BATCH_MAX && at < f->buf->tail; k++) {
		p = f->buf->data + at;
		nl = memchr(p, '\n', f->buf->tail - at);
		if (nl == NULL && !f->src->eof)
			break;
		iov[k].iov_base = (void *)(uintptr_t)p;
		iov[k].iov_len = nl != NULL ? (size_t)(nl - p) :
		    f->buf->tail - at;
		used[k] = iov[k].iov_len + (nl != NULL ? 1 : 0);
		at += used[k];
	}
	if (k == 0 || messages_out(s, f, iov, k, &sent) == -1)
		return k == 0 ? 0 : -1;
	for (i = 0; i < sent; i++)
		consume(f, used[i]);
	return 0;
}

/*
 * Zero-copy from source to destination.  A regular file is always ready,
 * so sendfile goes on until the socket is full or the file ends (within
 * FILE_ROUNDS, so that the other flow and the deadlines are looked at now
 * and then).
 */
static int
flow_fast(struct session *s, struct flow *f, enum seen seen)
{
	bool file = f->how == MOVE_SENDFILE;
	int rounds = 0;
	ssize_t n;

	do {
		n = move_fast(f->how, f->src->rfd, f->dst->wfd);
		if (n <= 0)
			break;
		f->src->nread += (uint64_t)n;
		f->dst->nwritten += (uint64_t)n;
		active(s);
	} while (file && seen != MAY_WAIT && ++rounds < FILE_ROUNDS);
	if (n >= 0) {
		f->src->eof |= n == 0;
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		/* A file has more: only the socket can be full. */
		f->blocked = seen == SRC_READY || file;
		s->never_wait |= seen == MAY_WAIT;
		return 0;
	case ECONNRESET:
		if (f->src->kind != END_STDIO) {
			f->src->eof = f->src->reset = true;
			return 0;
		}
		/* FALLTHROUGH */
	case EPIPE:
		flow_gone(f);
		return 0;
	case EINVAL:
		flow_copy(f);
		return 0;
	}
	if (f->src->kind == END_STDIO)
		end_warn(f->dst, false);
	else
		end_warn(f->src, true);
	return -1;
}

/*
 * What a flow waits for this round, in its two poll slots: input at its
 * source, room at its destination.  After the reverse flow stopped
 * reading a socket destination, only its POLLHUP says the peer is gone.
 */
static void
flow_poll(const struct flow *f, const struct flow *r, struct pollfd *pfd)
{
	bool hup = !f->done && f->dst->kind != END_STDIO &&
	    (r->done || r->src->eof);

	pfd[0].fd = wants_input(f) ? f->src->rfd : -1;
	pfd[0].events = POLLIN | POLLRDHUP;
	pfd[1].events = wants_room(f) ? POLLOUT : 0;
	pfd[1].fd = pfd[1].events || hup ? f->dst->wfd : -1;
}

/* Input at the source: a read, or a zero-copy move. */
static int
flow_take(struct session *s, struct flow *f, const struct pollfd *pfd)
{
	if (pfd[0].revents == 0 || f->src->eof)
		return 0;
	if (f->how == MOVE_PIPE)
		return pipe_in(s, f);
	if (f->how != MOVE_COPY)
		return flow_fast(s, f, SRC_READY);
	if (f->batch != NULL)
		return batch_in(s, f, pfd[0].revents);
	return flow_read(s, f);
}

/* Output of what a buffer (memory, or the flow's pipe) holds. */
static int
flow_put(struct session *s, struct flow *f)
{
	if (f->how == MOVE_PIPE)
		return pipe_out(s, f);
	if (f->batch != NULL)
		return batch_out(s, f);
	if (f->lines)
		return lines_out(s, f);
	return flow_write(s, f);
}

/*
 * Output to the destination.  What was read goes on at once where that
 * cannot block (a send, a write to a regular file), and so does a batch
 * of messages, as nc writes what it read (a full pipe makes it wait); a
 * full destination that drains moves at once too, since nothing else
 * takes from the source.  Any event on a slot that only watched is the
 * peer's hang-up.
 */
static int
flow_give(struct session *s, struct flow *f, const struct pollfd *pfd)
{
	if (pfd[0].revents && buffered(f) && (f->dst->instant ||
	    f->batch != NULL) && wants_room(f) && flow_put(s, f) == -1)
		return -1;
	if (f->done || pfd[1].revents == 0)
		return 0;
	if (pfd[1].events == 0) {
		flow_gone(f);
		return 0;
	}
	if (buffered(f))
		return flow_put(s, f);
	f->blocked = false;
	return flow_fast(s, f, DST_READY);
}

/*
 * The one flow left moves from a regular file, and no deadline runs:
 * sendfile(2) may then wait for room in the socket itself, with no poll(2)
 * between moves.  It ends with EPIPE if the peer goes.  (Never a splice
 * from a pipe: an idle stdin would hide the peer's hang-up, and the pipe's
 * lock would be held while it waits.)
 */
static struct flow *
waiting_flow(struct session *s)
{
	struct flow *f = &s->flow[s->flow[0].done ? 1 : 0];

	if (!s->flow[0].done && !s->flow[1].done)
		return NULL;
	if (f->done || f->src->eof || f->how != MOVE_SENDFILE ||
	    s->never_wait || s->quit_at >= 0 || s->idle_at >= 0)
		return NULL;
	return f;
}

/* Puts the destination of f in blocking mode, and that of the flow that
 * waited before back. */
static void
set_waiting(struct session *s, struct flow *f)
{
	if (s->waiting == f)
		return;
	if (s->waiting != NULL)
		end_nonblock(s->waiting->dst, true);
	if (f != NULL)
		end_nonblock(f->dst, false);
	s->waiting = f;
}

/* Milliseconds until the nearest deadline, -1 for none. */
static int
poll_timeout(const struct session *s)
{
	double at[] = { s->quit_at, s->idle_at, s->flow[0].src->retry_at,
	    s->flow[1].src->retry_at };
	double next = -1;
	size_t i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (at[i] >= 0 && (next < 0 || at[i] < next))
			next = at[i];
	return clock_ms_until(next);
}

/* After a poll: a reply pause over, -q (nothing more is taken), or -w
 * (-1: given up), unless -q ends the session no later. */
static int
deadlines(struct session *s)
{
	double t = clock_now();
	int i;

	for (i = 0; i < 2; i++)
		if (s->flow[i].src->retry_at >= 0 &&
		    t >= s->flow[i].src->retry_at)
			s->flow[i].src->retry_at = -1;
	if (s->quit_at >= 0 && t >= s->quit_at) {
		/* Take nothing more; what was read still goes out.  -q
		 * ends the session, so -w is not what ended it. */
		for (i = 0; i < 2; i++)
			s->flow[i].src->eof = true;
		s->quit_at = -1;
		return 0;
	}
	if (s->idle_at >= 0 && t >= s->idle_at &&
	    (s->quit_at < 0 || s->idle_at < s->quit_at)) {
		warnx("%s: idle for %g seconds, giving up", s->o->addr.text,
		    s->o->timeout);
		dump_event("error: idle for %g seconds", s->o->timeout);
		return -1;
	}
	return 0;
}

/*
 * Between two sockets, a reset on either side ends both at once: nothing
 * more is taken from either, and what was taken is still delivered.
 */
static void
reset(struct session *s)
{
	int i;

	for (i = 0; i < 2 && s->relay && !s->reset; i++) {
		if (!s->flow[i].src->reset)
			continue;
		trace_reset(s->flow[i].mark, s->flow[i].src->name);
		s->flow[0].src->eof = s->flow[1].src->eof = true;
		s->reset = true;
	}
}

/*
 * Waits for what the flows want (poll), unless a flow's last batch of
 * messages was full: then more is likely there, and it is taken again
 * with no poll, HOT_ROUNDS times at most in a row.  -1: poll failed.
 */
static int
events(struct session *s, struct pollfd *pfd)
{
	bool hot = false;
	int i;

	for (i = 0; i < 2 && s->hot < HOT_ROUNDS; i++)
		hot |= s->flow[i].batch != NULL && s->flow[i].batch->full &&
		    pfd[2 * i].fd != -1;
	if (hot) {
		s->hot++;
		for (i = 0; i < 4; i++)
			pfd[i].revents = 0;
		for (i = 0; i < 2; i++)
			if (s->flow[i].batch != NULL && s->flow[i].batch->full)
				pfd[2 * i].revents = pfd[2 * i].fd != -1 ?
				    POLLIN : 0;
		return 0;
	}
	s->hot = 0;
	return poll(pfd, 4, poll_timeout(s));
}

static int
pump_loop(struct session *s)
{
	struct pollfd pfd[4];	/* per flow: its source, its destination */
	struct flow *f;
	int i;

	for (;;) {
		reset(s);
		for (i = 0; i < 2; i++) {
			f = &s->flow[i];
			if (!f->done && f->src->eof && !pending(f))
				flow_finish(s, f);
		}
		if (s->flow[0].done && s->flow[1].done)
			return 0;
		set_waiting(s, f = waiting_flow(s));
		if (f != NULL) {
			f->blocked = false;
			if (flow_fast(s, f, MAY_WAIT) == -1)
				return -1;
			continue;
		}
		flow_poll(&s->flow[0], &s->flow[1], &pfd[0]);
		flow_poll(&s->flow[1], &s->flow[0], &pfd[2]);
		if (events(s, pfd) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return -1;
		}
		if (deadlines(s) == -1)
			return -1;
		/* Every input first: a datagram's sender is known before
		 * stdin is sent to the most recent one. */
		for (i = 0; i < 2; i++)
			if (flow_take(s, &s->flow[i], &pfd[2 * i]) == -1)
				return -1;
		for (i = 0; i < 2; i++)
			if (flow_give(s, &s->flow[i], &pfd[2 * i]) == -1)
				return -1;
	}
}

static void
flow_init(struct flow *f, const struct options *o, struct end *src,
    struct end *dst)
{
	memset(f, 0, sizeof(*f));
	f->src = src;
	f->dst = dst;
	f->buf = &src->buf;
	f->pipe[0] = f->pipe[1] = -1;
	/* Stdio knows what it is; a socket moves as stdio allows, and
	 * between two stream sockets through a pipe of the flow's own. */
	f->how = src->kind == END_STDIO ? src->rmove : dst->wmove;
	if (src->kind == END_STREAM && dst->kind == END_STREAM &&
	    !o->no_splice && !trace_on() &&
	    move_pipe(f->pipe, &f->pipecap) == 0)
		f->how = MOVE_PIPE;
	/* Descriptors go with bytes that ucat sends itself. */
	if (dst->fds_pending)
		f->how = MOVE_COPY;
	f->whole = src->kind == END_MESSAGE ||
	    (dst->kind == END_MESSAGE && !o->lines);
	f->lines = dst->kind == END_MESSAGE && o->lines;
	f->newline = src->kind == END_MESSAGE && o->lines;
	/* -d, or a stdout closed under an earlier client. */
	f->done = src->rfd == -1 || dst->closed;
	/* splice(2) and sendfile(2) take no MSG_DONTWAIT. */
	if (f->how != MOVE_COPY && src->kind != END_STDIO)
		end_nonblock(src, true);
	if (f->how != MOVE_COPY && dst->kind != END_STDIO)
		end_nonblock(dst, true);
}

/*
 * Pumps between ends a and b until both flows, a to b and b to a, are
 * done, or (two sockets) either side resets.  What outlives a connection
 * lives in the ends (see end_stdio).  With -v the byte counts of b, the
 * socket connected to, are reported.
 */
int
pump_run(const struct options *o, struct end *a, struct end *b)
{
	/* Each flow out of a message end has its batch: only the pages its
	 * messages touch are ever used. */
	static char area[2][BATCH_MAX * DGRAM_MAX];
	static struct batch batch[2];
	struct session s;
	int i, rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.quit_at = s.idle_at = -1;
	s.relay = a->kind != END_STDIO && b->kind != END_STDIO;
	flow_init(&s.flow[0], o, a, b);
	flow_init(&s.flow[1], o, b, a);
	for (i = 0; i < 2; i++)
		if (s.flow[i].src->kind == END_MESSAGE) {
			batch[i].area = area[i];
			s.flow[i].batch = &batch[i];
		}
	s.flow[0].mark = '>';
	s.flow[1].mark = '<';
	active(&s);
	/* The side connected to is the server: TARGET, or the listener. */
	trace_begin(b->kind != END_MESSAGE, s.relay || !o->listen);

	rc = pump_loop(&s);
	pipe_close(&s.flow[0]);
	pipe_close(&s.flow[1]);
	trace_end();
	/* What was claimed of a file and not sent is the file's again. */
	move_unclaim();
	if (o->verbose)
		warnx("sent %" PRIu64 " bytes, received %" PRIu64 " bytes",
		    b->nwritten, b->nread);
	return rc;
}

/*
 * Pumps between stdio and the connected socket fd.  Stdin and stdout are
 * the process's own, so their end is made once and serves every
 * connection of a -k listener; so do the buffers.
 */
int
pump_stdio(const struct options *o, int fd)
{
	static char iobuf[END_BUF_SIZE], sockbuf[END_BUF_SIZE];
	static struct end io;
	struct end sock;

	if (io.buf.data == NULL)
		end_stdio(&io, o, iobuf);
	end_socket(&sock, o, fd, o->addr.text, sockbuf);
	return pump_run(o, &io, &sock);
}
