/*
 * fault.c: an LD_PRELOAD library for the test suite that makes the calls
 * ucat moves bytes with fail the ways the kernel may make them fail:
 * short counts, EINTR, EAGAIN and ECONNABORTED, and poll(2) waking for
 * nothing.  tests/inject.bats runs ucat under it for many seeds and
 * compares what arrives with what was sent.
 *
 *   UCAT_FAULT_SEED	the seed (nothing is injected without it)
 *   UCAT_FAULT_RATE	percent of calls that get a fault (default 25)
 *   UCAT_FAULT_REPORT	a file that gets a line "faults N" at exit
 *
 * Only what the kernel could do is done: a count is cut only where the
 * bytes form a stream (a pipe, a file, a stream socket), never a message;
 * EAGAIN only where the call may not wait (O_NONBLOCK, MSG_DONTWAIT,
 * SPLICE_F_NONBLOCK); a spurious wake-up only for a descriptor that does
 * not block.  Standard error is left alone, so that what ucat says is
 * whole.  The library takes itself (LD_PRELOAD and these variables) out
 * of the environment at start, so programs ucat runs are not touched;
 * children ucat forks go on with their parent's sequence.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IOV_MAX_CUT	64

enum fault { NONE, CUT, INTR, AGAIN };
/* What a cut may apply to: any count, none, or bytes read or written
 * (not a message, nor a small write to a pipe). */
enum { CUT_ALWAYS, CUT_NEVER, CUT_READ, CUT_WRITE };

static bool on;
static unsigned rate = 25;
static unsigned long long state;
static unsigned long faults;
static int report = -1;

/* The next definition of NAME after this library's: libc's, looked up at
 * start (not first in a signal handler). */
#define REAL(name)	static __typeof__(name) *real_##name
#define FIND(name)	(real_##name = (__typeof__(name) *) \
	    dlsym(RTLD_NEXT, #name))

REAL(read);
REAL(write);
REAL(readv);
REAL(writev);
REAL(recv);
REAL(send);
REAL(recvfrom);
REAL(sendto);
REAL(recvmsg);
REAL(sendmsg);
REAL(splice);
REAL(sendfile);
REAL(accept);
REAL(accept4);
REAL(connect);
REAL(poll);
#ifdef __GLIBC__
REAL(recvmmsg);
REAL(sendmmsg);
#endif

/* xorshift64*: the same seed gives the same decisions. */
static unsigned
rnd(unsigned n)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (unsigned)((state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static void __attribute__((constructor))
start(void)
{
	const char *seed = getenv("UCAT_FAULT_SEED");
	const char *r = getenv("UCAT_FAULT_RATE");
	const char *file = getenv("UCAT_FAULT_REPORT");

	FIND(read); FIND(write); FIND(readv); FIND(writev);
	FIND(recv); FIND(send); FIND(recvfrom); FIND(sendto);
	FIND(recvmsg); FIND(sendmsg); FIND(splice); FIND(sendfile);
	FIND(accept); FIND(accept4); FIND(connect); FIND(poll);
#ifdef __GLIBC__
	FIND(recvmmsg); FIND(sendmmsg);
#endif
	if (seed == NULL)
		return;
	state = strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	if (r != NULL)
		rate = (unsigned)atoi(r);
	/* Opened now: a confined ucat may open nothing at exit. */
	if (file != NULL)
		report = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
	unsetenv("LD_PRELOAD");
	unsetenv("UCAT_FAULT_SEED");
	unsetenv("UCAT_FAULT_RATE");
	unsetenv("UCAT_FAULT_REPORT");
	on = true;
}

static void __attribute__((destructor))
stop(void)
{
	char line[64];
	int n;

	if (!on || report == -1)
		return;
	n = snprintf(line, sizeof(line), "faults %lu\n", faults);
	on = false;
	(void)!write(report, line, (size_t)n);
}

/* The fd may not block: O_NONBLOCK, or the call's own flag. */
enum wait { BLOCKS, MAY_NOT_WAIT, ASK };

static bool
nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl != -1 && (fl & O_NONBLOCK);
}

/* Bytes with no boundaries: anything but a datagram or seqpacket socket;
 * and a pipe keeps a write of PIPE_BUF bytes or less whole. */
static bool
cuttable(int fd, size_t n, bool writing)
{
	struct stat st;
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
		return type == SOCK_STREAM;
	if (writing && n <= PIPE_BUF && fstat(fd, &st) == 0 &&
	    S_ISFIFO(st.st_mode))
		return false;
	return true;
}

/*
 * Whether this call gets a fault, and which: decided first, so that the
 * probes (which may change errno) run only then.  EINTR only where the
 * call could wait (a signal can cut only a wait), EAGAIN only where it may
 * not.
 */
static enum fault
pick(int fd, int cut_kind, size_t n, enum wait w)
{
	enum fault f;
	int saved = errno;
	bool no_wait;

	if (!on || fd == STDERR_FILENO || rnd(100) >= rate)
		return NONE;
	no_wait = w == MAY_NOT_WAIT || (w == ASK && nonblocking(fd));
	switch (rnd(3)) {
	case 0:
		if (cut_kind == CUT_ALWAYS || (cut_kind != CUT_NEVER &&
		    cuttable(fd, n, cut_kind == CUT_WRITE))) {
			f = CUT;
			break;
		}
		/* FALLTHROUGH */
	default:
		f = no_wait ? AGAIN : INTR;
	}
	errno = saved;
	faults++;
	return f;
}

static size_t
cut(size_t n)
{
	return n > 1 ? 1 + rnd((unsigned)(n - 1 > 0x7fffffff ? 0x7fffffff :
	    n - 1)) : n;
}

static ssize_t
fail(enum fault f)
{
	errno = f == AGAIN ? EAGAIN : EINTR;
	return -1;
}

/* A copy of iov that holds fewer bytes; cnt is set to its length. */
static const struct iovec *
cut_iov(const struct iovec *iov, int *cnt, struct iovec *out)
{
	size_t total = 0, want;
	int i, n = 0;

	if (*cnt > IOV_MAX_CUT)
		return iov;
	for (i = 0; i < *cnt; i++)
		total += iov[i].iov_len;
	want = cut(total);
	for (i = 0; i < *cnt && want > 0; i++) {
		out[n] = iov[i];
		if (out[n].iov_len > want)
			out[n].iov_len = want;
		want -= out[n].iov_len;
		n++;
	}
	if (n == 0)
		return iov;
	*cnt = n;
	return out;
}


/* A socket call's flags say whether it may wait. */
#define FLAGS_WAIT(flags) ((flags) & MSG_DONTWAIT ? MAY_NOT_WAIT : ASK)

ssize_t
read(int fd, void *buf, size_t n)
{
	enum fault f = pick(fd, CUT_READ, n, ASK);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_read(fd, buf, f == CUT ? cut(n) : n);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	enum fault f = pick(fd, CUT_WRITE, n, ASK);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_write(fd, buf, f == CUT ? cut(n) : n);
}

static size_t
iov_total(const struct iovec *iov, int cnt)
{
	size_t total = 0;
	int i;

	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	enum fault f = pick(fd, CUT_READ, iov_total(iov, cnt), ASK);
	struct iovec copy[IOV_MAX_CUT];

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f == CUT)
		iov = cut_iov(iov, &cnt, copy);
	return real_readv(fd, iov, cnt);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	enum fault f = pick(fd, CUT_WRITE, iov_total(iov, cnt), ASK);
	struct iovec copy[IOV_MAX_CUT];

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f == CUT)
		iov = cut_iov(iov, &cnt, copy);
	return real_writev(fd, iov, cnt);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	enum fault f = pick(fd, CUT_READ, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_recv(fd, buf, f == CUT ? cut(n) : n, flags);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	enum fault f = pick(fd, CUT_WRITE, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_send(fd, buf, f == CUT ? cut(n) : n, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
    socklen_t *len)
{
	enum fault f = pick(fd, CUT_READ, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_recvfrom(fd, buf, f == CUT ? cut(n) : n, flags, from, len);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *to, socklen_t len)
{
	enum fault f = pick(fd, CUT_WRITE, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_sendto(fd, buf, f == CUT ? cut(n) : n, flags, to, len);
}

ssize_t
recvmsg(int fd, struct msghdr *mh, int flags)
{
	enum fault f = pick(fd, CUT_READ, iov_total(mh->msg_iov,
	    (int)mh->msg_iovlen), FLAGS_WAIT(flags));
	struct iovec copy[IOV_MAX_CUT];
	struct msghdr m;
	ssize_t n;
	int cnt;

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f != CUT)
		return real_recvmsg(fd, mh, flags);
	m = *mh;
	cnt = (int)m.msg_iovlen;
	m.msg_iov = (struct iovec *)cut_iov(mh->msg_iov, &cnt, copy);
	m.msg_iovlen = (size_t)cnt;
	n = real_recvmsg(fd, &m, flags);
	mh->msg_namelen = m.msg_namelen;
	mh->msg_controllen = m.msg_controllen;
	mh->msg_flags = m.msg_flags;
	return n;
}

ssize_t
sendmsg(int fd, const struct msghdr *mh, int flags)
{
	enum fault f = pick(fd, CUT_WRITE, iov_total(mh->msg_iov,
	    (int)mh->msg_iovlen), FLAGS_WAIT(flags));
	struct iovec copy[IOV_MAX_CUT];
	struct msghdr m;
	int cnt;

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f != CUT)
		return real_sendmsg(fd, mh, flags);
	m = *mh;
	cnt = (int)m.msg_iovlen;
	m.msg_iov = (struct iovec *)cut_iov(mh->msg_iov, &cnt, copy);
	m.msg_iovlen = (size_t)cnt;
	return real_sendmsg(fd, &m, flags);
}

#ifdef __GLIBC__
/* A batch of messages: cut means fewer messages, each still whole.  (Only
 * glibc's signatures; a static musl ucat takes no LD_PRELOAD anyway.) */

int
recvmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags,
    struct timespec *timeout)
{
	enum fault f = pick(fd, CUT_ALWAYS, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return (int)fail(f);
	return real_recvmmsg(fd, mm, f == CUT ? (unsigned)cut(n) : n, flags,
	    timeout);
}

int
sendmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags)
{
	enum fault f = pick(fd, CUT_ALWAYS, n, FLAGS_WAIT(flags));

	if (f == INTR || f == AGAIN)
		return (int)fail(f);
	return real_sendmmsg(fd, mm, f == CUT ? (unsigned)cut(n) : n, flags);
}
#endif

ssize_t
splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
    unsigned int flags)
{
	enum fault f = pick(in, CUT_ALWAYS, n, (flags & SPLICE_F_NONBLOCK) ||
	    nonblocking(in) || nonblocking(out) ? MAY_NOT_WAIT : BLOCKS);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_splice(in, in_off, out, out_off, f == CUT ? cut(n) : n,
	    flags);
}

ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	enum fault f = pick(out, CUT_ALWAYS, n, ASK);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_sendfile(out, in, off, f == CUT ? cut(n) : n);
}

/* A client that gave up before it was accepted is ECONNABORTED. */
static int
accept_fault(int fd)
{
	enum fault f = pick(fd, CUT_NEVER, 0, ASK);

	if (f == NONE)
		return 0;
	errno = f == AGAIN ? EAGAIN : rnd(2) ? EINTR : ECONNABORTED;
	return -1;
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (accept_fault(fd) == -1)
		return -1;
	return real_accept(fd, sa, len);
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (accept_fault(fd) == -1)
		return -1;
	return real_accept4(fd, sa, len, flags);
}

/* Cut by a signal while it waited (a full backlog, a TCP handshake). */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	enum fault f = pick(fd, CUT_NEVER, 0, ASK);

	if (f == INTR)
		return (int)fail(f);
	return real_connect(fd, sa, len);
}

/* Woken for nothing: a descriptor that does not block, or a socket other
 * than a listener (ucat reads those with MSG_DONTWAIT). */
static bool
may_wake(int fd)
{
	int on_;
	socklen_t len = sizeof(on_);

	if (nonblocking(fd))
		return true;
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on_, &len) == 0 &&
	    !on_;
}

/*
 * EINTR, or a wake-up with one descriptor said to be ready for what it
 * waits for: what it is really ready for is asked first, without waiting,
 * and kept.
 */
int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nfds_t i, at;
	int ready, saved = errno;

	if (!on || n == 0 || rnd(100) >= rate)
		return real_poll(fds, n, timeout);
	if (rnd(2) == 0) {
		faults++;
		errno = EINTR;
		return -1;
	}
	at = rnd((unsigned)n);
	for (i = 0; i < n; i++, at = (at + 1) % n)
		if (fds[at].fd >= 0 && fds[at].fd != STDERR_FILENO &&
		    (fds[at].events & (POLLIN | POLLOUT)) &&
		    may_wake(fds[at].fd))
			break;
	errno = saved;
	if (i == n || (ready = real_poll(fds, n, 0)) == -1)
		return real_poll(fds, n, timeout);
	faults++;
	if (fds[at].revents == 0)
		ready++;
	fds[at].revents |= fds[at].events & (POLLIN | POLLOUT);
	return ready;
}
