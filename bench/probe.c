/* probe.c: the kernel's limit for a Unix stream pump and for a server. */

/*
 * Usage:
 *   probe [-r] [-B BYTES] -l PATH   listen, accept one connection, pump
 *   probe [-r] [-B BYTES] PATH      connect, pump
 *   probe -e PATH                   echo server: accept forever, one child
 *                                   per connection echoes until EOF
 *   probe -x PATH                   exec server: accept forever, fork, the
 *                                   connection on fds 0 and 1, exec
 *                                   /bin/cat: the floor of ucat -lk -e cat
 *   probe -s PATH                   sink: accept forever, half-close each
 *                                   connection, read it to EOF, close it,
 *                                   in one process: the floor of ucat -lk
 *   probe -R [-k] FRONT BACK        relay: accept one client on FRONT,
 *                                   connect to BACK, splice both ways
 *                                   until both are done: the floor of
 *                                   ucat -l FRONT BACK for bulk and round
 *                                   trips.  -k: accept forever, a child
 *                                   per client; what this design costs
 *                                   per connection (a thread, two grown
 *                                   pipes), not a floor for that
 *
 * The pump is what ucat's stream pump does, stripped to the bone: one
 * thread per direction making blocking calls, so nothing but the copy
 * itself costs time.  stdin -> socket, then shutdown(SHUT_WR); socket ->
 * stdout until EOF; exit when both are done.  No error is recovered from:
 * a failure is a failed measurement.
 *
 * Default (splice) path: a pipe is spliced straight to or from the socket
 * after F_SETPIPE_SZ grows it; a regular-file stdin is sendfile(2)'d; a
 * regular-file stdout is reached through a private pipe.  Anything else,
 * or -r, uses read/write with a 256 KiB buffer.  -B sets SO_SNDBUF and
 * SO_RCVBUF, for trying socket buffer sizes by hand.
 *
 * The relay is the same pump between two sockets: one thread per
 * direction, each splicing socket -> a private pipe -> socket with
 * blocking calls, and shutdown(SHUT_WR) of the far side when its read
 * gives 0.  Blocking is safe here, unlike in splice_down: each pipe has
 * one user, the thread that fills and empties it in turn.
 */
#define _GNU_SOURCE
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RW_BUF	(256 * 1024)

static int	rflag;		/* read/write only */
static int	sock = -1;

/*
 * Grows a pipe to the system maximum, for fewer and larger splices, and
 * returns how much one splice should ask for: the pipe's size.
 */
static size_t
pipe_grow(int fd)
{
	FILE *f;
	int max = 1 << 20, got;

	if ((f = fopen("/proc/sys/fs/pipe-max-size", "r")) != NULL) {
		if (fscanf(f, "%d", &max) != 1)
			max = 1 << 20;
		fclose(f);
	}
	if ((got = fcntl(fd, F_SETPIPE_SZ, max)) == -1)
		got = fcntl(fd, F_GETPIPE_SZ);
	return got > 0 ? (size_t)got : 65536;
}

static int
is_type(int fd, mode_t type)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Copies with read/write until EOF; dies on any error. */
static void
copy_rw(int in, int out, int out_is_sock)
{
	static __thread char buf[RW_BUF];
	ssize_t n, w, off;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		for (off = 0; off < n; off += w) {
			w = out_is_sock ? send(out, buf + off, n - off,
			    MSG_NOSIGNAL) : write(out, buf + off, n - off);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				err(1, "write");
		}
	}
}

/*
 * stdin pipe -> socket.  Blocking is safe this way round: while splice waits
 * for room in the socket it holds only our stdin pipe's lock.
 */
static void
splice_up(void)
{
	size_t chunk = pipe_grow(0);
	ssize_t n;

	while ((n = splice(0, NULL, sock, NULL, chunk, SPLICE_F_MOVE)) != 0)
		if (n < 0 && errno != EINTR)
			err(1, "splice stdin");
}

/*
 * socket -> stdout pipe.  A blocking splice from a socket holds the pipe's
 * lock while it waits for data, so whoever reads our stdout stalls on bytes
 * already in the pipe until more arrive (a 64-byte ping-pong never
 * finishes).  So: non-blocking splice, and poll only when it cannot move.
 */
static void
splice_down(void)
{
	struct pollfd room = { 1, POLLOUT, 0 }, data = { sock, POLLIN, 0 };
	size_t chunk = pipe_grow(1);
	ssize_t n;

	while ((n = splice(sock, NULL, 1, NULL, chunk,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK)) != 0) {
		if (n > 0 || errno == EINTR)
			continue;
		if (errno != EAGAIN)
			err(1, "splice stdout");
		/* Either end may be the one holding us up. */
		if ((poll(&room, 1, -1) == -1 || poll(&data, 1, -1) == -1) &&
		    errno != EINTR)
			err(1, "poll");
	}
}

/*
 * Socket in -> out until EOF, through a private pipe: splice needs a pipe
 * on one side.  Blocking calls: the pipe has no other user.
 */
static void
splice_through(int in, int out)
{
	size_t chunk;
	ssize_t n, w;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		err(1, "pipe");
	chunk = pipe_grow(p[0]);
	while ((n = splice(in, NULL, p[1], NULL, chunk,
	    SPLICE_F_MOVE)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "splice in");
		for (; n > 0; n -= w)
			if ((w = splice(p[0], NULL, out, NULL, n,
			    SPLICE_F_MOVE)) < 0 && errno != EINTR)
				err(1, "splice out");
			else if (w < 0)
				w = 0;
	}
	close(p[0]);
	close(p[1]);
}

static void
copy_in(void)
{
	ssize_t n;

	if (!rflag && is_type(0, S_IFIFO))
		splice_up();
	else if (!rflag && is_type(0, S_IFREG)) {
		while ((n = sendfile(sock, 0, NULL, 1 << 30)) != 0)
			if (n < 0 && errno != EINTR)
				err(1, "sendfile");
	} else
		copy_rw(0, sock, 1);
	if (shutdown(sock, SHUT_WR) == -1 && errno != ENOTCONN)
		err(1, "shutdown");
}

static void *
copy_out(void *unused)
{
	(void)unused;
	if (!rflag && is_type(1, S_IFIFO))
		splice_down();
	else if (!rflag && is_type(1, S_IFREG))
		splice_through(sock, 1);	/* socket -> regular file */
	else
		copy_rw(sock, 1, 0);
	return NULL;
}

/* Each connection gets a child that echoes until EOF, then closes. */
static void
echo_serve(int ls)
{
	int c;

	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	for (;;) {
		if ((c = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		switch (fork()) {
		case -1:
			err(1, "fork");
		case 0:
			close(ls);
			copy_rw(c, c, 1);
			_exit(0);
		}
		close(c);
	}
}

/*
 * Each connection gets a child that runs /bin/cat on it: no more than a
 * server needs to start a program per connection.
 */
static void
exec_serve(int ls)
{
	char *cat[] = { "cat", NULL };
	int c;

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((c = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		switch (fork()) {
		case -1:
			err(1, "fork");
		case 0:
			/* Ignored signals would stay ignored in cat. */
			signal(SIGCHLD, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			if (dup2(c, 0) == -1 || dup2(c, 1) == -1)
				err(127, "dup2");
			execv("/bin/cat", cat);
			err(127, "exec /bin/cat");
		}
		close(c);
	}
}

/*
 * Each connection is read to EOF and closed.  Nothing is sent, so the write
 * side is shut at once, as ucat -lk does with its stdin at EOF.
 */
static void
sink_serve(int ls)
{
	char buf[4096];
	ssize_t n;
	int c;

	for (;;) {
		if ((c = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		if (shutdown(c, SHUT_WR) == -1 && errno != ENOTCONN)
			err(1, "shutdown");
		while ((n = read(c, buf, sizeof(buf))) != 0)
			if (n < 0 && errno != EINTR)
				err(1, "read");
		close(c);
	}
}

/* One direction of a relay: a socket to the other, then the half-close. */
struct leg {
	int	from;
	int	to;
};

static void *
relay_leg(void *arg)
{
	const struct leg *l = arg;

	splice_through(l->from, l->to);
	if (shutdown(l->to, SHUT_WR) == -1 && errno != ENOTCONN)
		err(1, "shutdown");
	return NULL;
}

static int
connect_to(const struct sockaddr_un *sa)
{
	int s;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		err(1, "connect %s", sa->sun_path);
	return s;
}

/* Joins the client c to a new connection to back until both ways are done. */
static void
relay(int c, const struct sockaddr_un *back)
{
	struct leg up, down;
	pthread_t t;
	int b = connect_to(back);

	up.from = c, up.to = b;
	down.from = b, down.to = c;
	if ((errno = pthread_create(&t, NULL, relay_leg, &down)) != 0)
		err(1, "pthread_create");
	relay_leg(&up);
	if ((errno = pthread_join(t, NULL)) != 0)
		err(1, "pthread_join");
	close(b);
	close(c);
}

/* -R -k: each client is relayed by a child of its own. */
static void
relay_serve(int ls, const struct sockaddr_un *back)
{
	int c;

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((c = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		switch (fork()) {
		case -1:
			err(1, "fork");
		case 0:
			close(ls);
			relay(c, back);
			_exit(0);
		}
		close(c);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: probe [-r] [-B bytes] [-l] path\n"
	    "       probe -e | -s | -x path\n"
	    "       probe -R [-k] front back\n");
	exit(2);
}

static void
address(struct sockaddr_un *sa, const char *path)
{
	if (strlen(path) >= sizeof(sa->sun_path))
		errx(2, "%s: longer than %zu bytes", path,
		    sizeof(sa->sun_path) - 1);
	strcpy(sa->sun_path, path);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockaddr_un back = { .sun_family = AF_UNIX };
	pthread_t t;
	char *end;
	long n;
	int ch, lflag = 0, eflag = 0, kflag = 0, Rflag = 0, sflag = 0,
	    xflag = 0, bufsz = 0, ls;

	while ((ch = getopt(argc, argv, "B:eklRrsx")) != -1) {
		switch (ch) {
		case 'B':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 ||
			    n > 1 << 30)
				errx(2, "bad buffer size: %s", optarg);
			bufsz = (int)n;
			break;
		case 'e':
			eflag = 1;
			break;
		case 'k':
			kflag = 1;
			break;
		case 'R':
			Rflag = 1;
			break;
		case 'l':
			lflag = 1;
			break;
		case 'r':
			rflag = 1;
			break;
		case 's':
			sflag = 1;
			break;
		case 'x':
			xflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 + Rflag || (kflag && !Rflag))
		usage();
	address(&sa, argv[optind]);
	if (Rflag)
		address(&back, argv[optind + 1]);
	signal(SIGPIPE, SIG_IGN);

	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (lflag || eflag || sflag || xflag || Rflag) {
		if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    listen(sock, 128) == -1)
			err(1, "listen %s", sa.sun_path);
		if (eflag)
			echo_serve(sock);
		if (sflag)
			sink_serve(sock);
		if (xflag)
			exec_serve(sock);
		if (Rflag && kflag)
			relay_serve(sock, &back);
		if ((ls = accept4(sock, NULL, NULL, SOCK_CLOEXEC)) == -1)
			err(1, "accept %s", sa.sun_path);
		close(sock);
		unlink(sa.sun_path);
		sock = ls;
		if (Rflag) {
			relay(sock, &back);
			return 0;
		}
	} else if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(1, "connect %s", sa.sun_path);
	if (bufsz > 0 &&
	    (setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)) ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz))))
		err(1, "setsockopt");

	if ((errno = pthread_create(&t, NULL, copy_out, NULL)) != 0)
		err(1, "pthread_create");
	copy_in();
	if ((errno = pthread_join(t, NULL)) != 0)
		err(1, "pthread_join");
	return 0;
}
