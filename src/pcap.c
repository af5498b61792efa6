/* pcap.c: --pcap, the traffic as a capture Wireshark decodes: TCP or UDP over IPv4 loopback. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ucat.h"

/*
 * A classic pcap file: microsecond times, the writer's byte order (every
 * reader takes either), and link type RAW, an IPv4 packet with no link
 * header before it.
 */
#define PCAP_MAGIC	0xa1b2c3d4u
#define PCAP_MAJOR	2
#define PCAP_MINOR	4
#define LINKTYPE_RAW	101
#define SNAPLEN		65535

#define IP_MAX		65535		/* an IPv4 packet's largest length */
#define IP_HLEN		20
#define TCP_HLEN	20
#define SYN_OPTLEN	8		/* MSS, a NOP, the window scale */
#define UDP_HLEN	8
#define UDP_MAX		(IP_MAX - IP_HLEN - UDP_HLEN)

#define PROTO_TCP	6
#define PROTO_UDP	17
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define IP_DF		0x4000
#define IP_MF		0x2000

/* The window every segment offers, scaled by 2^WSCALE: 8 MiB, more than
 * one chunk of ucat's is ever in flight. */
#define WINDOW		65535
#define WSCALE		7

/*
 * The server is 127.0.0.1.  Connection N's client is 127.R.N/256.N%256
 * (N modulo 65536), where R, 1 to 255, is the run of ucat's own (from its
 * pid), on a port of Linux's ephemeral range, 32768 to 60999: the
 * connections of concurrent -k children, and of runs appended to one
 * file, never share an address, which is what tells IP fragments apart.
 * Each connection's sequence numbers start from the clock, as a kernel's
 * do, so that two runs on one address are still two connections.
 */
#define SERVER_IP	0x7f000001u
#define CLIENT_NET	0x7f000000u
#define CLIENT_PORT	32768
#define CLIENT_PORTS	28232

struct file_head {
	uint32_t	magic;
	uint16_t	major;
	uint16_t	minor;
	int32_t		zone;
	uint32_t	sigfigs;
	uint32_t	snaplen;
	uint32_t	linktype;
};

struct rec_head {
	uint32_t	sec;
	uint32_t	usec;
	uint32_t	caplen;
	uint32_t	len;		/* as it was: more when cut */
};

/* A record's header and the packet's headers, written before its data. */
#define HEAD_MAX	(sizeof(struct rec_head) + IP_HLEN + TCP_HLEN + \
			    SYN_OPTLEN)
/* Enough records for one chunk cut to fit a pipe's atomic write. */
#define BATCH		96

enum { CLIENT, SERVER };

struct side {
	uint32_t	ip;
	uint16_t	port;
	uint32_t	seq;		/* the next byte's sequence number */
	bool		fin;
};

/* A capture being written: its file, and the connection of the moment. */
struct pcap {
	int		 fd;
	const char	*name;
	/* A capture that fails is warned of once by a server and its
	 * children. */
	volatile char	*warned;
	uint16_t	 server_port;
	/* A packet must fit one write(2) that no other writer can split: a
	 * pipe takes PIPE_BUF bytes whole, a file in append mode any write
	 * whole. */
	bool		 regular;
	size_t		 ip_limit;
	uint32_t	 run;		/* R of the client address */
	struct {
		bool		 on;
		bool		 stream;	/* TCP; else each message one
						 * UDP datagram */
		int		 reset;		/* the side that reset; -1:
						 * none */
		int		 gt;		/* the side '>' comes from */
		uint16_t	 ip_id;
		struct side	 side[2];
	} conn;
	/* Records gathered for one write: their headers, and iovecs of
	 * headers and data in turn. */
	unsigned char	 heads[BATCH][HEAD_MAX];
	struct iovec	 iov[2 * BATCH];
	int		 nrec;
	struct timespec	 now;
};

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * The Internet checksum (RFC 1071), summed in the machine's own order and
 * stored the same way, which makes it right in network order.  Every part
 * but the last has an even length.
 */
static uint64_t
csum_add(uint64_t acc, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t w;
	uint16_t h;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		n -= 2;
	}
	if (n == 1) {
		h = 0;
		memcpy(&h, p, 1);
		acc += h;
	}
	return acc;
}

static void
csum_put(unsigned char *field, uint64_t acc)
{
	uint16_t c;

	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	c = (uint16_t)~acc;
	memcpy(field, &c, 2);
}

/* The TCP and UDP checksums cover a pseudo-header of the addresses. */
static uint64_t
csum_pseudo(const struct side *from, const struct side *to, int proto,
    size_t len)
{
	unsigned char ph[12];

	put32(ph, from->ip);
	put32(ph + 4, to->ip);
	ph[8] = 0;
	ph[9] = (unsigned char)proto;
	put16(ph + 10, (uint16_t)len);
	return csum_add(0, ph, sizeof(ph));
}

/* All of c->iov in writes that nothing interleaves with: one for a file, one
 * per record for a pipe.  A failure is said once, and the capture stops;
 * the traffic goes on. */
static void
flush(struct pcap *c)
{
	struct iovec *v = c->iov;
	int left = 2 * c->nrec, n;
	ssize_t w;

	while (left > 0 && c->fd != -1) {
		n = c->regular ? left : 2;
		left -= n;
		while (n > 0) {
			w = writev(c->fd, v, n);
			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (once(c->warned))
					warn("--pcap %s", c->name);
				if (c->fd > STDERR_FILENO)
					close(c->fd);
				c->fd = -1;
				break;
			}
			for (; n > 0 && (size_t)w >= v->iov_len; v++, n--)
				w -= (ssize_t)v->iov_len;
			if (n > 0) {
				v->iov_base = (char *)v->iov_base + w;
				v->iov_len -= (size_t)w;
			}
		}
	}
	c->nrec = 0;
}

/*
 * A record of hlen bytes of headers and n of data, len long as it was;
 * returns where its packet's headers go.
 */
static unsigned char *
record(struct pcap *c, size_t hlen, const void *data, size_t n, size_t len)
{
	unsigned char *h;
	struct rec_head r;

	if (c->nrec == BATCH)
		flush(c);
	h = c->heads[c->nrec];
	r.sec = (uint32_t)c->now.tv_sec;
	r.usec = (uint32_t)(c->now.tv_nsec / 1000);
	r.caplen = (uint32_t)(hlen + n);
	r.len = (uint32_t)(hlen + len);
	memcpy(h, &r, sizeof(r));
	c->iov[2 * c->nrec].iov_base = h;
	c->iov[2 * c->nrec].iov_len = sizeof(r) + hlen;
	c->iov[2 * c->nrec + 1].iov_base = (void *)(uintptr_t)data;
	c->iov[2 * c->nrec + 1].iov_len = n;
	c->nrec++;
	return h + sizeof(r);
}

static void
ip_head(struct pcap *c, unsigned char *h, size_t total, int proto, uint16_t frag,
    const struct side *from, const struct side *to)
{
	put16(h, 0x4500);
	put16(h + 2, (uint16_t)total);
	put16(h + 4, c->conn.ip_id);
	put16(h + 6, frag);
	h[8] = 64;
	h[9] = (unsigned char)proto;
	put16(h + 10, 0);
	put32(h + 12, from->ip);
	put32(h + 16, to->ip);
	csum_put(h + 10, csum_add(0, h, IP_HLEN));
}

/* One TCP segment from side `from`: its flags and n bytes of data. */
static void
tcp_segment(struct pcap *c, int from, unsigned char flags, const char *data, size_t n)
{
	struct side *a = &c->conn.side[from], *b = &c->conn.side[!from];
	size_t thl = TCP_HLEN + (flags & TCP_SYN ? SYN_OPTLEN : 0);
	unsigned char *h = record(c, IP_HLEN + thl, data, n, n), *t = h + IP_HLEN;

	c->conn.ip_id++;
	ip_head(c, h, IP_HLEN + thl + n, PROTO_TCP, IP_DF, a, b);
	put16(t, a->port);
	put16(t + 2, b->port);
	put32(t + 4, a->seq);
	put32(t + 8, flags & TCP_ACK ? b->seq : 0);
	t[12] = (unsigned char)(thl / 4 << 4);
	t[13] = flags;
	put16(t + 14, WINDOW);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (flags & TCP_SYN) {
		t[20] = 2;		/* MSS */
		t[21] = 4;
		put16(t + 22, (uint16_t)(c->ip_limit - IP_HLEN - TCP_HLEN));
		t[24] = 1;		/* NOP */
		t[25] = 3;		/* window scale */
		t[26] = 3;
		t[27] = WSCALE;
	}
	csum_put(t + 16, csum_add(csum_add(csum_pseudo(a, b, PROTO_TCP,
	    thl + n), t, thl), data, n));
	a->seq += (uint32_t)n + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
}

/* Bytes from one side: segments that fit a packet, and the other side's
 * acknowledgement of them all. */
static void
tcp_data(struct pcap *c, int from, const char *p, size_t n)
{
	size_t mss = c->ip_limit - IP_HLEN - TCP_HLEN, len;

	for (; n > 0; p += len, n -= len) {
		len = n < mss ? n : mss;
		tcp_segment(c, from, TCP_ACK | (len == n ? TCP_PSH : 0), p, len);
	}
	tcp_segment(c, !from, TCP_ACK, NULL, 0);
}

static void
tcp_fin(struct pcap *c, int from)
{
	c->conn.side[from].fin = true;
	tcp_segment(c, from, TCP_FIN | TCP_ACK, NULL, 0);
	tcp_segment(c, !from, TCP_ACK, NULL, 0);
}

/*
 * A message from one side as a UDP datagram: cut to what one can hold,
 * with its real length in the record, and in fragments where a packet
 * must fit a pipe's atomic write (readers put them together again).
 */
static void
udp_message(struct pcap *c, int from, const char *p, size_t n)
{
	struct side *a = &c->conn.side[from], *b = &c->conn.side[!from];
	size_t shown = n < UDP_MAX ? n : UDP_MAX;
	size_t total = UDP_HLEN + shown, room, off, len, hl;
	unsigned char u[UDP_HLEN], *h;
	const char *data;
	size_t dlen;
	uint16_t frag;

	put16(u, a->port);
	put16(u + 2, b->port);
	put16(u + 4, (uint16_t)total);
	put16(u + 6, 0);
	/* A cut datagram's checksum cannot be checked: 0 says none. */
	if (shown == n) {
		csum_put(u + 6, csum_add(csum_add(csum_pseudo(a, b, PROTO_UDP,
		    total), u, UDP_HLEN), p, n));
		if (u[6] == 0 && u[7] == 0)
			u[6] = u[7] = 0xff;
	}
	c->conn.ip_id++;
	/* Fragments carry multiples of 8 bytes; the first, the header. */
	room = IP_HLEN + total <= c->ip_limit ? total :
	    (c->ip_limit - IP_HLEN) & ~(size_t)7;
	for (off = 0; off < total; off += len) {
		len = total - off < room ? total - off : room;
		hl = IP_HLEN + (off == 0 ? UDP_HLEN : 0);
		frag = (uint16_t)(off / 8) | (off + len < total ? IP_MF : 0);
		data = off == 0 ? p : p + off - UDP_HLEN;
		dlen = len - (hl - IP_HLEN);
		h = record(c, hl, data, dlen, dlen +
		    (off + len == total ? n - shown : 0));
		ip_head(c, h, IP_HLEN + len, PROTO_UDP, frag, a, b);
		if (off == 0)
			memcpy(h + IP_HLEN, u, UDP_HLEN);
	}
}

static int
side_of(const struct pcap *c, char mark)
{
	return mark == '>' ? c->conn.gt : !c->conn.gt;
}

static void
stamp(struct pcap *c)
{
	clock_gettime(CLOCK_REALTIME, &c->now);
}

/* Whether the records of a capture end where the file ends: a write cut
 * short (a full disk) leaves half a record, after which no reader could
 * find the next one. */
static bool
whole_records(int fd, off_t size)
{
	struct rec_head r;
	off_t at = sizeof(struct file_head);

	while (at < size) {
		if (pread(fd, &r, sizeof(r), at) != (ssize_t)sizeof(r) ||
		    r.caplen > SNAPLEN)
			return false;
		at += (off_t)(sizeof(r) + r.caplen);
	}
	return at == size;
}

/* An existing capture takes more records only if it is of ucat's kind,
 * and whole: 0, -1 with errno, or -2. */
static int
same_kind(int fd, const struct stat *st)
{
	struct file_head fh;
	bool ok = false;

	if (pread(fd, &fh, sizeof(fh), 0) == (ssize_t)sizeof(fh))
		ok = fh.magic == PCAP_MAGIC && fh.major == PCAP_MAJOR &&
		    fh.linktype == LINKTYPE_RAW && fh.snaplen >= SNAPLEN &&
		    whole_records(fd, st->st_size);
	return ok ? 0 : -2;
}

static int
write_head(int fd)
{
	struct file_head fh;

	memset(&fh, 0, sizeof(fh));
	fh.magic = PCAP_MAGIC;
	fh.major = PCAP_MAJOR;
	fh.minor = PCAP_MINOR;
	fh.snaplen = SNAPLEN;
	fh.linktype = LINKTYPE_RAW;
	return write(fd, &fh, sizeof(fh)) == (ssize_t)sizeof(fh) ? 0 : -1;
}

/* A file header on fd, unless it already holds a capture of this kind to
 * append to (-2 if it holds anything else). */
static int
begin_file(int fd, const struct stat *st)
{
	struct stat now;
	int rc;

	if (!S_ISREG(st->st_mode))
		return write_head(fd);
	if (fd == STDOUT_FILENO)
		return st->st_size > 0 ? -2 : write_head(fd);
	/* Two ucats starting on one new file write one header. */
	(void)flock(fd, LOCK_EX);
	if (fstat(fd, &now) == -1)
		rc = -1;
	else if (now.st_size > 0)
		rc = same_kind(fd, &now);
	else
		rc = write_head(fd);
	(void)flock(fd, LOCK_UN);
	return rc;
}

/*
 * Opens FILE for --pcap ("-" is stdout), server on port: created 0600,
 * never through a symlink (place_append), and a file header written,
 * unless FILE already holds a capture of this kind to append to.  0 with
 * *out the capture; -1 with errno (and why says so where ucat refuses the
 * file); -2: FILE holds something else (or, for stdout, anything at all).
 */
int
pcap_open(struct pcap **out, const char *path, unsigned short port,
    char *why, size_t size)
{
	struct pcap *c;
	struct stat st;
	int rc = -1, saved;

	why[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->name = path;
	c->server_port = port;
	c->warned = once_flag();
	c->run = 1 + (uint32_t)getpid() % 255;
	/* Read too: an existing capture's header and records are looked
	 * at. */
	if (strcmp(path, "-") == 0)
		c->fd = STDOUT_FILENO;
	else if ((c->fd = place_append(path, O_RDWR, why, size)) == -1) {
		free(c);
		return -1;
	}
	if (fstat(c->fd, &st) == 0) {
		c->regular = S_ISREG(st.st_mode);
		c->ip_limit = c->regular ? IP_MAX :
		    PIPE_BUF - sizeof(struct rec_head);
		rc = begin_file(c->fd, &st);
	}
	if (rc == 0) {
		*out = c;
		return 0;
	}
	saved = errno;
	if (c->fd != STDOUT_FILENO)
		close(c->fd);
	free(c);
	errno = saved;
	return rc;
}

/*
 * Connection number begins: a stream's handshake, the client's SYN and the
 * server's answer.  gt_client: '>' chunks come from the client (else from
 * the server).
 */
static void
conn_setup(struct pcap *c, unsigned long number, bool stream, bool gt_client)
{
	uint32_t isn;

	stamp(c);
	/* Four a microsecond, as RFC 793's clock. */
	isn = (uint32_t)c->now.tv_sec * 4000000u + (uint32_t)(c->now.tv_nsec / 250);
	memset(&c->conn, 0, sizeof(c->conn));
	c->conn.on = true;
	c->conn.stream = stream;
	c->conn.reset = -1;
	c->conn.gt = gt_client ? CLIENT : SERVER;
	c->conn.side[SERVER].ip = SERVER_IP;
	c->conn.side[SERVER].port = c->server_port;
	c->conn.side[SERVER].seq = isn ^ 0x5bd1e995u;
	c->conn.side[CLIENT].ip = CLIENT_NET | c->run << 16 | (number & 0xffff);
	c->conn.side[CLIENT].port = (uint16_t)(CLIENT_PORT + (number - 1) %
	    CLIENT_PORTS);
	c->conn.side[CLIENT].seq = isn;
}

void
pcap_begin(struct pcap *c, unsigned long number, bool stream, bool gt_client)
{
	if (c->fd == -1)
		return;
	conn_setup(c, number, stream, gt_client);
	if (!stream)
		return;
	tcp_segment(c, CLIENT, TCP_SYN, NULL, 0);
	tcp_segment(c, SERVER, TCP_SYN | TCP_ACK, NULL, 0);
	tcp_segment(c, CLIENT, TCP_ACK, NULL, 0);
	flush(c);
}

/* Connection number's server could not be reached (a relay's TARGET):
 * the client's SYN, and a RST for an answer, as a refused TCP connect
 * shows. */
void
pcap_refused(struct pcap *c, unsigned long number)
{
	if (c->fd == -1)
		return;
	conn_setup(c, number, true, true);
	tcp_segment(c, CLIENT, TCP_SYN, NULL, 0);
	c->conn.side[SERVER].seq = 0;
	tcp_segment(c, SERVER, TCP_RST | TCP_ACK, NULL, 0);
	flush(c);
	c->conn.on = false;
}

/* n bytes that moved the way of mark ('>' or '<'). */
void
pcap_chunk(struct pcap *c, char mark, const char *p, size_t n)
{
	if (c->fd == -1 || !c->conn.on)
		return;
	stamp(c);
	if (c->conn.stream)
		tcp_data(c, side_of(c, mark), p, n);
	else
		udp_message(c, side_of(c, mark), p, n);
	flush(c);
}

/* The end of data the way of mark: a FIN. */
void
pcap_fin(struct pcap *c, char mark)
{
	int from = side_of(c, mark);

	if (c->fd == -1 || !c->conn.on || !c->conn.stream || c->conn.reset != -1 ||
	    c->conn.side[from].fin)
		return;
	stamp(c);
	tcp_fin(c, from);
	flush(c);
}

/* The side mark's data came from reset the connection.  What ucat had
 * read still goes to the other side: the RST ends the connection after
 * it. */
void
pcap_reset(struct pcap *c, char mark)
{
	if (c->conn.reset == -1)
		c->conn.reset = side_of(c, mark);
}

/* The connection is over: a RST from the side that reset it, or a FIN
 * from each side that said none yet. */
void
pcap_end(struct pcap *c)
{
	int i;

	if (c->fd == -1 || !c->conn.on)
		return;
	stamp(c);
	if (c->conn.stream && c->conn.reset != -1)
		tcp_segment(c, c->conn.reset, TCP_RST | TCP_ACK, NULL, 0);
	for (i = CLIENT; i <= SERVER && c->conn.stream && c->conn.reset == -1; i++)
		if (!c->conn.side[i].fin)
			tcp_fin(c, i);
	flush(c);
	c->conn.on = false;
}

/* Done with the capture (a file's is closed). */
void
pcap_close(struct pcap *c)
{
	if (c->fd > STDERR_FILENO)
		close(c->fd);
	free(c);
}
