/* main.c: option parsing, usage and the choice of mode. */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	OPT_TAP,
	OPT_UNTAP,
	OPT_AS_ME,
};

/* The leading colon lets ucat word these errors like all its others. */
static const char shortopts[] = ":Cc:de:hkLlm:Nq:s:UuVvW:w:x:z";

static const struct option longopts[] = {
	{ "crlf",	 no_argument,	    NULL, 'C' },
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
	{ "recv-limit",	 required_argument, NULL, 'W' },
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
	{ "tap",	 required_argument, NULL, OPT_TAP },
	{ "untap",	 required_argument, NULL, OPT_UNTAP },
	{ "as-me",	 no_argument,	    NULL, OPT_AS_ME },
	{ NULL,		 0,		    NULL, 0 }
};

static const char usage_text[] =
"usage: ucat [-CdkLlNUuVvz] [--seqpacket] [--no-shutdown] [--keep-file]\n"
"            [--no-splice] [--no-sandbox] [-c command] [-e program]\n"
"            [-m mode] [-q secs] [-s address] [-W count] [-w secs]\n"
"            [-x file]\n"
"            [--allow-gid list] [--allow-uid list] [--pcap file]\n"
"            [--pcap-port port] [--max-conns n] [--ready-fd n]\n"
"            [--send-fd n] [--wait secs] [address [target]]\n"
"       ucat --tap path [--as-me] [-v] [-x file] [--pcap file] ...\n"
"       ucat --untap path\n"
"\n"
"  -l, --listen         listen on address instead of connecting\n"
"  -u, --dgram          datagram socket (SOCK_DGRAM)\n"
"      --seqpacket      sequenced-packet socket (SOCK_SEQPACKET)\n"
"  -d, --no-stdin       do not read standard input\n"
"  -L, --lines          messages: one line of stdin per message, and a\n"
"                       newline after each message received\n"
"  -C, --crlf           send each newline of stdin as CRLF\n"
"  -q, --quit-after S   after stdin EOF, quit after S seconds (-1: never)\n"
"  -W, --recv-limit N   messages: quit once N have been received\n"
"  -w, --timeout S      connect timeout and idle timeout, in seconds (0:\n"
"                       none)\n"
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
"tapping a live socket:\n"
"      --tap PATH       put ucat in front of the server listening on the\n"
"                       socket file PATH, with no gap, and back at SIGINT,\n"
"                       SIGTERM or SIGHUP; each client is relayed to it\n"
"      --as-me          not as root: relay clients of other users too, as\n"
"                       ucat's user (as root each client is relayed as\n"
"                       itself)\n"
"      --untap PATH     put back the server's socket a killed tap left\n"
"\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"address: a path (at most 107 bytes), @name for a Linux abstract name,\n"
"or @ alone with -l for a name the kernel picks.  ./@x and unix:@x are\n"
"files.  tcp:HOST:PORT, tcp:[IPV6]:PORT, tcp:PORT (127.0.0.1) are TCP,\n"
"udp: the same UDP (-u implied).\n"
"fd:N is an inherited socket, fdname:NAME one systemd named; -l with no\n"
"address takes the one socket systemd passed (LISTEN_FDS).\n"
"vsock-mux:PATH:PORT is a VM's vsock PORT through the hybrid vsock socket\n"
"PATH (Firecracker, cloud-hypervisor).\n""ns:PID:ADDRESS is ADDRESS as process PID sees it (its network namespace,\n"
"its root), netns:NAME:ADDRESS in the namespace ip netns named NAME.\n"
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

/* The version, then what this build can do, as each part says: a script
 * (and the test suite) asks here instead of guessing from the system. */
static void
version(void)
{
	printf("%s %s\nfeatures:%s%s%s%s%s%s\n", PACKAGE_NAME,
	    PACKAGE_VERSION, addr_features(), sock_features(),
	    splice_features(), message_features(), sandbox_features(),
	    tap_features());
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

/* A usage error about the address text given as flag ("address",
 * "target" or "-s"): "address 'X': ..." names the address. */
static void __attribute__((noreturn, format(printf, 4, 5)))
bad_addr(int status, const char *flag, const char *text, const char *fmt,
    ...)
{
	char what[ADDR_TEXT_MAX + 64], msg[ADDR_TEXT_MAX + 128];
	va_list ap;

	if (strcmp(flag, "-s") == 0)
		snprintf(what, sizeof(what), "-s: address '%s'", text);
	else
		snprintf(what, sizeof(what), "%s '%s'", flag, text);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errx(status, "%s%s", what, msg);
}

/* The address inside ns:PID: or netns:NAME:, which the words of an error
 * are about; text itself where there is none. */
static const char *
inner(const char *text)
{
	size_t skip = strncasecmp(text, "ns:", 3) == 0 ? 3 :
	    strncasecmp(text, "netns:", 6) == 0 ? 6 : 0;
	const char *colon = skip > 0 ? strchr(text + skip, ':') : NULL;

	return colon != NULL ? colon + 1 : text;
}

static void
parse_addr(const char *flag, const char *text, struct uaddr *ua)
{
	const char *in = inner(text);

	if (addr_parse(text, ua) == 0) {
		if (addr_resolve(ua) == 0)
			return;
		/* A name may resolve a minute later: not a usage error. */
		bad_addr(1, flag, text, ": %s host '%s'", errno == EAGAIN ?
		    "no answer for" : "unknown", ua->host);
	}
	switch (errno) {
	case EINVAL:
		if (strcmp(flag, "-s") == 0)
			errx(2, "-s: empty address");
		errx(2, "empty %s", flag);
	case ENAMETOOLONG:
		bad_addr(2, flag, text, " is too long: at most %zu bytes%s%s",
		    ADDR_PATH_MAX, in[0] == '@' ? " after the @" : "",
		    in != text && in[0] != '@' ? ", /proc/PID/root before a "
		    "path included" : "");
	case ERANGE:
		bad_addr(2, flag, text, ": the port must be 1 to 65535");
	case ENXIO:
		bad_addr(2, flag, text, ": expected %s", strncasecmp(text,
		    "ns:", 3) == 0 ? "ns:PID:ADDRESS, PID a process id" :
		    "netns:NAME:ADDRESS, NAME as ip netns names it");
	case ENOTSUP:
		bad_addr(2, flag, text, ": a namespace takes an address, not "
		    "an inherited socket or another namespace");
	case EDOM:
		if (strncasecmp(in, "vsock-mux:", 10) == 0)
			bad_addr(2, flag, text, ": expected vsock-mux:PATH:PORT, "
			    "PORT a number 0 to 4294967295");
		bad_addr(2, flag, text, ": expected tcp:HOST:PORT, "
		    "tcp:[IPV6]:PORT or tcp:PORT");
	case EBADF:
		bad_addr(2, flag, text, ": expected fd:N (a descriptor number) "
		    "or fdname:NAME");
	case EPROTONOSUPPORT:
		bad_addr(2, flag, text, ": no address type '%.*s' (there are "
		    "unix:, tcp:, udp:, fd:, fdname:, vsock-mux:, ns:, netns:); a "
		    "file of that name is ./%s or unix:%s",
		    (int)addr_type_len(in), in, in, in);
	default:
		bad_addr(2, flag, text, ": abstract names are not supported "
		    "on this system");
	}
}

/* The namespace of ns:PID: or netns:NAME:, opened (and entered once)
 * before anything is made: one that is not there or not permitted is
 * exit 1, naming PID or NAME. */
static void
open_ns(struct uaddr *ua)
{
	char why[256];

	if (ns_open(ua, why, sizeof(why)) == -1)
		errx(1, "%s%.*s: %s", ua->ns_named ? "netns:" : "ns:",
		    (int)ua->ns_len, ua->ns_id, why);
}

/* --tap PATH or --untap PATH: the one address, a socket file's. */
static void
tap_addr(struct options *o, int argc)
{
	const char *flag = o->tap != NULL ? "--tap" : "--untap";
	const char *path = o->tap != NULL ? o->tap : o->untap;

	if (o->tap != NULL && o->untap != NULL)
		errx(2, "--tap and --untap: give one");
	if (tap_features()[0] == '\0')
		errx(2, "%s: not supported on this system", flag);
	if (argc > 0)
		errx(2, "%s: PATH is the only address; give no other", flag);
	parse_addr(flag, path, &o->addr);
	if (o->addr.abstract || o->addr.autobind)
		bad_addr(2, flag, path, ": an abstract name cannot be renamed; "
		    "only a server's socket file can be tapped");
	if (o->addr.family != AF_UNIX || o->addr.inherited || o->addr.mux ||
	    o->addr.ns_len != 0)
		bad_addr(2, flag, path, ": not a socket file's path");
}

/* A udp: address makes the whole command datagram: -u is implied, and
 * --seqpacket is a usage error naming it. */
static void
udp_implied(struct options *o)
{
	const struct uaddr *u = o->addr.udp ? &o->addr :
	    o->relay && o->target.udp ? &o->target : NULL;

	if (u == NULL)
		return;
	if (o->type == SOCK_SEQPACKET)
		errx(2, "--seqpacket: address '%s' is UDP, datagrams", u->text);
	o->type = SOCK_DGRAM;
}

/* The flags that only switch something on, each a bool of options. */
static const struct {
	int	 ch;
	size_t	 field;
} switches[] = {
	{ 'C', offsetof(struct options, crlf) },
	{ 'd', offsetof(struct options, no_stdin) },
	{ 'k', offsetof(struct options, keep_open) },
	{ 'L', offsetof(struct options, lines) },
	{ 'l', offsetof(struct options, listen) },
	/* nc -N: what ucat does anyway. */
	{ 'N', offsetof(struct options, shutdown_asked) },
	{ 'z', offsetof(struct options, probe) },
	{ OPT_AS_ME, offsetof(struct options, as_me) },
	{ OPT_KEEP_FILE, offsetof(struct options, keep_file) },
	{ OPT_NO_SANDBOX, offsetof(struct options, no_sandbox) },
	{ OPT_NO_SHUTDOWN, offsetof(struct options, no_shutdown) },
	{ OPT_NO_SPLICE, offsetof(struct options, no_splice) },
};

/* A flag's value into o; -s's address is parsed with the others.  False:
 * ch takes no value. */
static bool
parse_value(int ch, struct options *o, const char **src)
{
	switch (ch) {
	case 'c':
	case 'e':
		if (o->exec_argv != NULL)
			errx(2, "-e and -c: give one program only");
		o->exec_argv = command_arg(ch == 'c' ? "-c" : "-e",
		    optarg, ch == 'c');
		/* A program that cannot run is said now, not at the first
		 * client. */
		if (ch == 'e' && exec_check(o->exec_argv[0]) == -1)
			err(2, "-e %s", o->exec_argv[0]);
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
	case 'w':
		o->timeout = secs_arg("-w", optarg, false);
		break;
	case 'W':
		if (parse_count(optarg, &o->recv_limit) == -1)
			errx(2, "-W: invalid count '%s': expected 1 to %d",
			    optarg, COUNT_MAX);
		break;
	case 'x':
		o->dump = optarg;
		break;
	case OPT_MAX_CONNS:
		if (parse_count(optarg, &o->max_conns) == -1)
			errx(2, "--max-conns: invalid count '%s': "
			    "expected 1 to %d", optarg, COUNT_MAX);
		break;
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GID:
		if (ch == OPT_ALLOW_UID)
			o->allow_uid = ids_arg("--allow-uid", optarg, false,
			    o->allow_uid);
		else
			o->allow_gid = ids_arg("--allow-gid", optarg, true,
			    o->allow_gid);
		break;
	case OPT_WAIT:
		o->wait = secs_arg("--wait", optarg, false);
		break;
	case OPT_PCAP:
		o->pcap = optarg;
		break;
	case OPT_TAP:
		o->tap = optarg;
		break;
	case OPT_UNTAP:
		o->untap = optarg;
		break;
	case OPT_PCAP_PORT:
		if (parse_port(optarg, &o->pcap_port) == -1)
			errx(2, "--pcap-port: invalid port '%s': expected 1 "
			    "to 65535", optarg);
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
	default:
		return false;
	}
	return true;
}

/* A flag getopt could not take: unknown, or without its value. */
static void __attribute__((noreturn))
bad_flag(int ch, int argc, char **argv)
{
	/* Where getopt left optind past the end, or the word there empty
	 * (musl's, after permuting), the flag is the one optopt names. */
	if (ch == ':' && optind > 0 && optind - 1 < argc &&
	    argv[optind - 1] != NULL && argv[optind - 1][0] == '-')
		warnx("%s: needs a value", argv[optind - 1]);
	else if (ch == ':' && optopt > 0 && optopt <= CHAR_MAX)
		warnx("-%c: needs a value", optopt);
	else if (ch == ':')
		warnx("an option needs a value");
	else if (optopt != 0)
		warnx("invalid option -- '%c'", optopt);
	else
		warnx("invalid option '%s'", argv[optind - 1]);
	usage();
}

/* One flag into o. */
static void
parse_flag(int ch, int argc, char **argv, struct options *o,
    const char **src)
{
	size_t i;

	for (i = 0; i < sizeof(switches) / sizeof(switches[0]); i++)
		if (switches[i].ch == ch) {
			*(bool *)((char *)o + switches[i].field) = true;
			return;
		}
	if (parse_value(ch, o, src))
		return;
	switch (ch) {
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	case 'V':
		version();
		exit(0);
	case 'U':
		/* nc -U: every address is a Unix one unless it says tcp:. */
		break;
	case 'u':
	case OPT_SEQPACKET:
		o->type = ch == 'u' ? SOCK_DGRAM : SOCK_SEQPACKET;
		o->type_given = true;
		break;
	case 'v':
		o->verbose++;
		break;
	default:
		bad_flag(ch, argc, argv);
	}
}

/*
 * The rules between flags and addresses (rules.c), with -s's address read
 * where its rule allows it.  A datagram client without -q quits at EOF:
 * its peer never closes.
 */
static void
check_rules(struct options *o, const char *src)
{
	char why[RULES_WHY_MAX];

	if (rules_addresses(o, src != NULL, why) == -1)
		errx(2, "%s", why);
	if (src != NULL) {
		parse_addr("-s", src, &o->src);
		if (o->src.inherited)
			errx(2, "-s: address '%s': a source is bound, not "
			    "inherited (a file of that name: unix:%s)", src,
			    src);
		o->src_set = true;
	}
	if (rules_flags(o, why) == -1)
		errx(2, "%s", why);
	/* Copies of their own, made once the address is known: what ucat
	 * closes (a listener, --ready-fd) is never what it passes. */
	if (fdpass_copy(o) == -1)
		err(1, "--send-fd");
	/* Unless -W says how many answers to wait for. */
	if (isnan(o->quit_after))
		o->quit_after = o->type == SOCK_DGRAM && !o->listen &&
		    o->recv_limit == 0 ? 0 : -1;
}

static void
parse_options(int argc, char **argv, struct options *o,
    const struct activation *act)
{
	char why[RULES_WHY_MAX];
	const char *src = NULL;
	int ch, rc;

	memset(o, 0, sizeof(*o));
	/* No place held for an address not given. */
	o->addr.place.dir = o->target.place.dir = o->src.place.dir = -1;
	o->addr.ns_fd = o->target.ns_fd = o->src.ns_fd = -1;
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
	if (o->tap != NULL || o->untap != NULL)
		tap_addr(o, argc);
	else if (argc > 0)
		parse_addr("address", argv[0], &o->addr);
	else if (o->listen && act->fds == 1)
		activate_default(&o->addr);
	else if (o->listen && act->fds > 1)
		errx(2, "-l: %d sockets were passed (LISTEN_FDS): name one with "
		    "fd:N or fdname:NAME", act->fds);
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
	if (o->addr.inherited && (rc = activate_inherit(o, act, why)) != 0)
		errx(rc, "%s", why);
	udp_implied(o);
	check_rules(o, src);
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

/* What a listener says it is doing (-v, readiness): a path as the user
 * wrote it (the kernel may keep the bare name: place_socket); else what
 * the socket is, so that "@" gets its name here. */
static void
listening(const struct options *o, int lfd, char *status, size_t size)
{
	char name[ADDR_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (o->tap != NULL) {
		snprintf(status, size, "tapping %s (%s)", o->tap,
		    o->type == SOCK_SEQPACKET ? "seqpacket" : "stream");
		return;
	}
	if (o->addr.place.dir != -1) {
		memcpy(&ss, &o->addr.sun, o->addr.len);
		len = o->addr.len;
	} else if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "getsockname %s", o->addr.text);
	snprintf(status, size, "listening on %s", addr_format(
	    (struct sockaddr *)&ss, len, name, sizeof(name)));
}

static int
run_listen(const struct options *o, struct trace *t)
{
	char status[ADDR_TEXT_MAX + 32];
	int lfd;

	if ((lfd = sock_listen(o)) == -1)
		die_sock(o->tap != NULL ? "--tap" : "listen on", &o->addr);
	/* PATH is ucat's from here. */
	if (o->tap != NULL) {
		if (tap_swap(o) == -1)
			exit(1);
		signals_hold(false);
	}
	listening(o, lfd, status, sizeof(status));
	if (o->verbose)
		warnx("%s", status);
	/* Confined first: a failure to be is not told as ready. */
	sandbox_enter(o);
	notify_ready(o->ready_fd, status);
	return serve_run(o, t, lfd);
}

/* Stdio pumped through the connected socket fd. */
static int
connect_stdio(const struct options *o, struct trace *t, int fd)
{
	struct end io, sock = { .kind = END_STREAM };
	int rc;

	if (end_stdio(&io, o, t) == -1)
		err(1, NULL);
	rc = pump_stdio(o, t, &io, &sock, fd);
	end_free(&sock);
	end_free(&io);
	return rc == 0 ? 0 : 1;
}

/*
 * Connects to ADDRESS (or takes the connected socket inherited), then pumps
 * stdio through it, runs the program on it, or relays it to TARGET, once.
 * In a relay, -s is of the connection to TARGET.
 */
static int
run_connect(const struct options *o, struct trace *t)
{
	const struct uaddr *src = o->src_set && !o->relay ? &o->src : NULL;
	struct peer pc;
	bool bind_failed;
	int fd;

	if (o->addr.inherited)
		fd = o->addr.fd;
	else if ((fd = sock_connect(o, &o->addr, src, &bind_failed)) == -1) {
		if (o->probe && !bind_failed) {
			if (o->verbose)
				warn("connect %s", o->addr.text);
			return 1;
		}
		if (bind_failed)
			die_sock("bind", src != NULL ? src : &o->addr);
		sock_warn_connect(o, &o->addr);
		exit(1);
	}
	if (o->verbose)
		warnx("connected to %s", o->addr.text);
	if (o->probe)
		return 0;
	sandbox_enter(o);
	notify_connected(o);
	trace_connect(t);
	trace_connected(t, fd, &o->addr);
	if (o->relay)
		return relay_client(o, t, fd) == 0 ? 0 : 1;
	if (o->exec_argv == NULL)
		return connect_stdio(o, t, fd);

	if (sock_peer(fd, &o->addr, &pc) == -1)
		pc.known = false;
	return exec_run(o, fd, &pc);
}

/* A file of -x or --pcap that cannot be had: one line, then exit 1.
 * rc: pcap_open's -2, the file holds something else. */
static void __attribute__((noreturn))
unobservable(const char *flag, const char *file, const char *why, int rc)
{
	if (rc == -2 && strcmp(file, "-") == 0)
		errx(1, "--pcap -: standard output is a file that is not "
		    "empty; give its name to append to it");
	if (rc == -2)
		errx(1, "--pcap %s: not a capture ucat can append to (pcap, "
		    "raw IPv4, microseconds)", file);
	if (why[0] != '\0')
		errx(1, "%s %s: %s", flag, file, why);
	err(1, "%s %s", flag, file);
}

/* The observers of -x and --pcap into t, before any socket: a file that
 * cannot be had leaves nothing made, and one that is no capture of ucat's
 * kind is left as it is. */
static void
observe(const struct options *o, struct trace *t)
{
	char why[PLACE_WHY_MAX];
	struct dump *d = NULL;
	struct pcap *c = NULL;
	int rc;

	if (o->dump != NULL &&
	    (d = dump_open(o->dump, why, sizeof(why))) == NULL)
		unobservable("-x", o->dump, why, 0);
	if (o->pcap != NULL && (rc = pcap_open(&c, o->pcap, o->pcap_port != 0 ?
	    o->pcap_port : 80, why, sizeof(why))) != 0)
		unobservable("--pcap", o->pcap, why, rc);
	trace_init(t, d, c);
}

int
main(int argc, char **argv)
{
	struct activation act;
	const char *which;
	struct options o;
	struct trace t;
	int status;

	/* With fd 0, 1 or 2 closed at start, the first socket would take
	 * its number and be read or written as stdio. */
	if (end_stdio_fill() == -1)
		exit(1);
	/* Each message one write(2): -k relay children share stderr. */
	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
	activate_env(&act);
	parse_options(argc, argv, &o, &act);
	/* Before anything is created. */
	if (!o.relay && !o.probe && o.exec_argv == NULL &&
	    end_stdio_check(&o, &which) == -1)
		err(1, "%s", which);
	notify_setup();
	/* Before the first write: SIGPIPE and SIGXFSZ are errors, not
	 * deaths. */
	signals_setup();
	observe(&o, &t);
	/* Undone at exit, and at a fatal signal: what was claimed of a file
	 * on stdin and not sent, readiness, our socket files. */
	if (signals_at_exit(splice_unclaim) == -1 ||
	    signals_at_exit(notify_stopping) == -1 ||
	    signals_at_exit(sock_cleanup) == -1)
		errx(1, "too many things to undo at exit");
	open_ns(&o.addr);
	open_ns(&o.target);
	if (o.untap != NULL) {
		hold("--untap", &o.addr, SOCK_STREAM);
		return tap_undo(&o.addr, o.verbose) == 0 ? 0 : 1;
	}
	if (o.listen || o.tap != NULL)
		hold(o.tap != NULL ? "--tap" : "listen on", &o.addr,
		    SOCK_STREAM);
	/* Undone first: the server's socket back in PATH's place.  No
	 * signal comes until the swap in is whole (run_listen). */
	if (o.tap != NULL) {
		signals_hold(true);
		if (signals_at_exit(tap_out) == -1 || tap_in(&o) == -1)
			exit(1);
	}
	if (o.src_set)
		hold("bind", &o.src, o.type);

	status = o.listen ? run_listen(&o, &t) : run_connect(&o, &t);
	/* Past main's return nothing points at them: valgrind says lost. */
	trace_close(&t);
	free(act.names);
	free(o.exec_argv);
	free(o.allow_uid);
	free(o.allow_gid);
	return status;
}
