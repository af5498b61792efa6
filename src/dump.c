/* dump.c: -x, a hexdump -C of every chunk ucat moves, with its direction, connection and time. */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ucat.h"

/* One hexdump -C line: "%08x", 16 bytes in two groups, |ascii|, newline. */
#define LINE_MAX_LEN	80
/* A header or an event line. */
#define HEAD_MAX	(ADDR_TEXT_MAX + 160)

/* A dump being written. */
struct dump {
	int		 fd;		/* -1: given up */
	const char	*name;
	/* A dump that fails is warned of once by a server and its
	 * children. */
	volatile char	*warned;
};

/*
 * Opens FILE for -x ("-" is stderr): appended to, created 0600 (traffic
 * can be secret), never through a link (place_append).  NULL with errno
 * on failure, and why says so where ucat refuses the file.
 */
struct dump *
dump_open(const char *path, char *why, size_t size)
{
	struct dump *d;
	int saved;

	why[0] = '\0';
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->name = path;
	d->warned = once_flag();
	d->fd = strcmp(path, "-") == 0 ? STDERR_FILENO :
	    place_append(path, O_WRONLY, why, size);
	if (d->fd != -1)
		return d;
	saved = errno;
	free(d);
	errno = saved;
	return NULL;
}

/* Done with the dump (a file's is closed). */
void
dump_close(struct dump *d)
{
	if (d->fd > STDERR_FILENO)
		close(d->fd);
	free(d);
}

/* All of a block in one write(2): in an O_APPEND file, concurrent
 * clients' blocks never interleave.  A failure is said once; the traffic
 * goes on without the dump. */
static void
put(struct dump *d, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && d->fd != -1) {
		w = write(d->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (once(d->warned))
				warn("-x %s", d->name);
			if (d->fd > STDERR_FILENO)
				close(d->fd);
			d->fd = -1;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* "M [N] 2026-12-01T10:00:00.123456Z " */
static int
stamp(char *buf, size_t size, char mark, unsigned long number)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(buf, size, "%c [%lu] %s.%06ldZ ", mark, number, when,
	    ts.tv_nsec / 1000);
}

/* An event of connection number: "* [N] TIME what". */
void
dump_event(struct dump *d, unsigned long number, const char *fmt,
    va_list ap)
{
	char line[HEAD_MAX];
	int n;

	if (d->fd == -1)
		return;
	n = stamp(line, sizeof(line), '*', number);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	put(d, line, (size_t)n);
}

/* One hexdump -C line of n (at most 16) bytes at offset at. */
static size_t
hexline(char *out, const unsigned char *p, size_t n, uint64_t at)
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;
	size_t i;

	o += sprintf(o, "%08llx  ", (unsigned long long)at);
	for (i = 0; i < 16; i++) {
		if (i < n) {
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 15];
		} else {
			*o++ = ' ';
			*o++ = ' ';
		}
		*o++ = ' ';
		if (i == 7)
			*o++ = ' ';
	}
	*o++ = ' ';
	*o++ = '|';
	for (i = 0; i < n; i++)
		*o++ = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	*o++ = '|';
	*o++ = '\n';
	return (size_t)(o - out);
}

/*
 * A chunk that moved, mark '>' or '<': a stream's at its offset in that
 * direction, whose lines count from it (as hexdump -C -s prints them); a
 * message with its number, whose lines count from 0.
 */
void
dump_chunk(struct dump *d, unsigned long number, char mark, const char *p,
    size_t n, bool message, uint64_t at)
{
	char *block, *o;
	size_t i;
	uint64_t line;

	if (d->fd == -1)
		return;
	if ((block = malloc(HEAD_MAX + (n / 16 + 1) * LINE_MAX_LEN)) == NULL) {
		if (once(d->warned))
			warn("-x %s", d->name);
		return;
	}
	o = block + stamp(block, HEAD_MAX, mark, number);
	o += sprintf(o, "length=%zu %s=%llu\n", n, message ? "message" :
	    "offset", (unsigned long long)at);
	line = message ? 0 : at;
	for (i = 0; i < n; i += 16, line += 16)
		o += hexline(o, (const unsigned char *)p + i,
		    n - i < 16 ? n - i : 16, line);
	put(d, block, (size_t)(o - block));
	free(block);
}
