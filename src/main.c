/* main.c: option parsing, usage and the choice of mode. */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "ucat.h"

enum {
	OPT_SEQPACKET = CHAR_MAX + 1,
	OPT_NO_SHUTDOWN,
	OPT_KEEP_FILE,
	OPT_MAX_CONNS,
	OPT_ALLOW_UID,
	OPT_ALLOW_GID,
	OPT_WAIT,
	OPT_NO_SPLICE,
	OPT_PCAP,
	OPT_PCAP_PORT,
	OPT_READY_FD,
	OPT_SEND_FD,
	OPT_NO_SANDBOX,
};

/* The leading colon lets ucat word these errors like all its others. */
static const char shortopts[] = ":c:de:hkLlm:Nq:s:UuVvw:x:z";

static const struct option longopts[] = {
	{ "sh-exec",	 required_argument, NULL, 'c' },
	{ "no-stdin",	 no_argument,	    NULL, 'd' },
	{ "exec",	 required_argument, NULL, 'e' },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ "keep-open",	 no_argument,	    NULL, 'k' },
	{ "lines",	 no_argument,	    NULL, 'L' },
	{ "listen",	 no_argument,	    NULL, 'l' },
	{ "mode",	 required_argument, NULL, 'm' },
	{ "quit-after",	 required_argument, NULL, 'q' },
	{ "source",	 required_argument, NULL, 's' },
	{ "dgram",	 no_argument,	    NULL, 'u' },
	{ "version",	 no_argument,	    NULL, 'V' },
	{ "verbose",	 no_argument,	    NULL, 'v' },
	{ "timeout",	 required_argument, NULL, 'w' },
	{ "hexdump",	 required_argument, NULL, 'x' },
	{ "probe",	 no_argument,	    NULL, 'z' },
	{ "seqpacket",	 no_argument,	    NULL, OPT_SEQPACKET },
	{ "no-shutdown", no_argument,	    NULL, OPT_NO_SHUTDOWN },
	{ "keep-file",	 no_argument,	    NULL, OPT_KEEP_FILE },
	{ "max-conns",	 required_argument, NULL, OPT_MAX_CONNS },
	{ "allow-uid",	 required_argument, NULL, OPT_ALLOW_UID },
	{ "allow-gid",	 required_argument, NULL, OPT_ALLOW_GID },
	{ "wait",	 required_argument, NULL, OPT_WAIT },
	{ "no-splice",	 no_argument,	    NULL, OPT_NO_SPLICE },
	{ "pcap",	 required_argument, NULL, OPT_PCAP },
	{ "pcap-port",	 required_argument, NULL, OPT_PCAP_PORT },
	{ "ready-fd",	 required_argument, NULL, OPT_READY_FD },
	{ "send-fd",	 required_argument, NULL, OPT_SEND_FD },
	{ "no-sandbox",	 no_argument,	    NULL, OPT_NO_SANDBOX },
	{ NULL,		 0,		    NULL, 0 }
};

static const char usage_text[] =
"usage: ucat [-dkLlNUuVvz] [--seqpacket] [--no-shutdown] [--keep-file]\n"
"            [--no-splice] [--no-sandbox] [-c command] [-e program]\n"
"            [-m mode] [-q secs] [-s address] [-w secs] [-x file]\n"
"            [--allow-gid list] [--allow-uid list] [--pcap file]\n"
"            [--pcap-port port] [--max-conns n] [--ready-fd n]\n"
"            [--send-fd n] [--wait secs] [address [target]]\n"
"\n"
"  -l, --listen         listen on address instead of connecting\n"
"  -u, --dgram          datagram socket (SOCK_DGRAM)\n"
"      --seqpacket      sequenced-packet socket (SOCK_SEQPACKET)\n"
"  -d, --no-stdin       do not read standard input\n"
"  -L, --lines          messages: one line of stdin per message, and a\n"
"                       newline after each message received\n"
"  -q, --quit-after S   after stdin EOF, quit after S seconds (-1: never)\n"
"  -w, --timeout S      connect timeout and idle timeout, in seconds\n"
"      --no-shutdown    do not half-close the socket at stdin EOF\n"
"  -N                   half-close at stdin EOF: the default (nc's -N)\n"
"  -U                   a Unix socket: the default, unless tcp: (nc's -U)\n"
"      --no-splice      move data with read and write only\n"
"      --no-sandbox     do not confine ucat once its sockets are set up\n"
"  -v, --verbose        report addresses, peers and byte counts on stderr\n"
"  -x, --hexdump FILE   append a hex dump of all traffic to FILE (- is\n"
"                       stderr), created 0600\n"
"      --pcap FILE      append all traffic to FILE as a pcap capture of\n"
"                       TCP or UDP over 127.0.0.1 (- is stdout, in a relay)\n"
"      --pcap-port N    the server's port in the capture (80)\n"
"\n"
"listening:\n"
"  -m, --mode MODE      socket file mode (octal), never more open\n"
"  -k, --keep-open      serve one client after another (with -e/-c or a\n"
"                       relay: at once)\n"
"  -e, --exec PROG      run PROG ARGS (split on blanks, no shell) per client\n"
"  -c, --sh-exec CMD    run /bin/sh -c CMD per client\n"
"      --max-conns N    with -k and -e/-c or a relay: at most N clients at\n"
"                       once (100)\n"
"      --allow-uid LIST only peers with these user ids or names\n"
"      --allow-gid LIST only peers with these group ids or names\n"
"      --keep-file      leave the socket file in place at exit\n"
"      --ready-fd N     once listening or connected, write a newline to\n"
"                       descriptor N and close it\n"
"\n"
"connecting:\n"
"  -s, --source ADDR    bind to ADDR first (a relay: its connection to target)\n"
"  -z, --probe          only check that something accepts at address\n"
"      --wait S         retry until the address accepts, up to S seconds\n"
"      --send-fd N      pass descriptor N to the peer with the first bytes\n"
"                       sent (repeatable)\n"
"\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"address: a path (at most 107 bytes), @name for a Linux abstract name,\n"
"or @ alone with -l for a name the kernel picks.  ./@x and unix:@x are\n"
"files.  tcp:HOST:PORT, tcp:[IPV6]:PORT, tcp:PORT (127.0.0.1) are TCP.\n"
"fd:N is an inherited socket, fdname:NAME one systemd named; -l with no\n"
"address takes the one socket systemd passed (LISTEN_FDS).\n"
"\n"
"relay: with a target, stdin and stdout are not used: each client of\n"
"address (-l), or one connection to address, is joined to a new\n"
"connection to target, and bytes move both ways.\n";

/* After a usage error: the synopsis only, the rest is one -h away. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "%.*s", (int)(strstr(usage_text, "\n\n") -
	    usage_text + 1), usage_text);
	fputs("Try 'ucat --help' for more.\n", stderr);
	exit(2);
}

/* The version, then what this build can do: a script (and the test
 * suite) asks here instead of guessing from the system. */
static void
version(void)
{
	static const char *const features[] = {
#ifdef HAVE_ABSTRACT_NAMESPACE
		"abstract",
#endif
#if defined(HAVE_UCRED) || defined(HAVE_GETPEEREID)
		"peercred",
#endif
#ifdef HAVE_PASSCRED
		"passcred",
#endif
#ifdef HAVE_SPLICE
		"splice",
#endif
#ifdef USE_SENDFILE
		"sendfile",
#endif
#if defined(HAVE_RECVMMSG) && defined(HAVE_SENDMMSG)
		"mmsg",
#endif
		NULL
	};

	printf("%s %s\nfeatures:", PACKAGE_NAME, PACKAGE_VERSION);
	for (size_t i = 0; features[i] != NULL; i++)
		printf(" %s", features[i]);
	printf("%s\n", sandbox_features());
}

static double
secs_arg(const char *flag, const char *text, bool negative_ok)
{
	double v;

	if (parse_secs(text, negative_ok, &v) == -1)
		errx(2, "%s: invalid number of seconds '%s'", flag, text);
	return v;
}

/* A repeated --allow-uid (--allow-gid) adds to the list before it. */
static struct idlist *
ids_arg(const char *flag, const char *text, bool group, struct idlist *old)
{
	struct idlist *l, *all;
	char bad[64];

	if ((l = parse_idlist(text, group, bad, sizeof(bad))) != NULL) {
		if (old == NULL)
			return l;
		if ((all = realloc(old, sizeof(*old) +
		    (old->n + l->n) * sizeof(old->id[0]))) == NULL)
			err(1, NULL);
		memcpy(all->id + all->n, l->id, l->n * sizeof(l->id[0]));
		all->n += l->n;
		free(l);
		return all;
	}
	if (errno == ENOMEM)
		err(1, NULL);
	if (bad[0] == '\0')
		errx(2, "%s: empty name in list '%s'", flag, text);
	errx(2, "%s: no such %s '%s'", flag, group ? "group" : "user", bad);
}

/* A descriptor this process has open. */
static int
fd_arg(const char *flag, const char *text)
{
	int fd;

	if (parse_fd(text, &fd) == -1)
		errx(2, "%s: invalid descriptor '%s'", flag, text);
	if (fcntl(fd, F_GETFD) == -1)
		errx(2, "%s: descriptor %d is not open", flag, fd);
	return fd;
}

static char **
command_arg(const char *flag, const char *text, bool shell)
{
	char **argv;

	if ((argv = parse_command(text, shell)) != NULL)
		return argv;
	if (errno == ENOMEM)
		err(1, NULL);
	errx(2, "%s: empty command", flag);
}

static void
parse_addr(const char *flag, const char *text, struct uaddr *ua)
{
	if (addr_parse(text, ua) == 0) {
		if (addr_resolve(ua) == 0)
			return;
		if (errno == EAGAIN)
			errx(1, "%s: address '%s': no answer for host '%s'",
			    flag, text, ua->host);
		errx(2, "%s: address '%s': unknown host '%s'", flag, text,
		    ua->host);
	}
	switch (errno) {
	case EINVAL:
		errx(2, "%s: empty address", flag);
	case ENAMETOOLONG:
		errx(2, "%s: address '%s' is too long: at most %zu bytes%s",
		    flag, text, ADDR_PATH_MAX,
		    text[0] == '@' ? " after the @" : "");
	case ERANGE:
		errx(2, "%s: address '%s': the port must be 1 to 65535", flag,
		    text);
	case EDOM:
		errx(2, "%s: address '%s': expected tcp:HOST:PORT, "
		    "tcp:[IPV6]:PORT or tcp:PORT", flag, text);
	case EBADF:
		errx(2, "%s: address '%s': expected fd:N (a descriptor "
		    "number) or fdname:NAME", flag, text);
	default:
		errx(2, "%s: address '%s': abstract names are not supported "
		    "on this system", flag, text);
	}
}

/* One flag and its value into o; -s's address is parsed with the others. */
static void
parse_flag(int ch, int argc, char **argv, struct options *o,
    const char **src)
{
	switch (ch) {
	case 'c':
	case 'e':
		if (o->exec_argv != NULL)
			errx(2, "-e and -c: give one program only");
		o->exec_argv = command_arg(ch == 'c' ? "-c" : "-e",
		    optarg, ch == 'c');
		break;
	case 'd':
		o->no_stdin = true;
		break;
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	case 'k':
		o->keep_open = true;
		break;
	case 'L':
		o->lines = true;
		break;
	case 'N':
		/* nc -N: what ucat does anyway. */
		o->shutdown_asked = true;
		break;
	case 'U':
		/* nc -U: every address is a Unix one unless it says tcp:. */
		break;
	case 'l':
		o->listen = true;
		break;
	case 'm':
		if (parse_mode(optarg, &o->mode) == -1)
			errx(2, "-m: invalid mode '%s': expected octal "
			    "000 to 777", optarg);
		o->mode_set = true;
		break;
	case 'q':
		o->quit_after = secs_arg("-q", optarg, true);
		break;
	case 's':
		*src = optarg;
		break;
	case 'u':
		o->type = SOCK_DGRAM;
		o->type_given = true;
		break;
	case 'V':
		version();
		exit(0);
	case 'v':
		o->verbose++;
		break;
	case 'w':
		o->timeout = secs_arg("-w", optarg, false);
		break;
	case 'x':
		o->dump = optarg;
		break;
	case 'z':
		o->probe = true;
		break;
	case OPT_MAX_CONNS:
		if (parse_count(optarg, &o->max_conns) == -1)
			errx(2, "--max-conns: invalid count '%s': "
			    "expected 1 to %d", optarg, COUNT_MAX);
		break;
	case OPT_ALLOW_UID:
		o->allow_uid = ids_arg("--allow-uid", optarg, false,
		    o->allow_uid);
		break;
	case OPT_ALLOW_GID:
		o->allow_gid = ids_arg("--allow-gid", optarg, true,
		    o->allow_gid);
		break;
	case OPT_WAIT:
		o->wait = secs_arg("--wait", optarg, false);
		break;
	case OPT_NO_SPLICE:
		o->no_splice = true;
		break;
	case OPT_NO_SANDBOX:
		o->no_sandbox = true;
		break;
	case OPT_PCAP:
		o->pcap = optarg;
		break;
	case OPT_READY_FD:
		o->ready_fd = fd_arg("--ready-fd", optarg);
		if (o->ready_fd <= STDERR_FILENO)
			errx(2, "--ready-fd: %d is standard %s; give another "
			    "descriptor", o->ready_fd, o->ready_fd == 0 ?
			    "input" : o->ready_fd == 1 ? "output" : "error");
		break;
	case OPT_SEND_FD:
		if (o->nsend_fds == SEND_FDS_MAX)
			errx(2, "--send-fd: at most %d descriptors", SEND_FDS_MAX);
		o->send_fds[o->nsend_fds++] = fd_arg("--send-fd", optarg);
		break;
	case OPT_PCAP_PORT:
		if (parse_port(optarg, &o->pcap_port) == -1)
			errx(2, "--pcap-port: invalid port '%s': expected 1 "
			    "to 65535", optarg);
		break;
	case OPT_SEQPACKET:
		o->type = SOCK_SEQPACKET;
		o->type_given = true;
		break;
	case OPT_NO_SHUTDOWN:
		o->no_shutdown = true;
		break;
	case OPT_KEEP_FILE:
		o->keep_file = true;
		break;
	case ':':
		/* Where getopt left optind past the end, or the word there
		 * empty (musl's, after permuting), the flag is the one optopt
		 * names. */
		if (optind > 0 && optind - 1 < argc && argv[optind - 1] != NULL &&
		    argv[optind - 1][0] == '-')
			warnx("%s: needs a value", argv[optind - 1]);
		else if (optopt > 0 && optopt <= CHAR_MAX)
			warnx("-%c: needs a value", optopt);
		else
			warnx("an option needs a value");
		usage();
	default:
		if (optopt != 0)
			warnx("invalid option -- '%c'", optopt);
		else
			warnx("invalid option '%s'", argv[optind - 1]);
		usage();
	}
}

/* What a tcp: address does not take: it is a stream, and its peers have
 * no credentials; -s is of the kind of what it connects to. */
static void
check_tcp(const struct options *o)
{
	const struct uaddr *to = o->relay ? &o->target : &o->addr;
	bool tcp = o->addr.family != AF_UNIX ||
	    (o->relay && o->target.family != AF_UNIX) ||
	    (o->src_set && o->src.family != AF_UNIX);

	if (tcp && o->type != SOCK_STREAM)
		errx(2, "%s: a tcp: address is a stream",
		    o->type == SOCK_DGRAM ? "-u" : "--seqpacket");
	if (o->listen && o->addr.family != AF_UNIX &&
	    (o->allow_uid != NULL || o->allow_gid != NULL))
		errx(2, "--allow-uid, --allow-gid: a TCP peer has no "
		    "credentials");
	if (o->src_set && (o->src.family == AF_UNIX) !=
	    (to->family == AF_UNIX))
		errx(2, "-s: address '%s' is not of the kind of '%s'",
		    o->src.text, to->text);
}

static const char *
type_name(int type)
{
	return type == SOCK_DGRAM ? "datagram" : type == SOCK_SEQPACKET ?
	    "seqpacket" : "stream";
}

/*
 * An inherited socket (fd:, fdname:, or -l with no address under systemd)
 * says what it is: its type, and whether ucat listens on it or pumps on
 * it, whatever -l said.  A -u or --seqpacket that disagrees is a usage
 * error.
 */
static void
inherit_addr(struct options *o)
{
	struct uaddr *ua = &o->addr;
	bool listener;
	int type;

	if (ua->fdname != NULL && activate_name(ua) == -1)
		errx(2, "address '%s': no socket of that name was passed "
		    "(LISTEN_FDNAMES)", ua->text);
	if (activate_inspect(ua, &type, &listener) == -1) {
		switch (errno) {
		case EBADF:
			errx(2, "address '%s': descriptor %d is not open",
			    ua->text, ua->fd);
		case ENOTSOCK:
			errx(2, "address '%s': descriptor %d is not a socket",
			    ua->text, ua->fd);
		case EAFNOSUPPORT:
			errx(2, "address '%s': not a Unix socket, nor a TCP "
			    "stream", ua->text);
		case EDESTADDRREQ:
			errx(2, "address '%s': a socket neither listening nor "
			    "connected", ua->text);
		default:
			err(1, "address '%s'", ua->text);
		}
	}
	if (o->type_given && o->type != type)
		errx(2, "%s: address '%s' is a %s socket", o->type ==
		    SOCK_DGRAM ? "-u" : "--seqpacket", ua->text,
		    type_name(type));
	o->type = type;
	o->listen = listener;
}

/* What an inherited socket does not take: it was made, bound and
 * connected or listening before ucat ran. */
static void
check_inherited(const struct options *o, bool src)
{
	const struct uaddr *ua = &o->addr;

	if (!ua->inherited)
		return;
	if (o->mode_set)
		errx(2, "-m: '%s' is a socket ucat did not create", ua->text);
	/* In a relay, -s and --wait are of the connection to TARGET. */
	if (src && !o->relay)
		errx(2, "-s: '%s' is bound already", ua->text);
	if (o->probe || (o->wait > 0 && !o->relay))
		errx(2, "%s: '%s' is a socket ucat was given, not an address "
		    "to connect to", o->probe ? "-z" : "--wait", ua->text);
	if (o->ready_fd == ua->fd)
		errx(2, "--ready-fd: %d is the socket of '%s'", ua->fd,
		    ua->text);
	if (ua->fd <= STDERR_FILENO && !o->relay && o->exec_argv == NULL)
		errx(2, "address '%s': standard %s is an end of the pump "
		    "too; give a target to relay the socket to", ua->text,
		    ua->fd == 0 ? "input" : ua->fd == 1 ? "output" : "error");
}

/* --send-fd: the descriptors go with what stdin sends to a Unix peer. */
static void
check_send_fd(struct options *o)
{
	const char *why = NULL;
	size_t i;

	if (o->nsend_fds == 0)
		return;
	if (o->relay)
		why = "a relay passes none";
	else if (o->exec_argv != NULL)
		why = "the program of -e or -c has the socket itself";
	else if (o->probe)
		why = "-z sends nothing";
	else if (o->no_stdin)
		why = "-d sends nothing for them to go with";
	else if (o->addr.family != AF_UNIX)
		why = "a TCP peer cannot receive descriptors";
	if (why != NULL)
		errx(2, "--send-fd: %s", why);
	/* Copies of their own, made once the address is known: what ucat
	 * closes (a listener, --ready-fd) is never what it passes. */
	for (i = 0; i < o->nsend_fds; i++)
		if ((o->send_fds[i] = fcntl(o->send_fds[i], F_DUPFD_CLOEXEC,
		    3)) == -1)
			err(1, "--send-fd");
}

/* What a relay (two addresses) does not take: it reads no stdin. */
static void
check_relay(const struct options *o, bool src)
{
	if (o->exec_argv != NULL)
		errx(2, "-e, -c: a relay runs no program; give one address");
	if (o->type == SOCK_DGRAM && !o->listen)
		errx(2, "-u: a datagram relay listens: give -l");
	if (o->probe)
		errx(2, "-z: probes one address; give one");
	if (o->target.autobind)
		errx(2, "target '@': a name chosen by the kernel cannot be "
		    "connected to");
	if (o->no_stdin || o->lines || !isnan(o->quit_after))
		errx(2, "%s: a relay reads no standard input", o->no_stdin ?
		    "-d" : o->lines ? "-L" : "-q");
	if (src && o->keep_open)
		errx(2, "-s: with -k, concurrent connections to the target "
		    "cannot share one address");
	if (o->listen && o->target.family == o->addr.family &&
	    o->target.len == o->addr.len &&
	    memcmp(&o->target.ss, &o->addr.ss, o->addr.len) == 0)
		errx(2, "target '%s': is the address listened on",
		    o->target.text);
}

/* What --pcap can record, and where: stdout only where it carries no
 * traffic of its own. */
static void
check_pcap(const struct options *o)
{
	if (o->pcap == NULL) {
		if (o->pcap_port != 0)
			errx(2, "--pcap-port: needs --pcap");
		return;
	}
	if (o->exec_argv != NULL && !(o->listen && o->type == SOCK_DGRAM))
		errx(2, "--pcap: the program of -e or -c has the connection "
		    "itself; no traffic passes through ucat");
	if (strcmp(o->pcap, "-") == 0 && !o->relay && o->exec_argv == NULL &&
	    !o->probe)
		errx(2, "--pcap -: standard output carries the traffic; give "
		    "a file (- is for a relay)");
}

/*
 * The rules between flags and addresses, one check each, with -s's
 * address read where its rule allows it.  A datagram client without -q
 * quits at EOF: its peer never closes.
 */
static void
check_rules(struct options *o, const char *src)
{
	if (o->addr.autobind && !o->listen)
		errx(2, "address '@': a name chosen by the kernel needs -l");
	check_inherited(o, src != NULL);
	if (o->relay)
		check_relay(o, src != NULL);
	if (src != NULL) {
		if (o->listen && !o->relay)
			errx(2, "-s: only a connecting socket has a source");
		parse_addr("-s", src, &o->src);
		if (o->src.inherited)
			errx(2, "-s: address '%s': a source is bound, not "
			    "inherited (a file of that name: unix:%s)", src,
			    src);
		o->src_set = true;
	}
	check_tcp(o);
	check_pcap(o);
	check_send_fd(o);
	if (o->shutdown_asked && o->no_shutdown)
		errx(2, "-N and --no-shutdown: give one");
	if (o->lines && o->type == SOCK_STREAM)
		errx(2, "-L: needs -u or --seqpacket (a stream has no messages)");
	if (o->mode_set && (!o->listen || o->addr.abstract ||
	    o->addr.family != AF_UNIX))
		errx(2, "-m: only a listening socket file has a mode");
	if (o->listen && (o->probe || o->wait > 0))
		errx(2, "%s: only for connecting", o->probe ? "-z" : "--wait");
	if (o->probe && o->ready_fd != -1)
		errx(2, "--ready-fd: -z is never ready to serve");
	if (o->type == SOCK_DGRAM && (o->allow_uid || o->allow_gid))
		errx(2, "--allow-uid, --allow-gid: datagrams carry no peer "
		    "credentials here; use a stream or seqpacket socket");
	if (!o->listen && (o->keep_open || o->allow_uid || o->allow_gid))
		errx(2, "%s: only for listening", o->keep_open ? "-k" :
		    o->allow_uid ? "--allow-uid" : "--allow-gid");
	if (isnan(o->quit_after))
		o->quit_after = o->type == SOCK_DGRAM && !o->listen ? 0 : -1;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	const char *src = NULL;
	int ch;

	memset(o, 0, sizeof(*o));
	/* No place held for an address not given. */
	o->addr.place.dir = o->target.place.dir = o->src.place.dir = -1;
	o->ready_fd = -1;
	o->type = SOCK_STREAM;
	o->quit_after = NAN;
	o->max_conns = 100;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
		parse_flag(ch, argc, argv, o, &src);
	argc -= optind;
	argv += optind;
	if (argc > 2)
		errx(2, "at most two addresses expected, %d given", argc);
	if (argc > 0)
		parse_addr("address", argv[0], &o->addr);
	else if (o->listen && activate_count() == 1)
		activate_default(&o->addr);
	else if (o->listen && activate_count() > 1)
		errx(2, "-l: %d sockets were passed (LISTEN_FDS): name one with "
		    "fd:N or fdname:NAME", activate_count());
	else {
		warnx("no address given");
		usage();
	}
	if (argc == 2) {
		parse_addr("target", argv[1], &o->target);
		if (o->target.inherited)
			errx(2, "target '%s': a relay connects to its target "
			    "for each client; give an address", argv[1]);
		o->relay = true;
	}
	if (o->addr.inherited)
		inherit_addr(o);
	check_rules(o, src);
}

/*
 * With fd 0, 1 or 2 closed at start, the first socket would take its
 * number and be read or written as stdio: give each one /dev/null.
 */
static void
fill_stdio(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(1);
	}
}

/*
 * Stdin open only for writing, or stdout only for reading, would never
 * poll ready: say so before anything is created.
 */
static void
check_stdio(const struct options *o)
{
	int in, out;

	if (o->exec_argv != NULL || o->probe || o->relay)
		return;
	in = fcntl(STDIN_FILENO, F_GETFL);
	out = fcntl(STDOUT_FILENO, F_GETFL);
	errno = EBADF;
	if (!o->no_stdin && in != -1 && (in & O_ACCMODE) == O_WRONLY)
		err(1, "stdin");
	if (out != -1 && (out & O_ACCMODE) == O_RDONLY)
		err(1, "stdout");
}

/* One line for a failed socket step, then exit 1. */
static void __attribute__((noreturn))
die_sock(const char *what, const struct uaddr *ua)
{
	sock_warn(what, ua);
	exit(1);
}

/*
 * A path ucat binds: its place, held before anything is made.  A link in a
 * directory that others can change is not followed.  A datagram -s socket
 * is answered at the name the kernel keeps, so the way to it must be
 * pinned (see place_socket).
 */
static void
hold(const char *what, struct uaddr *ua, int type)
{
	if (sock_hold(ua) == -1) {
		if (errno == EPERM)
			errx(1, "%s %s: %s is a symbolic link in a directory "
			    "others can change; not following it", what,
			    ua->text, ua->place.where);
		die_sock(what, ua);
	}
	if (type == SOCK_DGRAM && ua->place.dir != -1 && !ua->place.pinned)
		errx(1, "-s %s: others can change %s, on the way to it, so a "
		    "datagram peer's answer could go elsewhere; bind it in a "
		    "directory only you and root can change", ua->text,
		    ua->place.doubt);
}

static int
run_listen(const struct options *o)
{
	char name[ADDR_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int lfd;

	char status[ADDR_TEXT_MAX + 16];

	if ((lfd = sock_listen(o)) == -1)
		die_sock("listen on", &o->addr);
	/* A path as the user wrote it (the kernel may keep the bare name:
	 * place_socket); else what the socket is: "@" gets its name here. */
	if (o->addr.place.dir != -1) {
		memcpy(&ss, &o->addr.sun, o->addr.len);
		len = o->addr.len;
	} else if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "getsockname %s", o->addr.text);
	snprintf(status, sizeof(status), "listening on %s", addr_format(
	    (struct sockaddr *)&ss, len, name, sizeof(name)));
	if (o->verbose)
		warnx("%s", status);
	/* Confined first: a failure to be is not told as ready. */
	sandbox_enter(o);
	notify_ready(status);
	return serve_run(o, lfd);
}

static int
run_connect(const struct options *o)
{
	struct peer pc;
	bool bind_failed;
	int fd;

	if (o->relay)
		return relay_connect(o) == 0 ? 0 : 1;
	if (o->addr.inherited)
		fd = o->addr.fd;
	else if ((fd = sock_connect(o, &o->addr, o->src_set ? &o->src : NULL,
	    &bind_failed)) == -1) {
		if (o->probe && !bind_failed) {
			if (o->verbose)
				warn("connect %s", o->addr.text);
			return 1;
		}
		if (bind_failed)
			die_sock("bind", o->src_set ? &o->src : &o->addr);
		die_sock("connect", &o->addr);
	}
	if (o->verbose)
		warnx("connected to %s", o->addr.text);
	if (o->probe)
		return 0;
	sandbox_enter(o);
	notify_connected(o);
	trace_connect();
	dump_connected(fd, &o->addr);
	if (o->exec_argv == NULL)
		return pump_stdio(o, fd) == 0 ? 0 : 1;

	if (sock_peer(fd, &o->addr, &pc) == -1)
		pc.known = false;
	return exec_run(o, fd, &pc);
}

/* Before any socket too; a file that is no capture of ucat's kind is left
 * as it is. */
static void
open_pcap(const struct options *o)
{
	char why[PLACE_WHY_MAX];

	switch (pcap_open(o->pcap, o->pcap_port != 0 ? o->pcap_port : 80,
	    why, sizeof(why))) {
	case 0:
		return;
	case -2:
		if (strcmp(o->pcap, "-") == 0)
			errx(1, "--pcap -: standard output is a file that is "
			    "not empty; give its name to append to it");
		errx(1, "--pcap %s: not a capture ucat can append to (pcap, "
		    "raw IPv4, microseconds)", o->pcap);
	default:
		if (why[0] != '\0')
			errx(1, "--pcap %s: %s", o->pcap, why);
		err(1, "--pcap %s", o->pcap);
	}
}

/* Before any socket too: a dump that cannot be had leaves nothing. */
static void
open_dump(const struct options *o)
{
	char why[PLACE_WHY_MAX];

	if (dump_open(o->dump, why, sizeof(why)) == 0)
		return;
	if (why[0] != '\0')
		errx(1, "-x %s: %s", o->dump, why);
	err(1, "-x %s", o->dump);
}

int
main(int argc, char **argv)
{
	struct options o;
	int status;

	fill_stdio();
	/* Each message one write(2): -k relay children share stderr. */
	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
	activate_env();
	parse_options(argc, argv, &o);
	check_stdio(&o);
	notify_setup(o.ready_fd);
	/* Before the first write: SIGPIPE and SIGXFSZ are errors, not
	 * deaths. */
	signals_setup();
	if (o.dump != NULL)
		open_dump(&o);
	if (o.pcap != NULL)
		open_pcap(&o);
	if (atexit(sock_cleanup) != 0 || atexit(notify_stopping) != 0)
		errx(1, "atexit failed");
	if (o.listen)
		hold("listen on", &o.addr, SOCK_STREAM);
	if (o.src_set)
		hold("bind", &o.src, o.type);

	status = o.listen ? run_listen(&o) : run_connect(&o);
	/* Past main's return nothing points at them: valgrind says lost. */
	free(o.exec_argv);
	free(o.allow_uid);
	free(o.allow_gid);
	return status;
}
