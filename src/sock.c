/* sock.c: socket setup and the rules for the socket files ucat creates. */
#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/* The backlog asked for: the kernel's cap (net.core.somaxconn) decides;
 * a libc's SOMAXCONN (128 in musl) would keep a burst of clients out. */
#define LISTEN_BACKLOG	4096

/* The send buffer a stream that sends asks for: fewer, larger moves. */
#define STREAM_SNDBUF	(4 * 1024 * 1024)

/*
 * The files ucat bound, to be removed at exit: the listening socket and the
 * -s socket of a client, each by its name in the directory held for it.
 * A signal handler reads these, so each entry is filled before it is
 * armed.
 */
static struct sockfile {
	int			dir;
	char			name[ADDR_PATH_MAX + 1];
	dev_t			dev;
	ino_t			ino;
	volatile sig_atomic_t	armed;
} files[2];

/* Safe in a signal handler: fstatat(2) and unlinkat(2) only. */
void
sock_cleanup(void)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i].armed)
			continue;
		files[i].armed = 0;
		/* Someone may have replaced it since: remove only ours. */
		if (fstatat(files[i].dir, files[i].name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == files[i].dev && st.st_ino == files[i].ino)
			unlinkat(files[i].dir, files[i].name, 0);
	}
}

static void
remember(const struct place *p)
{
	struct stat st;
	size_t i;

	if (place_stat(p, &st) == -1)
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].armed)
			continue;
		files[i].dir = p->dir;
		snprintf(files[i].name, sizeof(files[i].name), "%s", p->name);
		files[i].dev = st.st_dev;
		files[i].ino = st.st_ino;
		files[i].armed = 1;
		return;
	}
}

/*
 * A path that ucat will bind (listening, or -s): its place, walked to and
 * held from now on, before any confinement.  Nothing else is an error
 * here: an @name, TCP or an inherited socket has no file.
 */
int
sock_hold(struct uaddr *ua)
{
	if (ua->family != AF_UNIX || ua->abstract || ua->inherited)
		return 0;
	return place_open(ua->sun.sun_path, &ua->place);
}

/* The kernel caps SO_SNDBUF at net.core.wmem_max, and doubles it. */
static void
set_sndbuf(int fd, int size)
{
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* A socket for ua, made in its network namespace (ns.c); ua NULL: ucat's
 * own. */
static int
sock_open(const struct uaddr *ua, int family, int type)
{
	int fd = ns_socket(ua, family, type | SOCK_CLOEXEC);

	/* Room to send a message as large as ucat receives whole. */
	if (fd != -1 && type != SOCK_STREAM)
		set_sndbuf(fd, DGRAM_MAX + 4096);
#if !HAVE_DECL_SOCK_CLOEXEC
	if (fd != -1)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	return fd;
}

/*
 * A connected socket's options for the pump: a stream that sends stdin
 * asks for a larger send buffer (a relay does not: a client that stops
 * reading would hold megabytes of it, each), and a seqpacket socket has
 * credentials with every message, which tell an empty message from the
 * end (message.c).
 */
void
sock_prepare(int fd, const struct options *o)
{
#ifdef HAVE_PASSCRED
	int on = 1;

	if (o->type == SOCK_SEQPACKET)
		(void)setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
#endif
	if (o->type == SOCK_STREAM && !o->no_stdin && !o->relay)
		set_sndbuf(fd, STREAM_SNDBUF);
}

/*
 * Whether a socket is bound to the file at the place: a datagram connect
 * fails with ECONNREFUSED only when none is, and it never shows up as a
 * connection at a live listener.  1: one is (of whatever type), 0: none,
 * or no file; -1 with errno.
 */
int
sock_live(const struct place *p)
{
	int fd, rc, saved;

	if ((fd = sock_open(NULL, AF_UNIX, SOCK_DGRAM)) == -1)
		return -1;
	rc = place_socket(p, fd, false);
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EPROTOTYPE || saved == EPERM)
		return 1;
	if (saved == ECONNREFUSED || saved == ENOENT)
		return 0;
	errno = saved;
	return -1;
}

/*
 * Makes room for a bind at the place: nothing there is fine, a socket
 * nobody is bound to (stale) is removed, anything else is left alone.
 * Every look and the removal go through the directory held, so each is
 * about the same file.
 */
static int
clear_stale(const struct place *p)
{
	struct stat st, again;
	int live;

	if (place_stat(p, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	if ((live = sock_live(p)) == -1)
		return -1;
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	if (place_stat(p, &again) == -1)
		return errno == ENOENT ? 0 : -1;
	if (again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
		errno = EADDRINUSE;
		return -1;
	}
	if (place_unlink(p) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Binds fd to ua.  A file is created under the umask, or with exactly
 * -m MODE: the umask is set for the bind so that no instant exists where
 * the file is more open than asked.
 */
static int
sock_bind(int fd, const struct uaddr *ua, const struct options *o)
{
	mode_t old = 0;
	int rc, saved, on = 1;
	bool mode;

	/* A TCP listener takes its port back from connections that are
	 * closing, as every TCP server does. */
	if (ua->family != AF_UNIX) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		return bind(fd, &ua->sa, ua->len);
	}
	if (ua->abstract)
		return bind(fd, (const struct sockaddr *)&ua->sun, ua->len);
	if (ua->place.dir == -1) {
		errno = EBADF;
		return -1;
	}
	if (clear_stale(&ua->place) == -1)
		return -1;
	/* -m is the listening socket's; -s files keep the umask. */
	mode = o->mode_set && ua == &o->addr;
	if (mode)
		old = umask(~o->mode & 0777);
	rc = place_socket(&ua->place, fd, true);
	saved = errno;
	if (mode)
		umask(old);
	if (rc == -1) {
		errno = saved;
		return -1;
	}
	if (!o->keep_file)
		remember(&ua->place);
	return 0;
}

/* The listening socket: made and bound here, or inherited as it is. */
int
sock_listen(const struct options *o)
{
	int fd, saved;

	if (o->addr.inherited)
		return o->addr.fd;
	if ((fd = sock_open(&o->addr, o->addr.family, o->type)) == -1)
		return -1;
	if (sock_bind(fd, &o->addr, o) == -1 ||
	    (o->type != SOCK_DGRAM && listen(fd, LISTEN_BACKLOG) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
sock_accept(int lfd)
{
	int fd;

	do {
#ifdef HAVE_ACCEPT4
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
#else
		if ((fd = accept(lfd, NULL, NULL)) != -1)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	} while (fd == -1 && (errno == EINTR || errno == ECONNABORTED));
	return fd;
}

static int
set_sndtimeo(int fd, double secs)
{
	struct timeval tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (secs > 0 && tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * A TCP connect cut by a signal goes on in the kernel (a second connect
 * would be EALREADY): wait for it to end, within -w, and take its result.
 */
static int
connect_finish(int fd, const struct options *o)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	double deadline = clock_now() + o->timeout, left;
	socklen_t len = sizeof(int);
	int n, e;

	do {
		left = deadline - clock_now();
		n = poll(&p, 1, o->timeout <= 0 ? -1 :
		    left <= 0 ? 0 : (int)(left * 1000) + 1);
	} while (n == -1 && errno == EINTR);
	if (n == 0)
		errno = EINPROGRESS;
	if (n <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		return -1;
	errno = e;
	return e == 0 ? 0 : -1;
}

/*
 * Before a --wait retry: sleeps *pause (10 ms at first, doubling to
 * 100 ms), but not past deadline.  False when the time is up.
 */
static bool
retry_pause(double deadline, double *pause)
{
	struct timespec ts;
	double left = deadline - clock_now();

	if (left <= 0)
		return false;
	if (*pause > left)
		*pause = left;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(*pause * 1e9);
	nanosleep(&ts, NULL);
	*pause = *pause * 2 < 0.1 ? *pause * 2 : 0.1;
	return true;
}

/*
 * connect(2), and with --wait again while the address is missing or nobody
 * listens yet, until deadline.
 */
static int
connect_retry(int fd, const struct options *o, const struct uaddr *to,
    double deadline, double *pause)
{
	const struct sockaddr *sa = &to->sa;

	for (;;) {
		/* A socket in a directory held (--tap's server) is reached
		 * through it. */
		if ((to->place.dir != -1 ? place_socket(&to->place, fd, false) :
		    connect(fd, sa, to->len)) == 0)
			return 0;
		if (errno == EINTR && to->family == AF_UNIX)
			continue;
		if (errno == EINTR && connect_finish(fd, o) == 0)
			return 0;
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    !retry_pause(deadline, pause))
			return -1;
	}
}

/*
 * One socket connected to the address to, having bound to src first if
 * it is not NULL (see sock_connect).
 */
static int
connect_once(const struct options *o, const struct uaddr *to,
    const struct uaddr *src, bool *bind_failed, double deadline,
    double *pause)
{
	int fd, rc, saved;

	*bind_failed = false;
	if ((fd = sock_open(to, to->family, o->type)) == -1)
		return -1;
	rc = 0;
	if (src != NULL) {
		rc = sock_bind(fd, src, o);
	} else if (o->type == SOCK_DGRAM && !o->probe &&
	    to->family == AF_UNIX) {
#ifdef HAVE_ABSTRACT_NAMESPACE
		struct uaddr any;

		(void)addr_parse("@", &any);
		rc = sock_bind(fd, &any, o);
#endif
	}
	if (rc == -1) {
		*bind_failed = true;
		goto fail;
	}
	if (o->timeout > 0 && set_sndtimeo(fd, o->timeout) == -1)
		goto fail;
	if ((rc = connect_retry(fd, o, to, deadline, pause)) == -1) {
		/* A blocking connect cut by SO_SNDTIMEO: EAGAIN (AF_UNIX) or
		 * EINPROGRESS (TCP). */
		if ((errno == EAGAIN || errno == EINPROGRESS) &&
		    o->timeout > 0)
			errno = ETIMEDOUT;
		goto fail;
	}
	if (o->timeout > 0 && set_sndtimeo(fd, 0) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Connects to the address to, having bound to src first if it is not
 * NULL.  A datagram client with no src binds to an autobound abstract name
 * so that the server has an address to answer.  The -w timeout rides on
 * SO_SNDTIMEO, which bounds a blocking AF_UNIX connect waiting for room in
 * a full backlog; expiry is ETIMEDOUT.  A vsock-mux: address is then asked
 * for its port (mux.c); with --wait, a guest that does not answer OK yet
 * is asked again on a new connection.  *bind_failed tells the caller
 * which of the two steps failed.
 */
int
sock_connect(const struct options *o, const struct uaddr *to,
    const struct uaddr *src, bool *bind_failed)
{
	double deadline = clock_now() + o->wait, pause = 0.01;
	int fd, saved;

	for (;;) {
		fd = connect_once(o, to, src, bind_failed, deadline, &pause);
		if (fd == -1 || !to->mux ||
		    mux_handshake(fd, to->mux_port, o->timeout) == 0)
			return fd;
		saved = errno;
		close(fd);
		errno = saved;
		if (saved == ETIMEDOUT || !retry_pause(deadline, &pause))
			return -1;
	}
}

/* One line for a failed socket step on ua, with the kinder words where
 * they are known. */
void
sock_warn(const char *what, const struct uaddr *ua)
{
	switch (errno) {
	case ENOTSOCK:
		warnx("%s: exists and is not a socket; not touching it",
		    ua->text);
		break;
	case EADDRINUSE:
		warnx("%s: address in use", ua->text);
		break;
	case ETIMEDOUT:
		warnx("%s %s: timed out", what, ua->text);
		break;
	case EPROTO:
	case ECONNRESET:
		if (ua->mux) {
			warnx("%s %s: port %lu: %s", what, ua->text,
			    (unsigned long)ua->mux_port, errno == EPROTO ?
			    "the host's answer is not OK" : "closed with no "
			    "answer (does the guest listen on it?)");
			break;
		}
		/* FALLTHROUGH */
	default:
		warn("%s %s", what, ua->text);
	}
}

static const char *
type_name(int type)
{
	return type == SOCK_DGRAM ? "datagram" : type == SOCK_SEQPACKET ?
	    "seqpacket" : "stream";
}

/* The flag that makes ucat's sockets of type: for advice. */
static const char *
type_flag(int type)
{
	return type == SOCK_DGRAM ? "-u" : type == SOCK_SEQPACKET ?
	    "--seqpacket" : "";
}

/*
 * The type of the socket bound at path, as the kernel lists it
 * (/proc/net/unix, Linux): looked up, not connected to, so the server
 * sees nothing.  -1 where it cannot be told.
 */
static int
listed_type(const char *path)
{
	char line[256 + ADDR_PATH_MAX];
	unsigned type;
	FILE *f;
	int at, found = -1;
	size_t n;

	if ((f = fopen("/proc/net/unix", "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), f) != NULL) {
		/* Num: RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*x %*x %*x %x %*x %*u %n", &type,
		    &at) != 1)
			continue;
		n = strcspn(line + at, "\n");
		if (n == strlen(path) && memcmp(line + at, path, n) == 0)
			found = (int)type;
	}
	fclose(f);
	return found;
}

/*
 * One line for a failed connect to ua, in words that say what to do:
 * what is at a path that is not a socket, which type the socket there
 * is and which flag would reach it, and that --wait ran out.
 */
void
sock_warn_connect(const struct options *o, const struct uaddr *ua)
{
	const char *path = ua->sun.sun_path;
	struct stat st;
	int e = errno, type;

	if (ua->family == AF_UNIX && !ua->abstract && e == ECONNREFUSED &&
	    stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		warnx("connect %s: not a socket", ua->text);
		return;
	}
	if (ua->family == AF_UNIX && !ua->abstract && e == EPROTOTYPE &&
	    (type = listed_type(path)) > 0 && type != o->type) {
		if (type == SOCK_STREAM)
			warnx("connect %s: a stream socket; drop %s", ua->text,
			    type_flag(o->type));
		else if (o->type == SOCK_STREAM)
			warnx("connect %s: a %s socket; add %s", ua->text,
			    type_name(type), type_flag(type));
		else
			warnx("connect %s: a %s socket; use %s instead of %s",
			    ua->text, type_name(type), type_flag(type),
			    type_flag(o->type));
		return;
	}
	if (o->wait > 0 && (e == ENOENT || e == ECONNREFUSED)) {
		warnx("connect %s: %s, after waiting %g second%s", ua->text,
		    strerror(e), o->wait, o->wait == 1 ? "" : "s");
		return;
	}
	errno = e;
	sock_warn("connect", ua);
}

/* In a child that serves one client: the parent's files are not its own
 * to remove. */
void
sock_forget(void)
{
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		files[i].armed = 0;
}

/* The peer's credentials, where the system can tell them: a Unix
 * socket's (a TCP socket answers SO_PEERCRED with nobody's). */
int
sock_peer(int fd, const struct uaddr *ua, struct peer *pc)
{
	if (ua->family != AF_UNIX) {
		pc->known = false;
		errno = ENOTSUP;
		return -1;
	}
#ifdef HAVE_UCRED
	struct ucred uc;
	socklen_t len = sizeof(uc);

	pc->known = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	/* What the kernel says where it has none (a datagram socket's). */
	if (uc.pid == 0 && uc.uid == (uid_t)-1 && uc.gid == (gid_t)-1) {
		errno = ENODATA;
		return -1;
	}
	pc->pid = uc.pid;
	pc->uid = uc.uid;
	pc->gid = uc.gid;
#elif defined(HAVE_GETPEEREID)
	pc->known = false;
	if (getpeereid(fd, &pc->uid, &pc->gid) == -1)
		return -1;
	pc->pid = -1;
#else
	(void)fd;
	pc->known = false;
	errno = ENOTSUP;
	return -1;
#endif
	pc->known = true;
	return 0;
}

/* For ucat -V: what this build learns of a peer (sock_peer), and whether
 * a seqpacket socket has credentials with every message (sock_prepare). */
const char *
sock_features(void)
{
	return ""
#if defined(HAVE_UCRED) || defined(HAVE_GETPEEREID)
	    " peercred"
#endif
#ifdef HAVE_PASSCRED
	    " passcred"
#endif
	    ;
}
