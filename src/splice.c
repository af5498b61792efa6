/* splice.c: the moves with no copy: stdio to a stream socket and back (splice, sendfile), and socket to socket through a pipe. */
#include "config.h"

#include "compat.h"

#include <sys/stat.h>
#ifdef USE_SENDFILE
#include <sys/sendfile.h>
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "ucat.h"

/* Bytes asked of one call: the kernel moves what the buffers allow. */
#define MOVE_CHUNK	(4 * 1024 * 1024)
/* What stdio pipes are grown to: fewer wake-ups per byte. */
#define PIPE_SIZE	(1024 * 1024)
/* How many sendfile(2) calls may follow each other before a poll. */
#define FILE_ROUNDS	16

/*
 * What a zero-copy move knows as it starts, which tells what an EAGAIN
 * means: the source was seen ready, so the destination is full; the
 * destination was seen ready, so the source is empty; or the move was
 * free to block, and something made it non-blocking anyway.
 */
enum seen { SRC_READY, DST_READY, MAY_WAIT };

/*
 * What zero-copy move a stdio descriptor takes toward a stream socket
 * (from: it is read): splice(2) where it is a pipe (grown, for fewer
 * wake-ups), sendfile(2) from a regular file; else none.
 */
static enum fast
splice_kind(int fd, bool from)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return FAST_NONE;
#ifdef HAVE_SPLICE
	if (S_ISFIFO(st.st_mode)) {
#if HAVE_DECL_F_SETPIPE_SZ
		/* Best effort: the limit for others' pipes may be lower. */
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
#endif
		return FAST_SPLICE;
	}
#endif
#ifdef USE_SENDFILE
	if (from && S_ISREG(st.st_mode))
		return FAST_SENDFILE;
#endif
	(void)from;
	return FAST_NONE;
}

#ifdef USE_SENDFILE
/*
 * sendfile(2) reads at an offset of its own and moves the file's shared
 * offset without the lock that read(2) takes, so two processes reading
 * one open file (as in "{ ucat a & ucat b; } < file") would both send the
 * same bytes.  So ucat first claims each stretch of the file by moving the
 * shared offset past it with lseek(2), which takes that lock, and sends
 * from the stretch; what it does not send it hands back at the end, and
 * from the handler of a fatal signal, which is why these are global.
 */
static int claim_fd = -1;	/* the file claimed from */
static off_t claim_at;		/* the next byte of ours to send */
static off_t claim_end;		/* the end of the stretch claimed */

/* Claims the next stretch of in, with no signal in between. */
static int
claim(int in)
{
	sigset_t all, old;
	off_t end;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	end = lseek(in, MOVE_CHUNK, SEEK_CUR);
	if (end != -1 && end >= MOVE_CHUNK) {
		claim_fd = in;
		claim_at = end - MOVE_CHUNK;
		claim_end = end;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (end == -1)
		return -1;
	/* A file whose offset does not move cannot be claimed. */
	if (end < MOVE_CHUNK) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static ssize_t
send_file(int in, int out)
{
	ssize_t n;

	if (claim_at == claim_end && claim(in) == -1)
		return -1;
	n = sendfile(out, in, &claim_at, (size_t)(claim_end - claim_at));
	if (n == 0)
		splice_unclaim();
	return n;
}
#endif

/*
 * Hands back to the file claimed from the part of the stretch claimed and not
 * sent, if nobody has claimed beyond it since (then it is theirs to go
 * on from, and what is left of ours is lost, as read(2) would lose what
 * it read and could not send; one who claims between the look and the
 * seek back cannot be told apart).  Safe in a signal handler.
 */
void
splice_unclaim(void)
{
#ifdef USE_SENDFILE
	if (claim_end > claim_at && lseek(claim_fd, 0, SEEK_CUR) == claim_end)
		(void)lseek(claim_fd, claim_at - claim_end, SEEK_CUR);
	claim_at = claim_end = 0;
#endif
}

/*
 * One move from in to out, never blocking on a pipe; a sendfile(2) waits
 * only if the socket is in blocking mode.  Returns the bytes moved, 0 at
 * the end of in, or -1 with errno: EAGAIN when one side is not ready,
 * EINVAL when the kernel cannot do this move (then nothing moved, and
 * copying will do).
 */
static ssize_t
move(enum fast how, int in, int out)
{
	ssize_t n = -1;

	/* Without splice and sendfile, every move is a copy. */
	(void)in;
	(void)out;
	errno = EINVAL;
	do {
		switch (how) {
#ifdef HAVE_SPLICE
		/* A splice that waited for the socket would hold the pipe's
		 * lock, and stall whoever reads or writes the other end. */
		case FAST_SPLICE:
			n = splice(in, NULL, out, NULL, MOVE_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			break;
#endif
#ifdef USE_SENDFILE
		case FAST_SENDFILE:
			n = send_file(in, out);
			break;
#endif
		default:
			return -1;
		}
	} while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == ENOSYS || errno == ESPIPE ||
	    errno == EOVERFLOW))
		errno = EINVAL;
	/* Copying goes on from where the file's offset says. */
	if (n == -1 && errno == EINVAL && how == FAST_SENDFILE)
		splice_unclaim();
	return n;
}

/* Zero-copy is not for these descriptors: the flow copies, now and (for
 * stdio, which outlives the connection) from now on. */
static enum io
fall_back(struct flow *f)
{
	if (f->pipe[0] != -1) {
		close(f->pipe[0]);
		close(f->pipe[1]);
		f->pipe[0] = f->pipe[1] = -1;
	}
	f->src->rfast = f->dst->wfast = FAST_NONE;
	f->mv = f->fallback;
	return IO_AGAIN;
}

/*
 * Stdio and a stream socket, with no copy: each move goes from source to
 * destination at once (splice(2) from or into a pipe, sendfile(2) from a
 * file), so nothing is ever pending; a full destination blocks the flow
 * until poll says it has room.
 */

static bool
fast_input(const struct flow *f)
{
	return !f->blocked;
}

static bool
fast_room(const struct flow *f)
{
	return f->blocked;
}

static bool
fast_pending(const struct flow *f)
{
	(void)f;
	return false;
}

/*
 * Moves from source to destination.  A regular file is always ready, so
 * sendfile goes on until the socket is full or the file ends (within
 * FILE_ROUNDS, so that the other flow and the deadlines are looked at now
 * and then).  An EAGAIN of a move that was free to wait is IO_AGAIN: the
 * flow must not wait in its moves any more.
 */
static enum io
fast_move(struct flow *f, enum seen seen)
{
	enum fast how = f->src->kind == END_STDIO ? f->src->rfast :
	    f->dst->wfast;
	bool file = how == FAST_SENDFILE, moved = false;
	int rounds = 0;
	ssize_t n;

	do {
		if ((n = move(how, f->src->rfd, f->dst->wfd)) <= 0)
			break;
		f->src->nread += (uint64_t)n;
		f->dst->nwritten += (uint64_t)n;
		moved = true;
	} while (file && seen != MAY_WAIT && ++rounds < FILE_ROUNDS);
	if (n >= 0) {
		f->src->eof |= n == 0;
		return moved ? IO_DONE : IO_EOF;
	}
	switch (errno) {
	case EAGAIN:
		/* A file has more: only the socket can be full. */
		f->blocked = seen == SRC_READY || file;
		return moved ? IO_DONE : IO_AGAIN;
	case ECONNRESET:
		if (f->src->kind != END_STDIO) {
			f->src->reset = true;
			return IO_EOF;
		}
		/* FALLTHROUGH */
	case EPIPE:
		return IO_GONE;
	case EINVAL:
		return fall_back(f);
	}
	end_warn(f->src->kind == END_STDIO ? f->dst : f->src,
	    f->src->kind != END_STDIO);
	return IO_FAIL;
}

static enum io
fast_take(struct flow *f, short revents)
{
	(void)revents;
	return fast_move(f, SRC_READY);
}

static enum io
fast_give(struct flow *f)
{
	f->blocked = false;
	return fast_move(f, DST_READY);
}

/*
 * The last flow left, with no deadline: sendfile(2) from a regular file
 * waits for room by itself.  A splice never does (it would hold the
 * pipe's lock, and an idle stdin would hide the peer's hang-up): it
 * says it would not.
 */
static enum io
fast_wait(struct flow *f)
{
	if (f->src->kind != END_STDIO || f->src->rfast != FAST_SENDFILE)
		return IO_AGAIN;
	f->blocked = false;
	return fast_move(f, MAY_WAIT);
}

/* What was claimed of a file and not sent is the file's again. */
static void
fast_stop(struct flow *f)
{
	(void)f;
	splice_unclaim();
}

/* In the order of struct mover: input, room, pending, eager, hot, take,
 * give, wait, stop. */
static const struct mover fast_mover = { fast_input, fast_room,
    fast_pending, NULL, NULL, fast_take, fast_give, fast_wait, fast_stop };

/*
 * Stream socket to stream socket, through a pipe of the flow's own: in
 * from the source as the pipe has room, out to the destination as it has
 * room.
 */

static bool
pipe_input(const struct flow *f)
{
	return f->piped < f->pipecap && !f->pipefull;
}

static bool
pipe_pending(const struct flow *f)
{
	return f->piped > 0;
}

/* What came in goes out at once: a send never waits. */
static bool
pipe_eager(const struct flow *f)
{
	(void)f;
	return true;
}

/* Socket to the pipe.  A pipe that takes nothing although the socket was
 * ready has run out of slots: it waits for the next drain. */
static enum io
pipe_take(struct flow *f, short revents)
{
	ssize_t n = move(FAST_SPLICE, f->src->rfd, f->pipe[1]);

	(void)revents;
	if (n >= 0) {
		f->piped += (size_t)n;
		f->src->nread += (uint64_t)n;
		return n > 0 ? IO_DONE : IO_EOF;
	}
	switch (errno) {
	case EAGAIN:
		f->pipefull = f->piped > 0;
		return IO_AGAIN;
	case ECONNRESET:
		f->src->reset = true;
		return IO_EOF;
	case EINVAL:
		/* Copying takes over once the pipe is empty. */
		if (f->piped == 0)
			return fall_back(f);
		f->pipefull = true;
		return IO_AGAIN;
	}
	end_warn(f->src, true);
	return IO_FAIL;
}

/* The pipe to the socket. */
static enum io
pipe_give(struct flow *f)
{
	ssize_t n = move(FAST_SPLICE, f->pipe[0], f->dst->wfd);

	if (n > 0) {
		f->piped -= (size_t)n;
		f->pipefull = false;
		f->dst->nwritten += (uint64_t)n;
		return IO_DONE;
	}
	switch (n == 0 ? EAGAIN : errno) {
	case EAGAIN:
		return IO_AGAIN;
	case EPIPE:
	case ECONNRESET:
		return IO_GONE;
	}
	end_warn(f->dst, false);
	return IO_FAIL;
}

static void
pipe_stop(struct flow *f)
{
	if (f->pipe[0] == -1)
		return;
	close(f->pipe[0]);
	close(f->pipe[1]);
	f->pipe[0] = f->pipe[1] = -1;
}

static const struct mover pipe_mover = { pipe_input, pipe_pending,
    pipe_pending, pipe_eager, NULL, pipe_take, pipe_give, NULL, pipe_stop };

/* The flow's pipe, as large as it may be.  -1 where there is no
 * splice(2), or no pipe. */
static int
pipe_open(struct flow *f)
{
#ifdef HAVE_SPLICE
	int n = -1;

	if (pipe_cloexec(f->pipe) == -1)
		return -1;
#if HAVE_DECL_F_SETPIPE_SZ
	/* Best effort: a smaller pipe only means more moves. */
	n = fcntl(f->pipe[1], F_SETPIPE_SZ, PIPE_SIZE);
#endif
	f->pipecap = n > 0 ? (size_t)n : 65536;
	return 0;
#else
	(void)f;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * The zero-copy move for f, or NULL where there is none: a pipe of its
 * own between two stream sockets, or what the stdio descriptor takes
 * (splice_kind, looked at once) between it and a stream socket.  splice(2) and
 * sendfile(2) take no MSG_DONTWAIT: the sockets are made non-blocking.
 */
const struct mover *
splice_choose(struct flow *f)
{
	const struct mover *m = NULL;
	enum fast how = FAST_NONE;

	f->pipe[0] = f->pipe[1] = -1;
	if (f->src->kind == END_STREAM && f->dst->kind == END_STREAM)
		m = pipe_open(f) == 0 ? &pipe_mover : NULL;
	else if (f->src->kind == END_STDIO && f->dst->kind == END_STREAM &&
	    !f->src->program) {
		if (f->src->rfast == FAST_UNKNOWN)
			f->src->rfast = splice_kind(f->src->rfd, true);
		how = f->src->rfast;
	} else if (f->src->kind == END_STREAM && f->dst->kind == END_STDIO &&
	    !f->dst->program) {
		if (f->dst->wfast == FAST_UNKNOWN)
			f->dst->wfast = splice_kind(f->dst->wfd, false);
		how = f->dst->wfast;
	}
	if (how != FAST_NONE)
		m = &fast_mover;
	if (m == NULL)
		return NULL;
	if (f->src->kind != END_STDIO)
		end_nonblock(f->src, true);
	if (f->dst->kind != END_STDIO)
		end_nonblock(f->dst, true);
	return m;
}

/* For ucat -V: the moves with no copy this build makes. */
const char *
splice_features(void)
{
	return ""
#ifdef HAVE_SPLICE
	    " splice"
#endif
#ifdef USE_SENDFILE
	    " sendfile"
#endif
	    ;
}
