/* trace.c: what ucat sees of the traffic, numbered by connection, told to its observers (-x, --pcap). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>

#include "ucat.h"

/* Observing what dump and pcap say (either may be NULL): none of it yet. */
void
trace_init(struct trace *t, struct dump *dump, struct pcap *pcap)
{
	t->dump = dump;
	t->pcap = pcap;
	t->conns = 0;
	t->open_conn = false;
}

/* Dumping or capturing: every byte must pass through ucat's memory. */
bool
trace_on(const struct trace *t)
{
	return t->dump != NULL || t->pcap != NULL;
}

/* A new connection, numbered; the event that made it follows. */
void
trace_connect(struct trace *t)
{
	t->conns++;
	t->open_conn = true;
}

/* The current connection: numbered now if no connection event did. */
static void
numbered(struct trace *t)
{
	if (!t->open_conn)
		t->conns++;
	t->open_conn = true;
}

/* An event of the current connection, for the dump: "* [N] TIME what". */
void
trace_event(struct trace *t, const char *fmt, ...)
{
	va_list ap;

	if (t->dump == NULL)
		return;
	va_start(ap, fmt);
	dump_event(t->dump, t->conns, fmt, ap);
	va_end(ap);
}

/* "connected to ADDRESS", with the peer's pid, uid and gid where known. */
void
trace_connected(struct trace *t, int fd, const struct uaddr *ua)
{
	struct peer pc;

	if (t->dump == NULL)
		return;
	if (sock_peer(fd, ua, &pc) == 0)
		trace_event(t, "connected to %s: pid %ld uid %ld gid %ld",
		    ua->text, (long)pc.pid, (long)pc.uid, (long)pc.gid);
	else if (ua->family == AF_UNIX)
		trace_event(t, "connected to %s: no credentials", ua->text);
	else
		trace_event(t, "connected to %s", ua->text);
}

/*
 * A session starts: numbered if no connection event numbered it.  stream:
 * bytes, else messages; gt_client: '>' goes from the client (the side that
 * connected) to the server.
 */
void
trace_begin(struct trace *t, bool stream, bool gt_client)
{
	numbered(t);
	if (t->pcap != NULL)
		pcap_begin(t->pcap, t->conns, stream, gt_client);
}

/*
 * A chunk that was delivered the way of mark: a stream's n bytes at
 * offset at of that way, or (message) message number at.
 */
void
trace_chunk(struct trace *t, char mark, const char *p, size_t n,
    bool message, uint64_t at)
{
	if (t->dump != NULL)
		dump_chunk(t->dump, t->conns, mark, p, n, message, at);
	if (t->pcap != NULL)
		pcap_chunk(t->pcap, mark, p, n);
}

/* The way of mark has no more data; shut: the side it goes to was told
 * so (a half-close; not with --no-shutdown). */
void
trace_eof(struct trace *t, char mark, bool shut)
{
	trace_event(t, "%c end of data", mark);
	if (shut && t->pcap != NULL)
		pcap_fin(t->pcap, mark);
}

/* The side that sent the way of mark, name, reset the connection. */
void
trace_reset(struct trace *t, char mark, const char *name)
{
	trace_event(t, "reset by %s", name);
	if (t->pcap != NULL)
		pcap_reset(t->pcap, mark);
}

/* A relay's TARGET could not be reached for this client (a stream's
 * capture shows a refused connection); the session is over. */
void
trace_refused(struct trace *t, bool stream)
{
	numbered(t);
	if (stream && t->pcap != NULL)
		pcap_refused(t->pcap, t->conns);
	trace_end(t);
}

/* The session is over. */
void
trace_end(struct trace *t)
{
	trace_event(t, "closed");
	if (t->pcap != NULL)
		pcap_end(t->pcap);
	t->open_conn = false;
}

/* Done observing: the dump and the capture are closed. */
void
trace_close(struct trace *t)
{
	if (t->dump != NULL)
		dump_close(t->dump);
	if (t->pcap != NULL)
		pcap_close(t->pcap);
	t->dump = NULL;
	t->pcap = NULL;
}
