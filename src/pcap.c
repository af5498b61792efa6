/* pcap.c: --pcap, the traffic as a capture Wireshark decodes: TCP or UDP over IPv4 loopback. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
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

static int		 pcap_fd = -1;
static const char	*pcap_name;
/* A capture that fails is warned of once by a server and its children. */
static volatile char	*warned;
static uint16_t		 server_port;
/* A packet must fit one write(2) that no other writer can split: a pipe
 * takes PIPE_BUF bytes whole, a file in append mode any write whole. */
static bool		 regular;
static size_t		 ip_limit;
static uint32_t		 run;		/* R of the client address */

static struct {
	bool		 on;
	bool		 stream;	/* TCP; else each message one UDP
					 * datagram */
	int		 reset;		/* the side that reset; -1: none */
	int		 gt;		/* the side '>' comes from */
	uint16_t	 ip_id;
	struct side	 side[2];
} conn;

/* Records gathered for one write: their headers, and iovecs of headers
 * and data in turn. */
static unsigned char	 heads[BATCH][HEAD_MAX];
static struct iovec	 iov[2 * BATCH];
static int		 nrec;
static struct timespec	 now;

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

/* All of iov in writes that nothing interleaves with: one for a file, one
 * per record for a pipe.  A failure is said once, and the capture stops;
 * the traffic goes on. */
static void
flush(void)
{
	struct iovec *v = iov;
	int left = 2 * nrec, n;
	ssize_t w;

	while (left > 0 && pcap_fd != -1) {
		n = regular ? left : 2;
		left -= n;
		while (n > 0) {
			w = writev(pcap_fd, v, n);
			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (once(warned))
					warn("--pcap %s", pcap_name);
				pcap_fd = -1;
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
	nrec = 0;
}

/*
 * A record of hlen bytes of headers and n of data, len long as it was;
 * returns where its packet's headers go.
 */
static unsigned char *
record(size_t hlen, const void *data, size_t n, size_t len)
{
	unsigned char *h;
	struct rec_head r;

	if (nrec == BATCH)
		flush();
	h = heads[nrec];
	r.sec = (uint32_t)now.tv_sec;
	r.usec = (uint32_t)(now.tv_nsec / 1000);
	r.caplen = (uint32_t)(hlen + n);
	r.len = (uint32_t)(hlen + len);
	memcpy(h, &r, sizeof(r));
	iov[2 * nrec].iov_base = h;
	iov[2 * nrec].iov_len = sizeof(r) + hlen;
	iov[2 * nrec + 1].iov_base = (void *)(uintptr_t)data;
	iov[2 * nrec + 1].iov_len = n;
	nrec++;
	return h + sizeof(r);
}

static void
ip_head(unsigned char *h, size_t total, int proto, uint16_t frag,
    const struct side *from, const struct side *to)
{
	put16(h, 0x4500);
	put16(h + 2, (uint16_t)total);
	put16(h + 4, conn.ip_id);
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
tcp_segment(int from, unsigned char flags, const char *data, size_t n)
{
	struct side *a = &conn.side[from], *b = &conn.side[!from];
	size_t thl = TCP_HLEN + (flags & TCP_SYN ? SYN_OPTLEN : 0);
	unsigned char *h = record(IP_HLEN + thl, data, n, n), *t = h + IP_HLEN;

	conn.ip_id++;
	ip_head(h, IP_HLEN + thl + n, PROTO_TCP, IP_DF, a, b);
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
		put16(t + 22, (uint16_t)(ip_limit - IP_HLEN - TCP_HLEN));
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
tcp_data(int from, const char *p, size_t n)
{
	size_t mss = ip_limit - IP_HLEN - TCP_HLEN, len;

	for (; n > 0; p += len, n -= len) {
		len = n < mss ? n : mss;
		tcp_segment(from, TCP_ACK | (len == n ? TCP_PSH : 0), p, len);
	}
	tcp_segment(!from, TCP_ACK, NULL, 0);
}

static void
tcp_fin(int from)
{
	conn.side[from].fin = true;
	tcp_segment(from, TCP_FIN | TCP_ACK, NULL, 0);
	tcp_segment(!from, TCP_ACK, NULL, 0);
}

/*
 * A message from one side as a UDP datagram: cut to what one can hold,
 * with its real length in the record, and in fragments where a packet
 * must fit a pipe's atomic write (readers put them together again).
 */
static void
udp_message(int from, const char *p, size_t n)
{
	struct side *a = &conn.side[from], *b = &conn.side[!from];
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
	conn.ip_id++;
	/* Fragments carry multiples of 8 bytes; the first, the header. */
	room = IP_HLEN + total <= ip_limit ? total :
	    (ip_limit - IP_HLEN) & ~(size_t)7;
	for (off = 0; off < total; off += len) {
		len = total - off < room ? total - off : room;
		hl = IP_HLEN + (off == 0 ? UDP_HLEN : 0);
		frag = (uint16_t)(off / 8) | (off + len < total ? IP_MF : 0);
		data = off == 0 ? p : p + off - UDP_HLEN;
		dlen = len - (hl - IP_HLEN);
		h = record(hl, data, dlen, dlen +
		    (off + len == total ? n - shown : 0));
		ip_head(h, IP_HLEN + len, PROTO_UDP, frag, a, b);
		if (off == 0)
			memcpy(h + IP_HLEN, u, UDP_HLEN);
	}
}

static int
side_of(char mark)
{
	return mark == '>' ? conn.gt : !conn.gt;
}

static void
stamp(void)
{
	clock_gettime(CLOCK_REALTIME, &now);
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
write_head(void)
{
	struct file_head fh;

	memset(&fh, 0, sizeof(fh));
	fh.magic = PCAP_MAGIC;
	fh.major = PCAP_MAJOR;
	fh.minor = PCAP_MINOR;
	fh.snaplen = SNAPLEN;
	fh.linktype = LINKTYPE_RAW;
	return write(pcap_fd, &fh, sizeof(fh)) == (ssize_t)sizeof(fh) ? 0 :
	    -1;
}

/*
 * Opens FILE for --pcap ("-" is stdout), server on port: created 0600,
 * never through a symlink, and a file header written, unless FILE already
 * holds a capture of this kind to append to.  -1 with errno on failure;
 * -2: FILE holds something else (or, for stdout, anything at all).
 */
int
pcap_open(const char *path, unsigned short port, char *why, size_t size)
{
	struct stat st;
	int rc = -1, saved;

	pcap_name = path;
	server_port = port;
	warned = once_flag();
	run = 1 + (uint32_t)getpid() % 255;
	why[0] = '\0';
	/* Read too: an existing capture's header and records are looked
	 * at. */
	if (strcmp(path, "-") == 0)
		pcap_fd = STDOUT_FILENO;
	else if ((pcap_fd = place_append(path, O_RDWR, why, size)) == -1)
		return -1;
	if (fstat(pcap_fd, &st) == -1)
		goto fail;
	regular = S_ISREG(st.st_mode);
	ip_limit = regular ? IP_MAX : PIPE_BUF - sizeof(struct rec_head);
	if (!regular)
		rc = write_head();
	else if (pcap_fd == STDOUT_FILENO)
		rc = st.st_size > 0 ? -2 : write_head();
	else {
		/* Two ucats starting on one new file write one header. */
		(void)flock(pcap_fd, LOCK_EX);
		if (fstat(pcap_fd, &st) == -1)
			rc = -1;
		else if (st.st_size > 0)
			rc = same_kind(pcap_fd, &st);
		else
			rc = write_head();
		(void)flock(pcap_fd, LOCK_UN);
	}
	if (rc == 0)
		return 0;
fail:
	saved = errno;
	if (pcap_fd != STDOUT_FILENO)
		close(pcap_fd);
	pcap_fd = -1;
	errno = saved;
	return rc == -2 ? -2 : -1;
}

bool
pcap_on(void)
{
	return pcap_fd != -1;
}

/*
 * Connection number begins: a stream's handshake, the client's SYN and the
 * server's answer.  gt_client: '>' chunks come from the client (else from
 * the server).
 */
static void
conn_setup(unsigned long number, bool stream, bool gt_client)
{
	uint32_t isn;

	stamp();
	/* Four a microsecond, as RFC 793's clock. */
	isn = (uint32_t)now.tv_sec * 4000000u + (uint32_t)(now.tv_nsec / 250);
	memset(&conn, 0, sizeof(conn));
	conn.on = true;
	conn.stream = stream;
	conn.reset = -1;
	conn.gt = gt_client ? CLIENT : SERVER;
	conn.side[SERVER].ip = SERVER_IP;
	conn.side[SERVER].port = server_port;
	conn.side[SERVER].seq = isn ^ 0x5bd1e995u;
	conn.side[CLIENT].ip = CLIENT_NET | run << 16 | (number & 0xffff);
	conn.side[CLIENT].port = (uint16_t)(CLIENT_PORT + (number - 1) %
	    CLIENT_PORTS);
	conn.side[CLIENT].seq = isn;
}

void
pcap_begin(unsigned long number, bool stream, bool gt_client)
{
	if (pcap_fd == -1)
		return;
	conn_setup(number, stream, gt_client);
	if (!stream)
		return;
	tcp_segment(CLIENT, TCP_SYN, NULL, 0);
	tcp_segment(SERVER, TCP_SYN | TCP_ACK, NULL, 0);
	tcp_segment(CLIENT, TCP_ACK, NULL, 0);
	flush();
}

/* Connection number's server could not be reached (a relay's TARGET):
 * the client's SYN, and a RST for an answer, as a refused TCP connect
 * shows. */
void
pcap_refused(unsigned long number)
{
	if (pcap_fd == -1)
		return;
	conn_setup(number, true, true);
	tcp_segment(CLIENT, TCP_SYN, NULL, 0);
	conn.side[SERVER].seq = 0;
	tcp_segment(SERVER, TCP_RST | TCP_ACK, NULL, 0);
	flush();
	conn.on = false;
}

/* n bytes that moved the way of mark ('>' or '<'). */
void
pcap_chunk(char mark, const char *p, size_t n)
{
	if (pcap_fd == -1 || !conn.on)
		return;
	stamp();
	if (conn.stream)
		tcp_data(side_of(mark), p, n);
	else
		udp_message(side_of(mark), p, n);
	flush();
}

/* The end of data the way of mark: a FIN. */
void
pcap_fin(char mark)
{
	int from = side_of(mark);

	if (pcap_fd == -1 || !conn.on || !conn.stream || conn.reset != -1 ||
	    conn.side[from].fin)
		return;
	stamp();
	tcp_fin(from);
	flush();
}

/* The side mark's data came from reset the connection.  What ucat had
 * read still goes to the other side: the RST ends the connection after
 * it. */
void
pcap_reset(char mark)
{
	if (conn.reset == -1)
		conn.reset = side_of(mark);
}

/* The connection is over: a RST from the side that reset it, or a FIN
 * from each side that said none yet. */
void
pcap_end(void)
{
	int i;

	if (pcap_fd == -1 || !conn.on)
		return;
	stamp();
	if (conn.stream && conn.reset != -1)
		tcp_segment(conn.reset, TCP_RST | TCP_ACK, NULL, 0);
	for (i = CLIENT; i <= SERVER && conn.stream && conn.reset == -1; i++)
		if (!conn.side[i].fin)
			tcp_fin(i);
	flush();
	conn.on = false;
}
