/* rules.c: what flags and addresses do not take together, each rule a one-line usage error. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* A rule is broken: why says which (RULES_WHY_MAX bytes). */
static bool __attribute__((format(printf, 2, 3)))
broken(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, RULES_WHY_MAX, fmt, ap);
	va_end(ap);
	return true;
}

/* What an inherited socket does not take: it was made, bound and
 * connected or listening before ucat ran. */
static bool
inherited(const struct options *o, bool src, char *why)
{
	const struct uaddr *ua = &o->addr;

	if (!ua->inherited)
		return false;
	if (o->mode_set)
		return broken(why, "-m: '%s' is a socket ucat did not create",
		    ua->text);
	/* In a relay, -s and --wait are of the connection to TARGET. */
	if (src && !o->relay)
		return broken(why, "-s: '%s' is bound already", ua->text);
	if (o->probe || (o->wait > 0 && !o->relay))
		return broken(why, "%s: '%s' is a socket ucat was given, not "
		    "an address to connect to", o->probe ? "-z" : "--wait",
		    ua->text);
	if (o->ready_fd == ua->fd)
		return broken(why, "--ready-fd: %d is the socket of '%s'",
		    ua->fd, ua->text);
	if (ua->fd <= STDERR_FILENO && !o->relay && o->exec_argv == NULL)
		return broken(why, "address '%s': standard %s is an end of "
		    "the pump too; give a target to relay the socket to",
		    ua->text, ua->fd == 0 ? "input" : ua->fd == 1 ? "output" :
		    "error");
	return false;
}

/* What a relay (two addresses) does not take: it reads no stdin. */
static bool
relay(const struct options *o, bool src, char *why)
{
	if (!o->relay)
		return false;
	if (o->exec_argv != NULL)
		return broken(why, "-e, -c: a relay runs no program; give one "
		    "address");
	if (o->type == SOCK_DGRAM && !o->listen)
		return broken(why, "-u: a datagram relay listens: give -l");
	if (o->probe)
		return broken(why, "-z: probes one address; give one");
	if (o->target.autobind)
		return broken(why, "target '@': a name chosen by the kernel "
		    "cannot be connected to");
	if (o->no_stdin || o->lines || o->crlf || !isnan(o->quit_after))
		return broken(why, "%s: a relay reads no standard input",
		    o->no_stdin ? "-d" : o->lines ? "-L" : o->crlf ? "-C" :
		    "-q");
	if (o->recv_limit > 0)
		return broken(why, "-W: a relay ends with its connections, not "
		    "after a count of messages");
	if (src && o->keep_open)
		return broken(why, "-s: with -k, concurrent connections to the "
		    "target cannot share one address");
	if (o->listen && o->target.family == o->addr.family &&
	    o->target.len == o->addr.len &&
	    memcmp(&o->target.ss, &o->addr.ss, o->addr.len) == 0)
		return broken(why, "target '%s': is the address listened on",
		    o->target.text);
	return false;
}

/*
 * The rules about the addresses, before -s's is read (src: -s was given):
 * "@" only listens, and what inherited sockets and relays do not take.
 * 0, or -1 with why.
 */
int
rules_addresses(const struct options *o, bool src, char *why)
{
	if (o->addr.autobind && !o->listen)
		return broken(why, "address '@': a name chosen by the kernel "
		    "needs -l") ? -1 : 0;
	if (inherited(o, src, why) || relay(o, src, why))
		return -1;
	if (src && o->listen && !o->relay)
		return broken(why, "-s: only a connecting socket has a "
		    "source") ? -1 : 0;
	return 0;
}

/* The first of the addresses that is TCP (an IP address, not udp:), or
 * NULL. */
static const struct uaddr *
tcp_one(const struct options *o)
{
	if (o->addr.family != AF_UNIX && !o->addr.udp)
		return &o->addr;
	if (o->relay && o->target.family != AF_UNIX && !o->target.udp)
		return &o->target;
	if (o->src_set && o->src.family != AF_UNIX && !o->src.udp)
		return &o->src;
	return NULL;
}

/* What a tcp: address does not take: it is a stream, and its peers have
 * no credentials; -s is of the kind of what it connects to (udp: its
 * own). */
static bool
tcp(const struct options *o, char *why)
{
	const struct uaddr *to = o->relay ? &o->target : &o->addr;
	const struct uaddr *t = tcp_one(o);

	if (t != NULL && o->type != SOCK_STREAM && !o->type_given)
		return broken(why, "address '%s' is TCP, a stream, and '%s' "
		    "UDP, datagrams", t->text, o->addr.udp ? o->addr.text :
		    o->target.text);
	if (t != NULL && o->type != SOCK_STREAM)
		return broken(why, "%s: address '%s' is TCP, a stream",
		    o->type == SOCK_DGRAM ? "-u" : "--seqpacket", t->text);
	if (o->listen && o->addr.family != AF_UNIX &&
	    (o->allow_uid != NULL || o->allow_gid != NULL))
		return broken(why, "--allow-uid, --allow-gid: a TCP peer has "
		    "no credentials");
	if (o->src_set && ((o->src.family == AF_UNIX) !=
	    (to->family == AF_UNIX) || o->src.udp != to->udp))
		return broken(why, "-s: address '%s' is not of the kind of "
		    "'%s'", o->src.text, to->text);
	return false;
}

/* What --pcap can record, and where: stdout only where it carries no
 * traffic of its own. */
static bool
pcap(const struct options *o, char *why)
{
	if (o->pcap == NULL)
		return o->pcap_port != 0 &&
		    broken(why, "--pcap-port: needs --pcap");
	if (o->exec_argv != NULL && !(o->listen && o->type == SOCK_DGRAM))
		return broken(why, "--pcap: the program of -e or -c has the "
		    "connection itself; no traffic passes through ucat");
	if (strcmp(o->pcap, "-") == 0 && !o->relay && o->tap == NULL &&
	    o->exec_argv == NULL && !o->probe)
		return broken(why, "--pcap -: standard output carries the "
		    "traffic; give a file (- is for a relay)");
	return false;
}

/* --send-fd: the descriptors go with what stdin sends to a Unix peer. */
static bool
send_fd(const struct options *o, char *why)
{
	const char *no = NULL;

	if (o->nsend_fds == 0)
		return false;
	if (o->relay)
		no = "a relay passes none";
	else if (o->exec_argv != NULL)
		no = "the program of -e or -c has the socket itself";
	else if (o->probe)
		no = "-z sends nothing";
	else if (o->no_stdin)
		no = "-d sends nothing for them to go with";
	else if (o->addr.family != AF_UNIX)
		no = "a TCP peer cannot receive descriptors";
	return no != NULL && broken(why, "--send-fd: %s", no);
}

/* Flags that exclude each other, or need messages. */
static bool
kind(const struct options *o, char *why)
{
	if (o->shutdown_asked && o->no_shutdown)
		return broken(why, "-N and --no-shutdown: give one");
	if (o->lines && o->type == SOCK_STREAM)
		return broken(why, "-L: needs -u or --seqpacket (a stream has "
		    "no messages)");
	if (o->recv_limit > 0 && o->type == SOCK_STREAM)
		return broken(why, "-W: needs -u or --seqpacket (a stream has "
		    "no messages to count)");
	if (o->crlf && o->lines)
		return broken(why, "-C: with -L no newline is sent");
	if ((o->crlf || o->recv_limit > 0) && o->exec_argv != NULL)
		return broken(why, "%s: the program of -e or -c has the socket "
		    "itself", o->crlf ? "-C" : "-W");
	if (o->crlf && o->no_stdin)
		return broken(why, "-C: -d sends nothing");
	return false;
}

/* Which way a socket goes: listening flags without -l, connecting ones
 * with it; a datagram's peer has no credentials to check. */
static bool
way(const struct options *o, char *why)
{
	if (o->mode_set && !o->listen)
		return broken(why, "-m: only for listening (the mode of the "
		    "socket file made)");
	if (o->mode_set && (o->addr.abstract || o->addr.family != AF_UNIX))
		return broken(why, "-m: address '%s' has no file to give a "
		    "mode", o->addr.text);
	if (o->listen && (o->probe || o->wait > 0))
		return broken(why, "%s: only for connecting", o->probe ? "-z" :
		    "--wait");
	if (o->probe && o->ready_fd != -1)
		return broken(why, "--ready-fd: -z is never ready to serve");
	if (o->type == SOCK_DGRAM && (o->allow_uid || o->allow_gid))
		return broken(why, "--allow-uid, --allow-gid: datagrams carry "
		    "no peer credentials here; use a stream or seqpacket "
		    "socket");
	if (!o->listen && (o->keep_open || o->allow_uid || o->allow_gid))
		return broken(why, "%s: only for listening", o->keep_open ?
		    "-k" : o->allow_uid ? "--allow-uid" : "--allow-gid");
	return false;
}

/* The first flag of a command line that --tap (tapping: true) or --untap
 * does not take, or NULL.  A tap is a -lk relay whose socket, type, mode
 * and target are the server's. */
static const char *
not_for_tap(const struct options *o, bool tapping)
{
	const struct {
		bool		 given;
		const char	*flag;
	} *f, flags[] = {
		{ o->listen, "-l" },
		{ o->type == SOCK_DGRAM, "-u" },
		{ o->type == SOCK_SEQPACKET, "--seqpacket" },
		{ o->exec_argv != NULL, "-e, -c" },
		{ o->src_set, "-s" },
		{ o->probe, "-z" },
		{ o->wait > 0, "--wait" },
		{ o->mode_set, "-m" },
		{ o->keep_file, "--keep-file" },
		{ o->no_stdin, "-d" },
		{ o->lines, "-L" },
		{ o->crlf, "-C" },
		{ !isnan(o->quit_after), "-q" },
		{ o->recv_limit > 0, "-W" },
		{ o->nsend_fds > 0, "--send-fd" },
		{ o->relay, "a second address" },
		{ !tapping && o->keep_open, "-k" },
		{ !tapping && o->as_me, "--as-me" },
		{ !tapping && o->dump != NULL, "-x" },
		{ !tapping && o->pcap != NULL, "--pcap" },
		{ !tapping && o->pcap_port != 0, "--pcap-port" },
		{ !tapping && o->timeout > 0, "-w" },
		{ !tapping && o->max_conns != 100, "--max-conns" },
		{ !tapping && (o->allow_uid || o->allow_gid), "--allow-uid" },
		{ !tapping && o->ready_fd != -1, "--ready-fd" },
		{ false, NULL }
	};

	for (f = flags; f->flag != NULL; f++)
		if (f->given)
			return f->flag;
	return NULL;
}

/* What --tap and --untap take: PATH only, and for a tap what a relay's
 * clients and observers need. */
static bool
tap(const struct options *o, char *why)
{
	const char *flag;

	if (o->tap == NULL && o->untap == NULL)
		return o->as_me && broken(why, "--as-me: only with --tap");
	if (o->as_me && geteuid() == 0)
		return broken(why, "--as-me: as root each client is relayed as "
		    "itself; --as-me would lend root to every client");
	if ((flag = not_for_tap(o, o->tap != NULL)) == NULL)
		return false;
	if (o->tap != NULL)
		return broken(why, "%s: not with --tap, which takes the "
		    "server's socket, type and mode as they are", flag);
	return broken(why, "%s: not with --untap, which only puts a socket "
	    "back", flag);
}

/* What an address in another namespace does not take: a source is bound
 * in ucat's own, and a path of another mount namespace is only connected
 * to (its links would be followed in ucat's). */
static bool
ns(const struct options *o, char *why)
{
	if (o->src_set && o->src.ns_len != 0)
		return broken(why, "-s: address '%s': a source is bound in "
		    "ucat's own namespace", o->src.text);
	if (o->listen && o->addr.ns_len != 0 && !o->addr.ns_named &&
	    o->addr.family == AF_UNIX && !o->addr.abstract)
		return broken(why, "-l: address '%s': a path in another "
		    "mount namespace is only connected to; listen on an @name "
		    "or tcp: there", o->addr.text);
	return false;
}

/* What a vsock-mux: address does not take: it is a VM's stream port,
 * reached by connecting to the host's socket and asking. */
static bool
mux(const struct options *o, char *why)
{
	const struct uaddr *m = o->addr.mux ? &o->addr :
	    o->relay && o->target.mux ? &o->target : NULL;

	if (o->src_set && o->src.mux)
		return broken(why, "-s: address '%s' is a VM's port, connected "
		    "to, never bound", o->src.text);
	if (o->listen && o->addr.mux)
		return broken(why, "-l: address '%s' is a VM's port, reached by "
		    "connecting; it cannot be listened on", o->addr.text);
	if (m != NULL && o->type != SOCK_STREAM)
		return broken(why, "%s: address '%s' is a VM's port, a stream",
		    o->type == SOCK_DGRAM ? "-u" : "--seqpacket", m->text);
	return false;
}

/* The rules about the flags, once every address is read.  0, or -1 with
 * why. */
int
rules_flags(const struct options *o, char *why)
{
	return tap(o, why) || mux(o, why) || ns(o, why) || tcp(o, why) ||
	    pcap(o, why) || send_fd(o, why) || kind(o, why) || way(o, why) ?
	    -1 : 0;
}
