/* msg.c: drives and bounds the message tests (datagrams, seqpackets). */

/*
 * Usage (-q: a SOCK_SEQPACKET socket; without it, SOCK_DGRAM):
 *
 * The driver, the same for every tool:
 *   msg -s [-q] [-n N] [-z SIZE] PATH
 *	Sender: N messages of SIZE bytes to PATH, sendmmsg(2) in batches
 *	of 64, blocking, as fast as the receiver takes them.  Datagrams:
 *	binds an abstract name the kernel picks (so that a listener sees a
 *	sender it could answer, like ucat -u's own client), connects, sends,
 *	then waits until its send queue is empty (ioctl SIOCOUTQ: a Unix
 *	datagram stays charged to its sender until the receiver has taken it
 *	off its queue), so the end is "the receiver has taken every
 *	datagram".  Seqpacket: connects, sends, shuts down its write side
 *	and reads (discarding) until EOF.  Prints "T0 T1": CLOCK_MONOTONIC
 *	ns just before the first send and at that end.
 *   msg -c -n N -z SIZE -o FILE
 *	Counter, the reader of a tool's stdout pipe: reads stdin, checks
 *	every SIZE bytes the sequence number that starts each message, and
 *	once it has N messages' bytes writes the time (CLOCK_MONOTONIC ns)
 *	to FILE.  Then reads on to EOF (the tool is killed, or exits) and
 *	exits 1 unless exactly N * SIZE bytes came, all in order.
 *   msg -r [-q] [-n N] [-z SIZE] PATH
 *	Receiver, the far end of the -L senders and of the relays:
 *	datagrams: binds PATH; seqpacket: listens on PATH and accepts one
 *	connection.  recvmmsg(2) in batches until N messages have come,
 *	each checked (SIZE bytes, its sequence number); seqpacket then reads
 *	on to EOF, which must come with no further message.  Prints "T0 T1":
 *	CLOCK_MONOTONIC ns when the first and the last message came.
 *   msg -m [-n N] [-z SIZE]
 *	Writes N lines to stdout, each SIZE bytes and a newline: the input
 *	of the -L senders.
 *
 * The probes, what the kernel allows with nothing but the copy:
 *   msg -P [-q] PATH
 *	Receiver with output: datagrams: binds PATH and, until killed,
 *	recvmmsg(2) a batch (blocking, MSG_WAITFORONE: the first message
 *	and whatever else is queued, up to 64) and writev(2) it to stdout
 *	in one call.  Seqpacket: listens, accepts one, shuts its write side
 *	(as a listener with stdin /dev/null does), the same loop to EOF.
 *   msg -L [-q] PATH
 *	Line sender: reads all of stdin, and sends each line without its
 *	newline as one message, sendmmsg(2) in batches of 64, blocking, to
 *	PATH (connected).  Seqpacket: then shuts down its write side and
 *	reads to EOF.
 *   msg -R [-q] FRONT BACK
 *	Relay: datagrams: binds FRONT, connects a second socket to BACK,
 *	and recvmmsg -> sendmmsg batches from one to the other until
 *	killed (one way only: what the test moves).  Seqpacket: accepts
 *	one client on FRONT, connects to BACK, and one thread per direction
 *	does the same until its side's EOF, then shutdown(SHUT_WR) of the
 *	other; exits when both are done.
 *
 * A message is SIZE (at least 16) bytes: its number in 15 decimal
 * digits, a blank, then a letter that changes with the number: the same
 * as a line, so that -L senders and datagram senders feed one checker.
 * Any error, short count, truncated, missing or misordered message is
 * fatal (exit 1 with a message): no broken run can pass for a fast one.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define MAXMSG	65536		/* the largest message the probes take */
#define SEQLEN	15

static int	type = SOCK_DGRAM;

static long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || n < min || n > max)
		errx(2, "bad number: %s", s);
	return n;
}

static void
address(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		errx(2, "%s: longer than %zu bytes", path,
		    sizeof(sa->sun_path) - 1);
	strcpy(sa->sun_path, path);
}

static int
sock(void)
{
	int s;

	if ((s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	return s;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa;
	int s = sock();

	address(&sa, path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(1, "connect %s", path);
	return s;
}

/* Binds PATH; a seqpacket socket also listens and accepts one client. */
static int
bind_to(const char *path)
{
	struct sockaddr_un sa;
	int s = sock(), c;

	address(&sa, path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(1, "bind %s", path);
	if (type == SOCK_DGRAM)
		return s;
	if (listen(s, 16) == -1)
		err(1, "listen %s", path);
	while ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) == -1)
		if (errno != EINTR)
			err(1, "accept %s", path);
	close(s);
	unlink(path);
	return c;
}

/* Writes i in SEQLEN decimal digits and a blank at p. */
static void
seqstr(char *p, long i)
{
	int k;

	for (k = SEQLEN - 1; k >= 0; k--, i /= 10)
		p[k] = (char)('0' + i % 10);
	p[SEQLEN] = ' ';
}

/* Message i: its number, a blank, a letter (see the top). */
static void
fill(char *p, long i, size_t size)
{
	seqstr(p, i);
	memset(p + SEQLEN + 1, 'a' + (int)(i % 26), size - SEQLEN - 1);
}

/* The number message i must start with: 0 if it does, else -1. */
static int
seq_ok(const char *p, long i)
{
	char seq[SEQLEN + 1];

	seqstr(seq, i);
	return memcmp(p, seq, SEQLEN + 1) == 0 ? 0 : -1;
}

/* Reads and discards until EOF. */
static void
drain(int s)
{
	char buf[MAXMSG];
	ssize_t n;

	while ((n = read(s, buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR && errno != ECONNRESET)
			err(1, "read");
		else if (n <= 0)
			break;
}

/* Sends the count messages of mm, all of them, blocking. */
static void
send_all(int s, struct mmsghdr *mm, int count)
{
	int done = 0, n;

	while (done < count) {
		if ((n = sendmmsg(s, mm + done, (unsigned)(count - done),
		    MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "sendmmsg");
		}
		done += n;
	}
}

static void
sender(const char *path, long n, size_t size)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	char *buf;
	long t0, t1, i, j;
	int s, k, outq;

	if ((buf = malloc(size * BATCH)) == NULL)
		err(1, "malloc");
	if (type == SOCK_DGRAM) {
		/* An abstract name the kernel picks: a sender one can answer. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX }, to;

		s = sock();
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa_family_t)) == -1)
			err(1, "bind (autobind)");
		address(&to, path);
		if (connect(s, (struct sockaddr *)&to, sizeof(to)) == -1)
			err(1, "connect %s", path);
	} else
		s = connect_to(path);
	memset(mm, 0, sizeof(mm));
	for (k = 0; k < BATCH; k++) {
		iov[k].iov_base = buf + (size_t)k * size;
		iov[k].iov_len = size;
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i += k) {
		for (k = 0, j = i; k < BATCH && j < n; k++, j++)
			fill(iov[k].iov_base, j, size);
		send_all(s, mm, k);
	}
	if (type == SOCK_DGRAM) {
		/* Until the receiver has taken the last datagram off its queue. */
		for (;;) {
			if (ioctl(s, SIOCOUTQ, &outq) == -1)
				err(1, "ioctl SIOCOUTQ");
			if (outq == 0)
				break;
			usleep(20);
		}
	} else {
		if (shutdown(s, SHUT_WR) == -1)
			err(1, "shutdown");
		drain(s);
	}
	t1 = now_ns();
	printf("%ld %ld\n", t0, t1);
}

static void
counter(long n, size_t size, const char *file)
{
	static char buf[1 << 20];
	long want = n * (long)size, total = 0, msg = 0, t;
	size_t at = 0;		/* offset in the current message */
	ssize_t got, off;
	FILE *f;

	while ((got = read(0, buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		for (off = 0; off < got; ) {
			/* A message starts here: its number must be whole. */
			if (at == 0 && got - off >= SEQLEN + 1 &&
			    seq_ok(buf + off, msg) != 0)
				errx(1, "message %ld: out of order or corrupt "
				    "(%.*s)", msg, SEQLEN, buf + off);
			/* (a number split over two reads goes unchecked) */
			if ((size_t)(got - off) >= size - at) {
				off += (ssize_t)(size - at);
				at = 0;
				msg++;
			} else {
				at += (size_t)(got - off);
				off = got;
			}
		}
		if (total < want && total + got >= want) {
			t = now_ns();
			if ((f = fopen(file, "w")) == NULL)
				err(1, "%s", file);
			fprintf(f, "%ld\n", t);
			if (fclose(f) == EOF)
				err(1, "%s", file);
		}
		total += got;
	}
	if (total != want)
		errx(1, "%ld bytes, not %ld (%ld messages of %zu)", total, want,
		    n, size);
}

static void
receiver(const char *path, long n, size_t size)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	char *buf;
	long t0 = 0, t1 = 0, i = 0;
	int s, k, got;

	if ((buf = malloc((size_t)MAXMSG * BATCH)) == NULL)
		err(1, "malloc");
	s = bind_to(path);
	memset(mm, 0, sizeof(mm));
	for (k = 0; k < BATCH; k++) {
		iov[k].iov_base = buf + (size_t)k * MAXMSG;
		iov[k].iov_len = MAXMSG;
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	while (i < n) {
		got = recvmmsg(s, mm, (unsigned)(n - i < BATCH ? n - i : BATCH),
		    MSG_WAITFORONE, NULL);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			err(1, "recvmmsg");
		}
		if (i == 0)
			t0 = now_ns();
		for (k = 0; k < got; k++, i++) {
			if (mm[k].msg_len == 0 && type == SOCK_SEQPACKET)
				errx(1, "EOF after %ld of %ld messages", i, n);
			if (mm[k].msg_len != size ||
			    (mm[k].msg_hdr.msg_flags & MSG_TRUNC))
				errx(1, "message %ld: %u bytes, not %zu", i,
				    mm[k].msg_len, size);
			if (seq_ok(iov[k].iov_base, i) != 0)
				errx(1, "message %ld: out of order or corrupt "
				    "(%.*s)", i, SEQLEN,
				    (char *)iov[k].iov_base);
		}
	}
	t1 = now_ns();
	if (type == SOCK_SEQPACKET) {
		/* Nothing more may come: the next read must be the EOF. */
		ssize_t r;

		while ((r = recv(s, buf, MAXMSG, 0)) == -1 && errno == EINTR)
			;
		if (r == -1)
			err(1, "recv");
		if (r != 0)
			errx(1, "a message after the last of %ld", n);
	}
	printf("%ld %ld\n", t0, t1);
}

static void
make_lines(long n, size_t size)
{
	char *buf;
	long i;

	if ((buf = malloc(size + 1)) == NULL)
		err(1, "malloc");
	buf[size] = '\n';
	for (i = 0; i < n; i++) {
		fill(buf, i, size);
		if (fwrite(buf, size + 1, 1, stdout) != 1)
			err(1, "stdout");
	}
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

/* recvmmsg -> out: writev(2) (to stdout) or sendmmsg(2) (to a socket). */
static void
pump(int in, int out, int out_is_sock)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	char *buf;
	int k, got, eof = 0;
	ssize_t w;

	if ((buf = malloc((size_t)MAXMSG * BATCH)) == NULL)
		err(1, "malloc");
	memset(mm, 0, sizeof(mm));
	for (;;) {
		for (k = 0; k < BATCH; k++) {
			iov[k].iov_base = buf + (size_t)k * MAXMSG;
			iov[k].iov_len = MAXMSG;
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
		}
		if ((got = recvmmsg(in, mm, BATCH, MSG_WAITFORONE,
		    NULL)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "recvmmsg");
		}
		for (k = 0; k < got; k++) {
			if (mm[k].msg_hdr.msg_flags & MSG_TRUNC)
				errx(1, "a message over %d bytes", MAXMSG);
			/* A seqpacket EOF reads as an empty message. */
			if (mm[k].msg_len == 0 && type == SOCK_SEQPACKET) {
				eof = 1;
				got = k;
				break;
			}
			iov[k].iov_len = mm[k].msg_len;
		}
		if (out_is_sock)
			send_all(out, mm, got);
		else {
			struct iovec *v = iov;
			int left = got;

			while (left > 0) {
				if ((w = writev(out, v, left)) == -1) {
					if (errno == EINTR)
						continue;
					err(1, "writev");
				}
				for (; left > 0 && (size_t)w >= v->iov_len;
				    left--, v++)
					w -= (ssize_t)v->iov_len;
				if (left > 0) {
					v->iov_base = (char *)v->iov_base + w;
					v->iov_len -= (size_t)w;
				}
			}
		}
		if (eof)
			break;
	}
	free(buf);
}

static void
probe_recv(const char *path)
{
	int s = bind_to(path);

	if (type == SOCK_SEQPACKET && shutdown(s, SHUT_WR) == -1)
		err(1, "shutdown");
	pump(s, 1, 0);
}

static void
line_sender(const char *path)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct stat st;
	char *buf, *p, *end, *nl;
	size_t len = 0, cap;
	ssize_t r;
	int s, k;

	/* All of stdin first: a file is read at once, not line by line. */
	cap = 1 << 20;
	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
		cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		err(1, "malloc");
	for (;;) {
		if (len == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			err(1, "realloc");
		if ((r = read(0, buf + len, cap - len)) == 0)
			break;
		if (r < 0 && errno != EINTR)
			err(1, "read");
		if (r > 0)
			len += (size_t)r;
	}
	s = connect_to(path);
	memset(mm, 0, sizeof(mm));
	for (k = 0; k < BATCH; k++) {
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	for (p = buf, end = buf + len; p < end; ) {
		for (k = 0; k < BATCH && p < end; k++) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			iov[k].iov_base = p;
			iov[k].iov_len = (size_t)(nl - p);
			p = nl + 1;
		}
		send_all(s, mm, k);
	}
	if (type == SOCK_SEQPACKET) {
		if (shutdown(s, SHUT_WR) == -1)
			err(1, "shutdown");
		drain(s);
	}
}

struct leg {
	int	from;
	int	to;
};

static void *
relay_leg(void *arg)
{
	const struct leg *l = arg;

	pump(l->from, l->to, 1);
	if (shutdown(l->to, SHUT_WR) == -1 && errno != ENOTCONN)
		err(1, "shutdown");
	return NULL;
}

static void
probe_relay(const char *front, const char *back)
{
	struct leg up, down;
	pthread_t t;
	int f, b;

	if (type == SOCK_DGRAM) {
		b = connect_to(back);
		f = bind_to(front);
		pump(f, b, 1);		/* until killed */
		return;
	}
	f = bind_to(front);
	b = connect_to(back);
	up.from = f, up.to = b;
	down.from = b, down.to = f;
	if ((errno = pthread_create(&t, NULL, relay_leg, &down)) != 0)
		err(1, "pthread_create");
	relay_leg(&up);
	if ((errno = pthread_join(t, NULL)) != 0)
		err(1, "pthread_join");
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: msg -s [-q] [-n count] [-z size] path\n"
	    "       msg -c -n count -z size -o file\n"
	    "       msg -r [-q] [-n count] [-z size] path\n"
	    "       msg -m [-n count] [-z size]\n"
	    "       msg -P [-q] path\n"
	    "       msg -L [-q] path\n"
	    "       msg -R [-q] front back\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *ofile = NULL;
	long n = 200000, size = 64;
	int ch, mode = 0, args;

	while ((ch = getopt(argc, argv, "cLmn:o:PqRrsz:")) != -1) {
		switch (ch) {
		case 'c':
		case 'L':
		case 'm':
		case 'P':
		case 'R':
		case 'r':
		case 's':
			if (mode)
				usage();
			mode = ch;
			break;
		case 'n':
			n = number(optarg, 1, 1000000000);
			break;
		case 'o':
			ofile = optarg;
			break;
		case 'q':
			type = SOCK_SEQPACKET;
			break;
		case 'z':
			size = number(optarg, SEQLEN + 1, MAXMSG);
			break;
		default:
			usage();
		}
	}
	args = mode == 'R' ? 2 : mode == 'c' || mode == 'm' ? 0 : 1;
	if (!mode || argc - optind != args || (mode == 'c' && !ofile))
		usage();
	/* A dead peer shows as EPIPE, not as our silent death. */
	signal(SIGPIPE, SIG_IGN);
	switch (mode) {
	case 's':
		sender(argv[optind], n, (size_t)size);
		break;
	case 'c':
		counter(n, (size_t)size, ofile);
		break;
	case 'r':
		receiver(argv[optind], n, (size_t)size);
		break;
	case 'm':
		make_lines(n, (size_t)size);
		break;
	case 'P':
		probe_recv(argv[optind]);
		break;
	case 'L':
		line_sender(argv[optind]);
		break;
	case 'R':
		probe_relay(argv[optind], argv[optind + 1]);
		break;
	}
	return 0;
}
