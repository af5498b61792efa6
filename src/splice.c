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

/* What pipes are grown to: fewer wake-ups per byte. */
#define PIPE_SIZE	(1024 * 1024)

static void
grow_pipe(int fd)
{
#if HAVE_DECL_F_SETPIPE_SZ
	/* Best effort: the limit for others' pipes may be lower. */
	(void)fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
#else
	(void)fd;
#endif
}

#ifdef HAVE_SPLICE
/* Writes to fd go to its end, or its flags are unknown. */
static bool
appending(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 || (fl & O_APPEND);
}
#endif

/*
 * How to move bytes between fd and a stream socket: splice(2) where fd is
 * a pipe, sendfile(2) from a regular file, splice(2) through a pipe of
 * ucat's own into a regular file (not one opened for appending, which
 * splice refuses), else plain read and write.
 */
enum move
move_choose(int fd, bool from)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return MOVE_COPY;
#ifdef HAVE_SPLICE
	if (S_ISFIFO(st.st_mode)) {
		grow_pipe(fd);
		return MOVE_SPLICE;
	}
	if (!from && S_ISREG(st.st_mode) && !appending(fd))
		return MOVE_VIA_PIPE;
#endif
#ifdef USE_SENDFILE
	if (from && S_ISREG(st.st_mode))
		return MOVE_SENDFILE;
#endif
	(void)from;
	return MOVE_COPY;
}

/* The pipe that MOVE_VIA_PIPE goes through: -1 when there is none. */
int
move_via_open(int fd[2])
{
	if (pipe_cloexec(fd) == -1)
		return -1;
	grow_pipe(fd[1]);
	return 0;
}

/*
 * One move from in to out by the way chosen (MOVE_VIA_PIPE moves into its
 * pipe).  With wait, a blocking call: it returns once it moved something.
 * Without, it never blocks.  Returns the bytes moved, 0 at the end of in,
 * or -1 with errno: EAGAIN when one side is not ready, EINVAL when the
 * kernel cannot do this move (then nothing moved, and copying will do).
 */
ssize_t
move_fast(enum move how, int in, int out, bool wait)
{
	ssize_t n = -1;

	errno = EINVAL;
	do {
		switch (how) {
#ifdef HAVE_SPLICE
		case MOVE_SPLICE:
		case MOVE_VIA_PIPE:
			n = splice(in, NULL, out, NULL, MOVE_CHUNK,
			    SPLICE_F_MOVE | (wait ? 0 : SPLICE_F_NONBLOCK));
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

/* Copies up to len bytes from in to out with read and write. */
static ssize_t
copy_some(int in, int out, size_t len)
{
	char buf[64 * 1024];
	ssize_t n, w;
	size_t done;

	while ((n = read(in, buf, len < sizeof(buf) ? len : sizeof(buf))) == -1)
		if (errno != EINTR)
			return -1;
	for (done = 0; done < (size_t)n; done += (size_t)w)
		while ((w = write(out, buf + done, (size_t)n - done)) == -1)
			if (errno != EINTR)
				return -1;
	return n;
}

/*
 * Empties len bytes from the pipe in into out, a regular file: with
 * splice(2), or read and write where the file takes no splice.  Returns 0,
 * or -1 with errno from writing out; what was not written is lost then.
 */
int
move_drain(int in, int out, size_t len)
{
	bool copying = false;
	ssize_t n;

	while (len > 0) {
#ifdef HAVE_SPLICE
		if (!copying)
			n = splice(in, NULL, out, NULL, len, SPLICE_F_MOVE);
		else
#endif
			n = copy_some(in, out, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && !copying && (errno == EINVAL || errno == ENOSYS)) {
			copying = true;
			continue;
		}
		if (n <= 0) {
			/* Our own pipe holds len bytes: only out can fail. */
			if (n == 0)
				errno = EIO;
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}
