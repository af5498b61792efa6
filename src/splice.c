/* splice.c: zero-copy moves between stdio and a stream socket. */
#include "config.h"

#include <sys/stat.h>
/* Linux's sendfile(2); the BSDs' has another signature and header. */
#if defined(HAVE_SENDFILE) && defined(HAVE_SYS_SENDFILE_H)
#define USE_SENDFILE	1
#include <sys/sendfile.h>
#endif

#include <errno.h>
#include <fcntl.h>
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
 * One move from in to out by the way chosen, never blocking.  Returns the
 * bytes moved, 0 at the end of in, or -1 with errno: EAGAIN when one side
 * is not ready, EINVAL when the kernel cannot do this move (then nothing
 * moved, and plain copying will do).
 */
ssize_t
move_fast(enum move how, int in, int out)
{
	ssize_t n = -1;

	errno = EINVAL;
	do {
		switch (how) {
#ifdef HAVE_SPLICE
		case MOVE_SPLICE:
			n = splice(in, NULL, out, NULL, MOVE_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			break;
#endif
#ifdef USE_SENDFILE
		case MOVE_SENDFILE:
			n = sendfile(out, in, NULL, MOVE_CHUNK);
			break;
#endif
		default:
			return -1;
		}
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == ENOSYS)
		errno = EINVAL;
	return n;
}
