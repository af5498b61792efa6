/* splice.c: zero-copy moves: stdio to a stream socket and back, and socket to socket through a pipe. */
#include "config.h"

#include "compat.h"

#include <sys/stat.h>
#ifdef USE_SENDFILE
#include <sys/sendfile.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "ucat.h"

/* Bytes asked of one call: the kernel moves what the buffers allow. */
#define MOVE_CHUNK	(4 * 1024 * 1024)
/* What stdio pipes are grown to: fewer wake-ups per byte. */
#define PIPE_SIZE	(1024 * 1024)

/*
 * How to move bytes between fd and a stream socket: splice(2) where fd is
 * a pipe, sendfile(2) from a regular file, else plain read and write.
 */
enum move
move_choose(int fd, bool from)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return MOVE_COPY;
#ifdef HAVE_SPLICE
	if (S_ISFIFO(st.st_mode)) {
#if HAVE_DECL_F_SETPIPE_SZ
		/* Best effort: the limit for others' pipes may be lower. */
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
#endif
		return MOVE_SPLICE;
	}
#endif
#ifdef USE_SENDFILE
	if (from && S_ISREG(st.st_mode))
		return MOVE_SENDFILE;
#endif
	(void)from;
	return MOVE_COPY;
}

/*
 * A pipe of ucat's own for moving between two sockets with splice(2), as
 * large as it may be; *cap is what it holds.  -1 where there is no
 * splice(2), or no pipe.
 */
int
move_pipe(int p[2], size_t *cap)
{
#ifdef HAVE_SPLICE
	int n = -1;

	if (pipe_cloexec(p) == -1)
		return -1;
#if HAVE_DECL_F_SETPIPE_SZ
	/* Best effort: a smaller pipe only means more moves. */
	n = fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
#endif
	*cap = n > 0 ? (size_t)n : 65536;
	return 0;
#else
	(void)p;
	(void)cap;
	errno = ENOSYS;
	return -1;
#endif
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

/* Claims the next stretch of in, with no fatal signal in between. */
static int
claim(int in)
{
	sigset_t fatal, old;
	off_t end;

	signals_fatal(&fatal);
	sigprocmask(SIG_BLOCK, &fatal, &old);
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
		move_unclaim();
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
move_unclaim(void)
{
#ifdef USE_SENDFILE
	if (claim_end > claim_at && lseek(claim_fd, 0, SEEK_CUR) == claim_end)
		(void)lseek(claim_fd, claim_at - claim_end, SEEK_CUR);
	claim_at = claim_end = 0;
#endif
}

/*
 * One move from in to out by the way chosen, never blocking on a pipe; a
 * sendfile(2) waits only if the socket is in blocking mode.  Returns the
 * bytes moved, 0 at the end of in, or -1 with errno: EAGAIN when one side
 * is not ready, EINVAL when the kernel cannot do this move (then nothing
 * moved, and plain copying will do).
 */
ssize_t
move_fast(enum move how, int in, int out)
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
		case MOVE_SPLICE:
			n = splice(in, NULL, out, NULL, MOVE_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			break;
#endif
#ifdef USE_SENDFILE
		case MOVE_SENDFILE:
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
	if (n == -1 && errno == EINVAL && how == MOVE_SENDFILE)
		move_unclaim();
	return n;
}
