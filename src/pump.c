/* pump.c: the poll() loop that moves stdin to the socket and the socket to stdout. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ucat.h"

/* A whole message, and -L's newline after it. */
#define BUF_SIZE	(DGRAM_MAX + 1)
/* The send buffer a stream asks for. */
#define STREAM_SNDBUF	(4 * 1024 * 1024)
/* Seconds between tries to send a reply into a full queue. */
#define REPLY_RETRY	0.01

#if !HAVE_DECL_MSG_NOSIGNAL
#define MSG_NOSIGNAL	0	/* SIGPIPE is ignored anyway */
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC	0
#endif
#if !HAVE_DECL_POLLRDHUP
#define POLLRDHUP	0
#endif

struct buf {
	char	*data;
	size_t	 size;
	size_t	 head;		/* next byte to write out */
	size_t	 tail;		/* end of what was read in */
};

struct pump {
	const struct options *o;
	int		 sock;
	bool		 stream;	/* no message boundaries to keep */
	bool		 replying;	/* datagram listener: answer the last sender */
	struct buf	 up;		/* stdin -> socket */
	struct buf	 down;		/* socket -> stdout */
	bool		 in_eof;	/* stdin gave its last byte */
	bool		 out_closed;	/* stdout is gone for good */
	bool		 up_done;	/* nothing more goes to the socket */
	bool		 sock_eof;	/* the peer gave its last byte */
	bool		 down_done;	/* nothing more goes to stdout */
	bool		 warned_unbound;
	enum move	 up_how;	/* stdin -> socket: copy or zero-copy */
	enum move	 down_how;	/* socket -> stdout */
	bool		 up_blocked;	/* zero-copy: the socket is full */
	bool		 down_blocked;	/* zero-copy: stdout is full */
	bool		 out_regular;	/* stdout is a regular file */
	bool		 sock_waits;	/* the socket is in blocking mode */
	bool		 never_wait;	/* a blocking move came back EAGAIN */
	struct sockaddr_un peer;	/* where replies go, when replying */
	socklen_t	 peerlen;
	uint64_t	 sent;
	uint64_t	 received;
	double		 quit_at;	/* -q deadline; < 0: none */
	double		 idle_at;	/* -w deadline; < 0: none */
	double		 retry_at;	/* a full sender's queue: try again then */
};

/* Marks n bytes written; an empty buffer starts over at its beginning. */
static void
consume(struct buf *b, size_t n)
{
	b->head += n;
	if (b->head == b->tail)
		b->head = b->tail = 0;
}

/* Seconds on a clock that only goes forward. */
double
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
active(struct pump *p)
{
	if (p->o->timeout > 0)
		p->idle_at = clock_now() + p->o->timeout;
}

static bool
has_peer(const struct pump *p)
{
	return p->peerlen > sizeof(sa_family_t);
}

/*
 * The next unit to send from the up buffer: every pending byte of a stream,
 * the whole of one read() as a message, or with -L one line (its newline is
 * *used but not sent; a last line without one goes at stdin EOF).
 */
static bool
next_unit(const struct pump *p, size_t *len, size_t *used)
{
	const struct buf *b = &p->up;
	size_t n = b->tail - b->head;
	const char *nl;

	*len = *used = n;
	if (p->stream || !p->o->lines)
		return n > 0;
	if ((nl = memchr(b->data + b->head, '\n', n)) != NULL) {
		*len = (size_t)(nl - (b->data + b->head));
		*used = *len + 1;
		return true;
	}
	return p->in_eof && n > 0;
}

static bool
want_stdin(const struct pump *p)
{
	const struct buf *b = &p->up;
	size_t len, used;

	if (p->in_eof || p->up_done || (p->replying && !has_peer(p)))
		return false;
	if (p->up_how != MOVE_COPY)
		return !p->up_blocked;
	if (p->stream)
		return b->tail < b->size;
	if (!p->o->lines)
		return b->head == b->tail;
	return !next_unit(p, &len, &used);
}

static bool
want_sock(const struct pump *p)
{
	if (p->sock_eof || p->down_done)
		return false;
	if (p->down_how != MOVE_COPY)
		return !p->down_blocked;
	/* A message is received whole into an empty buffer. */
	if (!p->stream)
		return p->down.head == p->down.tail;
	return p->down.tail < p->down.size;
}

/* Something waits for room in the socket. */
static bool
want_sock_out(const struct pump *p)
{
	size_t len, used;

	if (p->up_done)
		return false;
	if (p->up_how != MOVE_COPY)
		return p->up_blocked;
	/* A reply waits for a sender to answer, and for its queue to drain. */
	if (p->replying && (!has_peer(p) || p->retry_at >= 0))
		return false;
	return next_unit(p, &len, &used);
}

/* Something waits for room in stdout. */
static bool
want_stdout(const struct pump *p)
{
	if (p->down_how != MOVE_COPY)
		return p->down_blocked && !p->down_done;
	return p->down.head < p->down.tail;
}

/* Stdin has ended and all of it went out: half-close, start -q. */
static void
finish_up(struct pump *p)
{
	p->up_done = true;
	if (p->o->type != SOCK_DGRAM && !p->o->no_shutdown && !p->o->no_stdin)
		(void)shutdown(p->sock, SHUT_WR);
	if (p->o->quit_after >= 0 && !p->o->no_stdin)
		p->quit_at = clock_now() + p->o->quit_after;
}

/* The peer is gone: what stdin still holds waits for a next one (-k). */
static void
peer_gone(struct pump *p)
{
	p->up_done = true;
}

/* Stdout is closed: stop taking data that could only be lost. */
static void
stdout_gone(struct pump *p)
{
	p->down_done = p->out_closed = true;
	p->down.head = p->down.tail = 0;
	if (p->o->type != SOCK_DGRAM)
		(void)shutdown(p->sock, SHUT_RD);
}

static int
read_stdin(struct pump *p)
{
	struct buf *b = &p->up;
	size_t want;
	ssize_t n;

	if (b->head > 0 && !p->stream) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	if (b->tail == b->size) {
		warnx("stdin: line longer than %d bytes", DGRAM_MAX);
		return -1;
	}
	want = b->size - b->tail;
	/* Without -L, one read is one message: no larger than ucat takes. */
	if (!p->stream && !p->o->lines && want > DGRAM_MAX)
		want = DGRAM_MAX;
	n = read(STDIN_FILENO, b->data + b->tail, want);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		warn("stdin");
		return -1;
	}
	if (n == 0)
		p->in_eof = true;
	b->tail += (size_t)n;
	active(p);
	return 0;
}

static int
write_sock(struct pump *p)
{
	struct buf *b = &p->up;
	char peer[ADDR_TEXT_MAX];
	size_t len, used;
	ssize_t n;

	if (!next_unit(p, &len, &used))
		return 0;
	if (p->replying)
		n = sendto(p->sock, b->data + b->head, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&p->peer,
		    p->peerlen);
	else
		n = send(p->sock, b->data + b->head, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1) {
		/* POLLOUT of an unconnected socket says nothing of the
		 * receiver's queue: look again a little later. */
		if (errno == EAGAIN && p->replying)
			p->retry_at = clock_now() + REPLY_RETRY;
		switch (errno) {
		case EINTR:
		case EAGAIN:
			return 0;
		case EPIPE:
		case ECONNRESET:
			peer_gone(p);
			return 0;
		}
		if (p->replying && (errno == ECONNREFUSED || errno == ENOENT)) {
			/* That sender left; wait for the next one. */
			warn("reply to %s", addr_format(&p->peer, p->peerlen,
			    peer, sizeof(peer)));
			p->peerlen = 0;
			consume(b, used);
			return 0;
		}
		if (errno == EMSGSIZE)
			warnx("send to %s: message of %zu bytes is too long",
			    p->o->addr.text, len);
		else
			warn("send to %s", p->o->addr.text);
		return -1;
	}
	p->sent += (uint64_t)n;
	consume(b, p->stream ? (size_t)n : used);
	active(p);
	return 0;
}

static void
note_sender(struct pump *p, const struct sockaddr_un *from, socklen_t len)
{
	char text[ADDR_TEXT_MAX];

	if (len <= sizeof(sa_family_t)) {
		if (!p->warned_unbound)
			warnx("%s: a sender has no address; it cannot be "
			    "answered", p->o->addr.text);
		p->warned_unbound = true;
		return;
	}
	if (p->o->verbose && (len != p->peerlen ||
	    memcmp(from, &p->peer, len) != 0))
		warnx("message from %s", addr_format(from, len, text,
		    sizeof(text)));
	memcpy(&p->peer, from, len);
	p->peerlen = len;
}

/* Descriptors a peer passed (SCM_RIGHTS) are not ucat's to keep. */
static void
drop_rights(struct msghdr *mh)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	if (mh->msg_controllen == 0)
		return;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

/*
 * A seqpacket EOF and an empty message both read as 0 bytes.  With
 * SO_PASSCRED every message comes with credentials and the EOF with none;
 * elsewhere a 0 read after the peer's shutdown is taken as the EOF.
 */
static bool
seqpacket_eof(const struct msghdr *mh, short revents)
{
#if HAVE_DECL_SO_PASSCRED && defined(HAVE_STRUCT_UCRED)
	(void)revents;
	return mh->msg_controllen == 0;
#else
	(void)mh;
	return POLLRDHUP == 0 || (revents & (POLLRDHUP | POLLHUP));
#endif
}

static int
read_sock(struct pump *p, short revents)
{
	struct buf *b = &p->down;
	struct sockaddr_un from;
	struct msghdr mh;
	struct iovec iov;
#if HAVE_DECL_SO_PASSCRED && defined(HAVE_STRUCT_UCRED)
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
#endif
	size_t kept;
	ssize_t n;

	if (p->stream) {
		n = recv(p->sock, b->data + b->tail, b->size - b->tail,
		    MSG_DONTWAIT);
	} else {
		/* One message at a time, with room for -L's newline. */
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = b->data;
		iov.iov_len = b->size - 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (p->replying) {
			mh.msg_name = &from;
			mh.msg_namelen = sizeof(from);
		}
#if HAVE_DECL_SO_PASSCRED && defined(HAVE_STRUCT_UCRED)
		if (p->o->type == SOCK_SEQPACKET) {
			mh.msg_control = &ctl;
			mh.msg_controllen = sizeof(ctl);
		}
#endif
		n = recvmsg(p->sock, &mh, MSG_DONTWAIT | MSG_TRUNC |
		    MSG_CMSG_CLOEXEC);
		drop_rights(&mh);
	}
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		if (errno == ECONNRESET) {
			p->sock_eof = true;
			return 0;
		}
		warn("receive from %s", p->o->addr.text);
		return -1;
	}
	if (p->stream) {
		if (n == 0)
			p->sock_eof = true;
		b->tail += (size_t)n;
		p->received += (uint64_t)n;
		active(p);
		return 0;
	}
	if (n == 0 && p->o->type == SOCK_SEQPACKET && seqpacket_eof(&mh,
	    revents)) {
		p->sock_eof = true;
		return 0;
	}
	kept = (size_t)n < iov.iov_len ? (size_t)n : iov.iov_len;
	if (mh.msg_flags & MSG_TRUNC)
		warnx("%s: message of %zd bytes truncated to %zu", 
		    p->o->addr.text, n, kept);
	if (p->replying)
		note_sender(p, &from, mh.msg_namelen);
	b->head = 0;
	b->tail = kept;
	if (p->o->lines)
		b->data[b->tail++] = '\n';
	p->received += kept;
	active(p);
	return 0;
}

static int
write_stdout(struct pump *p)
{
	struct buf *b = &p->down;
	ssize_t n;

	n = write(STDOUT_FILENO, b->data + b->head, b->tail - b->head);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		if (errno == EPIPE) {
			stdout_gone(p);
			return 0;
		}
		warn("stdout");
		return -1;
	}
	consume(b, (size_t)n);
	active(p);
	return 0;
}

/*
 * What a zero-copy move knows as it starts, which tells what an EAGAIN
 * means: the source was seen ready, so the destination is full; the
 * destination was seen ready, so the source is empty; or the move was
 * free to block, and something made it non-blocking anyway.
 */
enum seen { SRC_READY, DST_READY, MAY_WAIT };

/* How many sendfile(2) calls may follow each other before a poll. */
#define FILE_ROUNDS	16

/*
 * Zero-copy stdin -> socket; falls back to copying where it cannot.  A
 * regular file is always ready, so sendfile goes on until the socket is
 * full or the file ends (within FILE_ROUNDS, so that the other way and
 * the deadlines are looked at now and then).
 */
static int
move_up(struct pump *p, enum seen seen)
{
	bool file = p->up_how == MOVE_SENDFILE;
	int rounds = 0;
	ssize_t n;

	do {
		n = move_fast(p->up_how, STDIN_FILENO, p->sock);
		if (n <= 0)
			break;
		p->sent += (uint64_t)n;
		active(p);
	} while (file && seen != MAY_WAIT && ++rounds < FILE_ROUNDS);
	if (n > 0)
		return 0;
	if (n == 0) {
		p->in_eof = true;
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		/* A file has more: only the socket can be full. */
		p->up_blocked = seen == SRC_READY || file;
		p->never_wait |= seen == MAY_WAIT;
		return 0;
	case EPIPE:
	case ECONNRESET:
		peer_gone(p);
		return 0;
	case EINVAL:
		p->up_how = MOVE_COPY;
		return 0;
	}
	warn("send to %s", p->o->addr.text);
	return -1;
}

/* Zero-copy socket -> stdout; falls back to copying where it cannot. */
static int
move_down(struct pump *p, enum seen seen)
{
	ssize_t n = move_fast(p->down_how, p->sock, STDOUT_FILENO);

	if (n > 0) {
		p->received += (uint64_t)n;
		active(p);
		return 0;
	}
	if (n == 0) {
		p->sock_eof = true;
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		p->down_blocked = seen == SRC_READY;
		return 0;
	case EPIPE:
		stdout_gone(p);
		return 0;
	case ECONNRESET:
		p->sock_eof = true;
		return 0;
	case EINVAL:
		p->down_how = MOVE_COPY;
		return 0;
	}
	warn("receive from %s", p->o->addr.text);
	return -1;
}

/*
 * Only stdin -> socket is left, from a regular file, and no deadline runs:
 * sendfile(2) may then wait for room in the socket itself, with no poll(2)
 * between moves.  It ends with EPIPE if the peer goes.  (Never a splice
 * from a pipe: an idle stdin would hide the peer's hang-up, and the pipe's
 * lock would be held while it waits.)
 */
static bool
may_wait(const struct pump *p)
{
	return p->down_done && !p->up_done && !p->in_eof &&
	    p->up_how == MOVE_SENDFILE && !p->never_wait && p->quit_at < 0 &&
	    p->idle_at < 0 && p->retry_at < 0;
}

/* Puts the socket in blocking mode for zero-copy moves that wait, or back. */
static void
set_waiting(struct pump *p, bool on)
{
	int fl;

	if (p->sock_waits == on || (fl = fcntl(p->sock, F_GETFL)) == -1)
		return;
	fl = on ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	if (fcntl(p->sock, F_SETFL, fl) != -1)
		p->sock_waits = on;
}

/* Milliseconds until the nearest deadline, -1 for none. */
static int
poll_timeout(const struct pump *p)
{
	double next = -1, left;

	if (p->quit_at >= 0)
		next = p->quit_at;
	if (p->idle_at >= 0 && (next < 0 || p->idle_at < next))
		next = p->idle_at;
	if (p->retry_at >= 0 && (next < 0 || p->retry_at < next))
		next = p->retry_at;
	if (next < 0)
		return -1;
	left = (next - clock_now()) * 1000;
	if (left <= 0)
		return 0;
	return left > 86400000 ? 86400000 : (int)left + 1;
}

static int
pump_loop(struct pump *p)
{
	enum { P_IN, P_SOCK, P_OUT };
	struct pollfd pfd[3];
	size_t len, used;
	bool reading, writing, watching, fast_up, fast_down;
	short ev;
	double t;

	for (;;) {
		if (p->in_eof && !p->up_done && (p->up_how != MOVE_COPY ||
		    !next_unit(p, &len, &used)))
			finish_up(p);
		if (p->sock_eof && p->down.head == p->down.tail)
			p->down_done = true;
		if (p->up_done && p->down_done)
			return 0;

		if (may_wait(p)) {
			set_waiting(p, true);
			p->up_blocked = false;
			if (move_up(p, MAY_WAIT) == -1)
				return -1;
			continue;
		}
		set_waiting(p, false);
		fast_up = p->up_how != MOVE_COPY;
		fast_down = p->down_how != MOVE_COPY;
		reading = want_sock(p);
		writing = want_sock_out(p);
		/* After a half-close, only POLLHUP says the peer is gone. */
		watching = (p->sock_eof || p->down_done) && !p->up_done;
		ev = (reading ? POLLIN | POLLRDHUP : 0) |
		    (writing ? POLLOUT : 0);
		pfd[P_IN].fd = want_stdin(p) ? STDIN_FILENO : -1;
		pfd[P_IN].events = POLLIN;
		pfd[P_SOCK].fd = ev || watching ? p->sock : -1;
		pfd[P_SOCK].events = ev;
		pfd[P_OUT].fd = want_stdout(p) ? STDOUT_FILENO : -1;
		pfd[P_OUT].events = POLLOUT;

		if (poll(pfd, 3, poll_timeout(p)) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return -1;
		}
		t = clock_now();
		if (p->retry_at >= 0 && t >= p->retry_at)
			p->retry_at = -1;
		if (p->quit_at >= 0 && t >= p->quit_at) {
			/* -q: take nothing more; what was read still goes out. */
			p->sock_eof = p->up_done = true;
			p->quit_at = -1;
			continue;
		}
		if (p->idle_at >= 0 && t >= p->idle_at) {
			warnx("%s: idle for %g seconds, giving up",
			    p->o->addr.text, p->o->timeout);
			return -1;
		}

		/* Zero-copy moves wait on one end at a time: "blocked" is
		 * set when the far end was full, cleared when it drains. */
		if (pfd[P_IN].revents &&
		    (fast_up ? move_up(p, SRC_READY) : read_stdin(p)) == -1)
			return -1;
		if (reading && (pfd[P_SOCK].revents &
		    (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) &&
		    (fast_down ? move_down(p, SRC_READY) :
		    read_sock(p, pfd[P_SOCK].revents)) == -1)
			return -1;
		/* What was read goes on at once where that cannot block:
		 * sends never wait, nor do writes to a regular file. */
		if (!fast_up && pfd[P_IN].revents && want_sock_out(p) &&
		    write_sock(p) == -1)
			return -1;
		if (!fast_down && p->out_regular && want_stdout(p) &&
		    write_stdout(p) == -1)
			return -1;
		/* A full end that drains moves at once: the other end was
		 * ready, and nothing else takes from it. */
		if (writing && (pfd[P_SOCK].revents &
		    (POLLOUT | POLLHUP | POLLERR))) {
			if (fast_up) {
				p->up_blocked = false;
				if (move_up(p, DST_READY) == -1)
					return -1;
			} else if (write_sock(p) == -1)
				return -1;
		}
		if (watching && (pfd[P_SOCK].revents & (POLLHUP | POLLERR)))
			peer_gone(p);
		if (pfd[P_OUT].revents) {
			if (fast_down) {
				p->down_blocked = false;
				if (move_down(p, DST_READY) == -1)
					return -1;
			} else if (write_stdout(p) == -1)
				return -1;
		}
	}
}

/*
 * Pumps between stdio and the connected socket sock until both ways are
 * done.  Stdin and stdout outlive a connection: with -k the next client
 * gets what stdin still holds, and a closed stdout stays closed.
 */
int
pump_run(const struct options *o, int sock)
{
	static char upbuf[BUF_SIZE], downbuf[BUF_SIZE];
	static struct pump p;
	struct stat st;
	int rc, on = 1, sndbuf = STREAM_SNDBUF;

	if (p.o == NULL) {
		p.o = o;
		p.up.data = upbuf;
		p.up.size = sizeof(upbuf);
		p.down.data = downbuf;
		p.down.size = sizeof(downbuf);
		p.in_eof = o->no_stdin;
		p.stream = o->type == SOCK_STREAM;
		p.replying = o->listen && o->type == SOCK_DGRAM;
		p.out_regular = fstat(STDOUT_FILENO, &st) == 0 &&
		    S_ISREG(st.st_mode);
		if (p.stream && !o->no_splice) {
			if (!o->no_stdin)
				p.up_how = move_choose(STDIN_FILENO, true);
			p.down_how = move_choose(STDOUT_FILENO, false);
		}
	}
#if HAVE_DECL_SO_PASSCRED && defined(HAVE_STRUCT_UCRED)
	if (o->type == SOCK_SEQPACKET)
		(void)setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
#endif
	/* Fewer, larger moves; the kernel caps it at net.core.wmem_max. */
	if (p.stream && !o->no_stdin)
		(void)setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf));
	/* splice(2) and sendfile(2) take no MSG_DONTWAIT. */
	if (p.up_how != MOVE_COPY || p.down_how != MOVE_COPY)
		(void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	p.sock = sock;
	p.up_done = p.sock_eof = p.warned_unbound = false;
	p.up_blocked = p.down_blocked = p.sock_waits = p.never_wait = false;
	p.down_done = p.out_closed;
	p.down.head = p.down.tail = 0;
	p.peerlen = 0;
	p.sent = p.received = 0;
	p.quit_at = p.idle_at = p.retry_at = -1;
	active(&p);

	rc = pump_loop(&p);
	if (p.up_how == MOVE_SENDFILE)
		move_unclaim(STDIN_FILENO);
	if (o->verbose)
		warnx("sent %" PRIu64 " bytes, received %" PRIu64 " bytes",
		    p.sent, p.received);
	return rc;
}
