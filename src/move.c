/* move.c: how a flow moves, chosen once; and the moves through ucat's memory: bytes, lines, whole messages, batches. */
#include "config.h"

#include <err.h>
#include <string.h>

#include "ucat.h"

/*
 * Each chunk is seen by -x and --pcap here, once it was delivered: a
 * message as it went out whole, stream bytes at their offset in the way
 * they went.
 */
static void
seen(struct flow *f, const char *p, size_t n, bool message)
{
	if (message) {
		trace_chunk(f->trace, f->mark, p, n, true, ++f->messages);
		return;
	}
	trace_chunk(f->trace, f->mark, p, n, false, f->offset);
	f->offset += n;
}

/*
 * Out of a byte end (stdin, a stream), through the source's buffer: into
 * a byte end as it came, into a message end one read a message (whole),
 * or with -L one line a message (lines).
 */

/* Marks n bytes gone out; an empty buffer starts over at its beginning,
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

/* --send-fd: the source ended before anything went to the peer, so one
 * NUL byte (a message of one) still has to carry the descriptors. */
static bool
owes_nul(const struct flow *f)
{
	return f->src->eof && f->dst->fds_pending && !f->dst->closed &&
	    f->buf->head == f->buf->tail && !f->held;
}

static bool
bytes_pending(const struct flow *f)
{
	return f->buf->head != f->buf->tail || f->held || owes_nul(f);
}

/*
 * The next unit for the destination: every pending byte, or with -L one
 * line (its newline is *used but not sent; a last line without one goes
 * once the source has ended).  This is where what may go is decided, and
 * where a flow that inspects what it carries would hold it back.
 */
static bool
next_unit(const struct flow *f, size_t *len, size_t *used)
{
	const struct buf *b = f->buf;
	size_t n = b->tail - b->head;
	const char *nl;

	*len = *used = n;
	if (f->collect)
		return f->src->eof && n > 0;
	if (!f->lines)
		return n > 0 || f->held;
	if ((nl = memchr(b->data + b->head, '\n', n)) != NULL) {
		*len = (size_t)(nl - (b->data + b->head));
		*used = *len + 1;
		return true;
	}
	return f->src->eof && n > 0;
}

/* A stream takes what fits, a message needs an empty buffer, a line
 * waits until the last one went. */
static bool
bytes_input(const struct flow *f)
{
	size_t len, used;

	if (f->whole)
		return !bytes_pending(f);
	if (f->lines)
		return !next_unit(f, &len, &used);
	/* What does not fit one message is read and dropped; -C needs room
	 * for a CR before what it reads. */
	return f->collect || f->buf->tail + (f->src->crlf ? 1 : 0) <
	    f->buf->size;
}

static bool
bytes_room(const struct flow *f)
{
	size_t len, used;

	return next_unit(f, &len, &used) || owes_nul(f);
}

/* A send never waits, nor does a write to a regular file: what was read
 * goes on at once (a full pipe makes it wait, as nc does). */
static bool
bytes_eager(const struct flow *f)
{
	return f->dst->instant;
}

/* Past what one message holds, a program's answer is read and dropped,
 * with a warning once. */
static enum io
cut(struct flow *f)
{
	char sink[4096], peer[ADDR_TEXT_MAX];
	size_t n;
	enum io r;

	if ((r = end_read(f->src, sink, sizeof(sink), &n)) == IO_DONE &&
	    !f->cut) {
		warnx("reply to %s cut to %d bytes", addr_format(
		    (struct sockaddr *)&f->dst->peer, f->dst->peerlen, peer,
		    sizeof(peer)), DGRAM_MAX);
		f->cut = true;
	}
	return r;
}

/*
 * -C: each LF of the n bytes at p that no CR comes before (the last byte
 * of the read before counts) gets one, in place: there is room for n
 * more.  Returns the new length.
 */
static size_t
crlf(struct end *e, char *p, size_t n)
{
	size_t add = 0, total, i, j;
	bool cr = e->cr;

	for (i = 0; i < n; i++) {
		add += p[i] == '\n' && !cr;
		cr = p[i] == '\r';
	}
	total = n + add;
	/* From the end: each byte moves up by the CRs still to put before
	 * it. */
	for (i = n, j = total; add > 0 && i-- > 0;) {
		p[--j] = p[i];
		if (p[i] == '\n' && !(i > 0 ? p[i - 1] == '\r' : e->cr)) {
			p[--j] = '\r';
			add--;
		}
	}
	e->cr = cr;
	return total;
}

/* One read into the buffer. */
static enum io
bytes_take(struct flow *f, short revents)
{
	struct buf *b = f->buf;
	size_t want, n;
	enum io r;

	(void)revents;
	if (f->collect && b->tail >= DGRAM_MAX)
		return cut(f);
	if (f->lines && b->head > 0) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	if (b->tail == b->size) {
		warnx("%s: line longer than %d bytes", f->src->kind ==
		    END_STDIO ? "stdin" : f->src->name, DGRAM_MAX);
		return IO_FAIL;
	}
	/* Into messages (without -L), one read is one message; a program's
	 * answer fills one message at most. */
	if (f->whole)
		want = DGRAM_MAX;
	else
		want = (f->collect ? DGRAM_MAX : b->size) - b->tail;
	/* -C: room for a CR before every byte read. */
	if (f->src->crlf)
		want /= 2;
	r = end_read(f->src, b->data + b->tail, want, &n);
	if (f->src->crlf)
		n = crlf(f->src, b->data + b->tail, n);
	b->tail += n;
	f->held = r == IO_DONE && f->whole;
	return r;
}

/* -L into messages: the lines read, each a message, as many at once as
 * the kernel takes (the last one without a newline once stdin ended). */
static enum io
lines_give(struct flow *f)
{
	struct iovec iov[BATCH_MAX];
	size_t used[BATCH_MAX], at = f->buf->head;
	const char *p, *nl;
	bool dropped;
	int k, i, sent = 0;
	enum io r;

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
	if (k == 0)
		return IO_AGAIN;
	r = message_write_many(f->dst, iov, k, &sent, &dropped);
	for (i = 0; r == IO_DONE && i < sent; i++) {
		if (i < sent - 1 || !dropped)
			seen(f, iov[i].iov_base, iov[i].iov_len, true);
		consume(f, used[i]);
	}
	return r;
}

/* The NUL byte that carries --send-fd's descriptors (owes_nul). */
static enum io
nul_give(struct flow *f)
{
	size_t n;
	enum io r;

	r = f->dst->kind == END_MESSAGE ? message_write(f->dst, "", 1, &n) :
	    end_write(f->dst, "", 1, &n);
	if (r == IO_DONE && n == 1)
		seen(f, "", 1, f->dst->kind == END_MESSAGE);
	return r;
}

/* What the buffer holds, out: a unit, or with -L lines. */
static enum io
bytes_give(struct flow *f)
{
	size_t len, used, n;
	enum io r;

	if (owes_nul(f))
		return nul_give(f);
	if (f->lines)
		return lines_give(f);
	if (!next_unit(f, &len, &used))
		return IO_AGAIN;
	/* An empty message has nothing to write out to a byte end. */
	if (len == 0 && f->dst->kind != END_MESSAGE) {
		consume(f, used);
		return IO_AGAIN;
	}
	r = f->dst->kind == END_MESSAGE ? message_write(f->dst,
	    f->buf->data + f->buf->head, len, &n) : end_write(f->dst,
	    f->buf->data + f->buf->head, len, &n);
	if (r != IO_DONE)
		return r;
	if (f->dst->kind != END_MESSAGE)
		seen(f, f->buf->data + f->buf->head, n, false);
	else if (n == len)
		seen(f, f->buf->data + f->buf->head, len, true);
	consume(f, f->dst->kind == END_MESSAGE ? used : n);
	return IO_DONE;
}

/* In the order of struct mover: input, room, pending, eager, hot, take,
 * give, wait, stop. */
static const struct mover bytes_mover = { bytes_input, bytes_room,
    bytes_pending, bytes_eager, NULL, bytes_take, bytes_give, NULL, NULL };

/*
 * Out of a message end, in batches (recvmmsg): on as messages (sendmmsg),
 * or written to a byte end, each followed by a newline with -L.
 */

static bool
batch_pending(const struct flow *f)
{
	return f->src->batch.next < f->src->batch.n;
}

static bool
batch_input(const struct flow *f)
{
	return !batch_pending(f);
}

/* What was taken goes on at once: a batch is sent, or written as poll
 * allows. */
static bool
batch_eager(const struct flow *f)
{
	(void)f;
	return true;
}

/* The last take filled the batch: more is likely waiting. */
static bool
batch_hot(const struct flow *f)
{
	return f->src->batch.full;
}

static enum io
batch_take(struct flow *f, short revents)
{
	return message_read_batch(f->src, &f->src->batch, revents);
}

static enum io
batch_give(struct flow *f)
{
	struct iovec iov[BATCH_MAX];
	struct batch *b = &f->src->batch;
	int i, k, sent = 0, first = b->next;
	bool dropped;
	enum io r;

	if (f->dst->kind != END_MESSAGE) {
		r = end_write_batch(f->dst, b, f->newline);
		for (i = first; i < b->next; i++)
			seen(f, BATCH_SLOT(b, i), b->len[i], true);
		return r;
	}
	for (k = 0, i = b->next; i < b->n; i++, k++) {
		iov[k].iov_base = BATCH_SLOT(b, i);
		iov[k].iov_len = b->len[i];
	}
	r = message_write_many(f->dst, iov, k, &sent, &dropped);
	for (i = 0; r == IO_DONE && i < sent - (dropped ? 1 : 0); i++)
		seen(f, iov[i].iov_base, iov[i].iov_len, true);
	if (r == IO_DONE)
		b->next += sent;
	return r;
}

static const struct mover batch_mover = { batch_input, batch_pending,
    batch_pending, batch_eager, batch_hot, batch_take, batch_give, NULL,
    NULL };

/*
 * How f moves, decided here once: out of a message end in batches; with
 * no copy where the kernel allows it and nothing must see or change the
 * bytes (-x, --pcap, --no-splice, -C, descriptors to pass with them:
 * splice.c); else
 * through ucat's memory, which is also what a zero-copy move falls back
 * to where it cannot be made after all.
 */
void
move_choose(struct flow *f, const struct options *o)
{
	f->buf = &f->src->buf;
	/* A program's answer is one message, and -L is not for programs. */
	f->collect = f->src->program && f->dst->kind == END_MESSAGE;
	f->whole = f->src->kind == END_MESSAGE ||
	    (f->dst->kind == END_MESSAGE && !o->lines && !f->collect);
	f->lines = f->dst->kind == END_MESSAGE && o->lines && !f->collect;
	f->newline = f->src->kind == END_MESSAGE && o->lines &&
	    !f->dst->program;
	f->fallback = &bytes_mover;
	f->mv = NULL;
	if (f->src->kind == END_MESSAGE)
		f->mv = &batch_mover;
	else if (!o->no_splice && !trace_on(f->trace) &&
	    !f->dst->fds_pending && !f->src->crlf)
		f->mv = splice_choose(f);
	if (f->mv == NULL)
		f->mv = &bytes_mover;
}
