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
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IOV_MAX_CUT	64

enum fault { NONE, CUT, INTR, AGAIN };

static bool on;
static unsigned rate = 25;
static unsigned long long state;
static unsigned long faults;
static char report[4096];

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

	if (seed == NULL)
		return;
	state = strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	if (r != NULL)
		rate = (unsigned)atoi(r);
	if (file != NULL)
		snprintf(report, sizeof(report), "%s", file);
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
	int fd, n;

	if (!on || report[0] == '\0')
		return;
	if ((fd = open(report, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return;
	n = snprintf(line, sizeof(line), "faults %lu\n", faults);
	on = false;
	(void)!write(fd, line, (size_t)n);
	close(fd);
}

/* The next definition of NAME after this library's: libc's. */
#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static bool
nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl != -1 && (fl & O_NONBLOCK);
}

/* Bytes with no boundaries: anything but a datagram or seqpacket socket. */
static bool
stream(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return errno == ENOTSOCK;
	return type == SOCK_STREAM;
}

static enum fault
pick(int fd, bool cut_ok, bool may_not_wait)
{
	if (!on || fd == STDERR_FILENO || rnd(100) >= rate)
		return NONE;
	faults++;
	switch (rnd(3)) {
	case 0:
		if (cut_ok)
			return CUT;
		return INTR;
	case 1:
		return INTR;
	default:
		return may_not_wait ? AGAIN : INTR;
	}
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

ssize_t
read(int fd, void *buf, size_t n)
{
	enum fault f = pick(fd, stream(fd), nonblocking(fd));
	REAL(read);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_read(fd, buf, f == CUT ? cut(n) : n);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	enum fault f = pick(fd, stream(fd), nonblocking(fd));
	REAL(write);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_write(fd, buf, f == CUT ? cut(n) : n);
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	enum fault f = pick(fd, stream(fd), nonblocking(fd));
	struct iovec copy[IOV_MAX_CUT];
	REAL(readv);

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f == CUT)
		iov = cut_iov(iov, &cnt, copy);
	return real_readv(fd, iov, cnt);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	enum fault f = pick(fd, stream(fd), nonblocking(fd));
	struct iovec copy[IOV_MAX_CUT];
	REAL(writev);

	if (f == INTR || f == AGAIN)
		return fail(f);
	if (f == CUT)
		iov = cut_iov(iov, &cnt, copy);
	return real_writev(fd, iov, cnt);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(recv);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_recv(fd, buf, f == CUT ? cut(n) : n, flags);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(send);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_send(fd, buf, f == CUT ? cut(n) : n, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
    socklen_t *len)
{
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(recvfrom);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_recvfrom(fd, buf, f == CUT ? cut(n) : n, flags, from, len);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *to, socklen_t len)
{
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(sendto);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_sendto(fd, buf, f == CUT ? cut(n) : n, flags, to, len);
}

ssize_t
recvmsg(int fd, struct msghdr *mh, int flags)
{
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	struct iovec copy[IOV_MAX_CUT];
	struct msghdr m;
	ssize_t n;
	int cnt;
	REAL(recvmsg);

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
	enum fault f = pick(fd, stream(fd), (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	struct iovec copy[IOV_MAX_CUT];
	struct msghdr m;
	int cnt;
	REAL(sendmsg);

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

/* A batch of messages: cut means fewer messages, each still whole. */
int
recvmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags,
    struct timespec *timeout)
{
	enum fault f = pick(fd, true, (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(recvmmsg);

	if (f == INTR || f == AGAIN)
		return (int)fail(f);
	return real_recvmmsg(fd, mm, f == CUT ? (unsigned)cut(n) : n, flags,
	    timeout);
}

int
sendmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags)
{
	enum fault f = pick(fd, true, (flags & MSG_DONTWAIT) ||
	    nonblocking(fd));
	REAL(sendmmsg);

	if (f == INTR || f == AGAIN)
		return (int)fail(f);
	return real_sendmmsg(fd, mm, f == CUT ? (unsigned)cut(n) : n, flags);
}

ssize_t
splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
    unsigned int flags)
{
	enum fault f = pick(in, true, (flags & SPLICE_F_NONBLOCK) ||
	    nonblocking(in) || nonblocking(out));
	REAL(splice);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_splice(in, in_off, out, out_off, f == CUT ? cut(n) : n,
	    flags);
}

ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	enum fault f = pick(out, true, nonblocking(out));
	REAL(sendfile);

	if (f == INTR || f == AGAIN)
		return fail(f);
	return real_sendfile(out, in, off, f == CUT ? cut(n) : n);
}

static int
accept_fault(int fd)
{
	enum fault f = pick(fd, false, nonblocking(fd));

	if (f == NONE)
		return 0;
	/* A client that gave up before it was accepted. */
	errno = f == AGAIN ? EAGAIN : rnd(2) ? EINTR : ECONNABORTED;
	return -1;
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	REAL(accept);

	if (accept_fault(fd) == -1)
		return -1;
	return real_accept(fd, sa, len);
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	REAL(accept4);

	if (accept_fault(fd) == -1)
		return -1;
	return real_accept4(fd, sa, len, flags);
}

/*
 * EINTR, or a wake-up with one descriptor that does not block said to be
 * ready for what it waits for: what it is really ready for is asked
 * first, without waiting, and kept.
 */
int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nfds_t i, at;
	int ready;
	REAL(poll);

	if (!on || n == 0 || rnd(100) >= rate)
		return real_poll(fds, n, timeout);
	if (rnd(2) == 0) {
		faults++;
		errno = EINTR;
		return -1;
	}
	at = rnd((unsigned)n);
	for (i = 0; i < n; i++, at = (at + 1) % n)
		if (fds[at].fd >= 0 && (fds[at].events & (POLLIN | POLLOUT)) &&
		    nonblocking(fds[at].fd))
			break;
	if (i == n || (ready = real_poll(fds, n, 0)) == -1)
		return real_poll(fds, n, timeout);
	faults++;
	if (fds[at].revents == 0)
		ready++;
	fds[at].revents |= fds[at].events & (POLLIN | POLLOUT);
	return ready;
}
