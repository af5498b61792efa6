/* pump.c: the poll() loop over two flows between two ends. */
#include "config.h"

#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "ucat.h"
#include "compat.h"

/* How many takes in a row may skip the poll, while a flow's mover says
 * more is waiting (a full batch of messages). */
#define HOT_ROUNDS	16

/* Two flows over two ends, and the deadlines they share. */
struct session {
	const struct options *o;
	struct trace	*trace;
	struct flow	 flow[2];
	bool		 relay;		/* two sockets: a reset ends both */
	bool		 reset;		/* and one did */
	struct flow	*waiting;	/* the flow whose moves may block */
	bool		 never_wait;	/* a blocking move came back EAGAIN */
	int		 hot;		/* takes without a poll in a row */
	double		 quit_at;	/* -q; < 0: none */
	double		 idle_at;	/* -w; < 0: none */
	double		 start;
};

/* The counts of the socket connected to (-v at the end, and SIGUSR1),
 * in ncat's words. */
static void
counts(const struct session *s)
{
	const struct end *b = s->flow[1].src;

	warnx("sent %" PRIu64 " bytes, received %" PRIu64 " bytes in %.3f s",
	    b->nwritten, b->nread, clock_now() - s->start);
}

static void
active(struct session *s)
{
	if (s->o->timeout > 0)
		s->idle_at = clock_now() + s->o->timeout;
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

	f->done = true;
	end_shutdown(f->dst, SHUT_WR);
	trace_eof(s->trace, f->mark, f->dst->kind == END_STDIO ||
	    f->dst->half_close);
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

/* What a move's outcome means for its flow; -1: it failed (said). */
static int
moved(struct session *s, struct flow *f, enum io r)
{
	switch (r) {
	case IO_EOF:
		f->src->eof = true;
		/* FALLTHROUGH */
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
	bool ready = !f->done && end_ready(f->dst);

	pfd[0].fd = ready && !f->src->eof && f->mv->wants_input(f) ?
	    f->src->rfd : -1;
	pfd[0].events = POLLIN | POLLRDHUP;
	pfd[1].events = ready && f->mv->wants_room(f) ? POLLOUT : 0;
	pfd[1].fd = pfd[1].events || hup ? f->dst->wfd : -1;
}

/* Input at the source. */
static int
flow_take(struct session *s, struct flow *f, const struct pollfd *pfd)
{
	if (pfd[0].revents == 0 || f->src->eof || f->done)
		return 0;
	return moved(s, f, f->mv->take(f, pfd[0].revents));
}

/*
 * Output to the destination.  What was taken goes on at once where the
 * mover says that cannot wait (a send, a write to a regular file, a batch
 * of messages); a full destination that drains moves at once too, since
 * nothing else takes from the source.  Any event on a slot that only
 * watched is the peer's hang-up.
 */
static int
flow_give(struct session *s, struct flow *f, const struct pollfd *pfd)
{
	if (pfd[0].revents && !f->done && f->mv->eager != NULL &&
	    f->mv->eager(f) && end_ready(f->dst) && f->mv->wants_room(f) &&
	    moved(s, f, f->mv->give(f)) == -1)
		return -1;
	if (f->done || pfd[1].revents == 0)
		return 0;
	if (pfd[1].events == 0) {
		flow_gone(f);
		return 0;
	}
	return moved(s, f, f->mv->give(f));
}

/*
 * The one flow left may wait in its moves (sendfile(2) from a regular
 * file), when no deadline runs: with no poll(2) between moves.  It ends
 * with EPIPE if the peer goes.  (Never a splice from a pipe: an idle stdin
 * would hide the peer's hang-up, and the pipe's lock would be held while
 * it waits.)
 */
static struct flow *
waiting_flow(struct session *s)
{
	struct flow *f = &s->flow[s->flow[0].done ? 1 : 0];

	if (!s->flow[0].done && !s->flow[1].done)
		return NULL;
	if (f->done || f->src->eof || f->mv->wait == NULL ||
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

/* A move of the waiting flow; one that would not wait after all means
 * none may any more. */
static int
flow_wait(struct session *s, struct flow *f)
{
	enum io r = f->mv->wait(f);

	s->never_wait |= r == IO_AGAIN;
	return moved(s, f, r);
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
		warnx("%s: idle for %g second%s, giving up", s->o->addr.text,
		    s->o->timeout, s->o->timeout == 1 ? "" : "s");
		trace_event(s->trace, "error: idle for %g seconds",
		    s->o->timeout);
		return -1;
	}
	return 0;
}

/*
 * What stops a session taking more either way, while what was taken is
 * still delivered: between two sockets, a reset on either side; and the
 * last message -W counts.
 */
static void
stop_taking(struct session *s)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (s->flow[i].src->quota_ends && s->flow[i].src->eof)
			s->flow[0].src->eof = s->flow[1].src->eof = true;
		if (!s->relay || s->reset || !s->flow[i].src->reset)
			continue;
		trace_reset(s->trace, s->flow[i].mark, s->flow[i].src->name);
		s->flow[0].src->eof = s->flow[1].src->eof = true;
		s->reset = true;
	}
}

/*
 * Waits for what the flows want (poll), unless a flow's mover says more
 * is waiting at its source already: then it is taken again with no poll,
 * HOT_ROUNDS times at most in a row.  -1: poll failed.
 */
static int
events(struct session *s, struct pollfd *pfd)
{
	bool hot[2];
	int i;

	for (i = 0; i < 2; i++)
		hot[i] = s->hot < HOT_ROUNDS && pfd[2 * i].fd != -1 &&
		    s->flow[i].mv->hot != NULL && s->flow[i].mv->hot(&s->flow[i]);
	if (!hot[0] && !hot[1]) {
		s->hot = 0;
		return poll(pfd, 4, poll_timeout(s));
	}
	s->hot++;
	for (i = 0; i < 4; i++)
		pfd[i].revents = i % 2 == 0 && hot[i / 2] ? POLLIN : 0;
	return 0;
}

static int
pump_loop(struct session *s)
{
	struct pollfd pfd[4];	/* per flow: its source, its destination */
	struct flow *f;
	int i;

	for (;;) {
		if (signals_counts_asked())
			counts(s);
		stop_taking(s);
		for (i = 0; i < 2; i++) {
			f = &s->flow[i];
			if (!f->done && f->src->eof && !f->mv->pending(f))
				flow_finish(s, f);
		}
		if (s->flow[0].done && s->flow[1].done)
			return 0;
		set_waiting(s, f = waiting_flow(s));
		if (f != NULL) {
			if (flow_wait(s, f) == -1)
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

/* The flow from src to dst, moving as move_choose decides; done at once
 * with -d, or into a stdout closed under an earlier client. */
static void
flow_init(struct flow *f, const struct options *o, struct trace *t,
    struct end *src, struct end *dst)
{
	memset(f, 0, sizeof(*f));
	f->trace = t;
	f->src = src;
	f->dst = dst;
	f->done = src->rfd == -1 || dst->closed;
	move_choose(f, o);
}

/*
 * Pumps between ends a and b until both flows, a to b and b to a, are
 * done, or (two sockets) either side resets.  What outlives a connection
 * lives in the ends (see end_stdio).  With -v the byte counts of b, the
 * socket connected to, are reported.
 */
int
pump_run(const struct options *o, struct trace *t, struct end *a,
    struct end *b)
{
	struct session s;
	int i, rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.trace = t;
	s.quit_at = s.idle_at = -1;
	s.relay = a->kind != END_STDIO && b->kind != END_STDIO;
	flow_init(&s.flow[0], o, t, a, b);
	flow_init(&s.flow[1], o, t, b, a);
	s.flow[0].mark = '>';
	s.flow[1].mark = '<';
	s.start = clock_now();
	(void)signals_counts_asked();
	active(&s);
	/* The side connected to is the server: TARGET, or the listener. */
	trace_begin(t, b->kind != END_MESSAGE, s.relay || !o->listen);

	rc = pump_loop(&s);
	for (i = 0; i < 2; i++)
		if (s.flow[i].mv->stop != NULL)
			s.flow[i].mv->stop(&s.flow[i]);
	trace_end(t);
	if (o->verbose)
		counts(&s);
	return rc;
}

/*
 * Pumps between stdio (io, made once: with -k it serves every connection)
 * and the connected socket fd, as the end sock (zeroed, or made for an
 * earlier connection: its buffers serve again).
 */
int
pump_stdio(const struct options *o, struct trace *t, struct end *io,
    struct end *sock, int fd)
{
	if (end_socket(sock, o, t, fd, o->addr.text) == -1) {
		warn(NULL);
		return -1;
	}
	return pump_run(o, t, io, sock);
}
