/* trace.c: what ucat sees of the traffic, numbered by connection, told to -x and --pcap. */
#include "config.h"

#include "ucat.h"

static unsigned long	conns;		/* connections numbered so far */
static bool		open_conn;	/* the last one numbered is not closed */

/* Dumping or capturing: every byte must pass through ucat's memory. */
bool
trace_on(void)
{
	return dump_on() || pcap_on();
}

/* The number of the current connection, from 1. */
unsigned long
trace_number(void)
{
	return conns;
}

/* A new connection, numbered; the event that made it follows. */
void
trace_connect(void)
{
	conns++;
	open_conn = true;
}

/* The current connection: numbered now if no connection event did. */
static void
numbered(void)
{
	if (!open_conn)
		conns++;
	open_conn = true;
}

/*
 * A session starts: numbered if no connection event numbered it.  stream:
 * bytes, else messages; gt_client: '>' goes from the client (the side that
 * connected) to the server.
 */
void
trace_begin(bool stream, bool gt_client)
{
	numbered();
	pcap_begin(conns, stream, gt_client);
}

/* A chunk that moved the way of mark: see dump_chunk. */
void
trace_chunk(char mark, const char *p, size_t n, bool message, uint64_t at)
{
	dump_chunk(mark, p, n, message, at);
	pcap_chunk(mark, p, n);
}

/* The way of mark has no more data; shut: the side it goes to was told
 * so (a half-close; not with --no-shutdown). */
void
trace_eof(char mark, bool shut)
{
	dump_event("%c end of data", mark);
	if (shut)
		pcap_fin(mark);
}

/* The side that sent the way of mark, name, reset the connection. */
void
trace_reset(char mark, const char *name)
{
	dump_event("reset by %s", name);
	pcap_reset(mark);
}

/* A relay's TARGET could not be reached for this client (a stream's
 * capture shows a refused connection); the session is over. */
void
trace_refused(bool stream)
{
	numbered();
	if (stream)
		pcap_refused(conns);
	trace_end();
}

/* The session is over. */
void
trace_end(void)
{
	dump_event("closed");
	pcap_end();
	open_conn = false;
}
