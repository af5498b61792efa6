/* ucat.h: the options every part shares and the interfaces between parts. */
#ifndef UCAT_H
#define UCAT_H

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdarg.h>

#include <stdbool.h>
#include <stdint.h>

/* sun_path holds 108 bytes on Linux; a path keeps one for its NUL. */
#define ADDR_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
/* The largest message ucat receives whole. */
#define DGRAM_MAX	(256 * 1024)
/* Room for an address as text: '@' and every byte escaped as \xHH (more
 * than an IPv6 address and port need). */
#define ADDR_TEXT_MAX	(4 * sizeof(((struct sockaddr_un *)0)->sun_path) + 2)

/* The most descriptors --send-fd passes (the kernel's SCM_MAX_FD). */
#define SEND_FDS_MAX	253

/* The longest host name of a tcp: address. */
#define ADDR_HOST_MAX	255

/*
 * Where a file of ucat's own goes (a socket file, a dump): the directory,
 * walked to once and held, and the name in it.  Every look at the file and
 * every change to it goes through dir, so that a directory moved or
 * swapped for a link on the way meanwhile cannot lead elsewhere.
 */
struct place {
	int		dir;		/* -1: none held */
	int		home;		/* the working directory, to come back
					 * to after a bind from inside dir */
	bool		pinned;		/* only root and ucat's user can change
					 * the way to dir: path still leads
					 * there */
	const char	*path;		/* as given */
	const char	*name;		/* its last component */
	char		where[256];	/* how far the walk went (messages) */
	char		doubt[256];	/* the first directory on the way that
					 * others can change */
};

struct uaddr {
	union {
		struct sockaddr		sa;
		struct sockaddr_un	sun;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
		struct sockaddr_storage	ss;
	};
	socklen_t	len;		/* exact length to pass to the kernel */
	int		family;		/* AF_UNIX, AF_INET, AF_INET6; AF_UNSPEC:
					 * a host name still to resolve */
	bool		abstract;	/* @name: no file behind it */
	bool		autobind;	/* "@": the kernel picks the name */
	const char	*text;		/* as the user wrote it */
	char		host[ADDR_HOST_MAX + 1];	/* tcp: a name */
	unsigned short	port;		/* tcp: */
	/* fd:N, fdname:NAME: a socket ucat inherited, never its file. */
	bool		inherited;
	int		fd;		/* -1: fdname's, not found yet */
	const char	*fdname;
	/* A path ucat binds: its place, held from the start. */
	struct place	place;
	bool		udp;		/* udp:: datagrams over IP */
	/* vsock-mux:PATH:PORT: a VM's vsock port, asked for at PATH. */
	bool		mux;
	uint32_t	mux_port;
	/* ns:PID:ADDR, netns:NAME:ADDR: the network namespace its socket
	 * is made in (ns.c), held from the start; -1: ucat's own. */
	const char	*ns_id;		/* PID or NAME (ns_len bytes) */
	size_t		ns_len;		/* 0: no namespace named */
	bool		ns_named;	/* netns:NAME */
	int		ns_fd;
};

struct options {
	bool		listen;		/* -l, or an inherited listener */
	int		type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	bool		type_given;	/* -u or --seqpacket */
	bool		no_stdin;	/* -d */
	bool		no_shutdown;	/* --no-shutdown */
	bool		shutdown_asked;	/* -N, nc's: the default anyway */
	bool		lines;		/* -L */
	bool		crlf;		/* -C */
	long		recv_limit;	/* -W; 0: none */
	bool		keep_file;	/* --keep-file */
	bool		no_splice;	/* --no-splice */
	bool		no_sandbox;	/* --no-sandbox */
	const char	*dump;		/* -x FILE; NULL: none */
	const char	*pcap;		/* --pcap FILE; NULL: none */
	unsigned short	 pcap_port;	/* --pcap-port; 0: not given (80) */
	int		verbose;	/* -v */
	double		quit_after;	/* -q; < 0: wait for the peer */
	double		timeout;	/* -w; 0: none */
	bool		mode_set;
	mode_t		mode;		/* -m */
	struct uaddr	addr;		/* ADDRESS */
	bool		relay;		/* a second address was given */
	struct uaddr	target;		/* TARGET */
	bool		src_set;
	struct uaddr	src;		/* -s */
	bool		probe;		/* -z */
	double		wait;		/* --wait; 0: no retries */
	bool		keep_open;	/* -k */
	char		**exec_argv;	/* -e split on blanks, or sh -c CMD */
	long		max_conns;	/* --max-conns */
	struct idlist	*allow_uid;	/* --allow-uid; NULL: anyone */
	struct idlist	*allow_gid;	/* --allow-gid; NULL: anyone */
	int		ready_fd;	/* --ready-fd; -1: none */
	int		send_fds[SEND_FDS_MAX];	/* --send-fd */
	size_t		nsend_fds;
	const char	*tap;		/* --tap PATH; NULL: none */
	const char	*untap;		/* --untap PATH; NULL: none */
	bool		as_me;		/* --as-me */
};

/* A --allow-uid or --allow-gid list, resolved to numbers. */
struct idlist {
	size_t		n;
	unsigned long	id[];
};

/* Who is at the other end, from SO_PEERCRED where the system has it. */
struct peer {
	bool		known;
	pid_t		pid;		/* -1 where the system cannot tell */
	uid_t		uid;
	gid_t		gid;
};

/* The largest --max-conns. */
#define COUNT_MAX	1000000

/* parse.c */
int	parse_secs(const char *, bool, double *);
int	parse_mode(const char *, mode_t *);
int	parse_port(const char *, unsigned short *);
int	parse_fd(const char *, int *);
int	parse_count(const char *, long *);
struct idlist *parse_idlist(const char *, bool, char *, size_t);
char	**parse_command(const char *, bool);

/* addr.c */
int	addr_parse(const char *, struct uaddr *);
int	addr_resolve(struct uaddr *);
const char *addr_format(const struct sockaddr *, socklen_t, char *,
	    size_t);
const char *addr_features(void);
size_t	addr_type_len(const char *);

/* place.c */
/* Room for why a file is refused (place_append). */
#define PLACE_WHY_MAX	512
int	place_open(const char *, struct place *);
void	place_close(struct place *);
int	place_stat(const struct place *, struct stat *);
int	place_socket(const struct place *, int, bool);
int	place_unlink(const struct place *);
int	place_file(const struct place *, int, mode_t);
int	place_append(const char *, int, char *, size_t);

/* sock.c */
int	sock_listen(const struct options *);
int	sock_accept(int);
int	sock_connect(const struct options *, const struct uaddr *,
	    const struct uaddr *, bool *);
void	sock_prepare(int, const struct options *);
void	sock_warn(const char *, const struct uaddr *);
void	sock_warn_connect(const struct options *, const struct uaddr *);
void	sock_forget(void);
int	sock_peer(int, const struct uaddr *, struct peer *);
void	sock_cleanup(void);
int	sock_hold(struct uaddr *);
int	sock_live(const struct place *);
const char *sock_features(void);

/* Bytes read from an end and not yet written on: a whole message at
 * most, and -L's newline after it. */
#define END_BUF_SIZE	(DGRAM_MAX + 1)
struct buf {
	char	*data;
	size_t	 size;
	size_t	 head;		/* next byte to write out */
	size_t	 tail;		/* end of what was read in */
};

enum end_kind {
	END_STDIO,			/* plain descriptors: stdin and stdout,
					 * or a program's pipes */
	END_STREAM,			/* a stream socket */
	END_MESSAGE			/* a datagram or seqpacket socket */
};

/* What came of one read or write on an end. */
enum io {
	IO_DONE,			/* bytes moved (or a message dropped) */
	IO_AGAIN,			/* nothing now: poll says when */
	IO_EOF,				/* the end gave its last byte */
	IO_GONE,			/* the end takes nothing more */
	IO_FAIL				/* reported: the session fails */
};

/*
 * Messages taken from a message end at once (recvmmsg), each whole in a
 * slot of DGRAM_MAX bytes of its own, and how far they have gone out.
 * Only the pages a message touches are ever used.
 */
#define BATCH_MAX	32
struct batch {
	char		*area;		/* BATCH_MAX slots */
	size_t		 len[BATCH_MAX];
	int		 n;		/* messages in it */
	int		 next;		/* the first not all gone out */
	size_t		 off;		/* bytes of that one out (into a byte
					 * end, its -L newline counted) */
	bool		 full;		/* the last take filled it: more is
					 * likely waiting */
};
#define BATCH_SLOT(b, i)	((b)->area + (size_t)(i) * DGRAM_MAX)

/* The zero-copy move a stdio descriptor takes toward a stream socket. */
enum fast {
	FAST_UNKNOWN,			/* not looked at yet (splice.c does) */
	FAST_NONE,			/* none: read(2) and write(2) */
	FAST_SPLICE,			/* splice(2): it is a pipe */
	FAST_SENDFILE			/* sendfile(2): stdin is a regular file */
};

/*
 * An end: what bytes are read from and written to.  What outlives a
 * connection lives here: stdin's EOF and what it still holds, a closed
 * stdout.
 */
struct end {
	enum end_kind	 kind;
	const char	*name;		/* the address, in messages */
	int		 rfd;		/* read from; -1: never (-d) */
	int		 wfd;		/* written to */
	struct buf	 buf;		/* read here, not yet written on */
	bool		 eof;		/* gave its last byte */
	bool		 closed;	/* takes nothing more */
	bool		 instant;	/* a write never waits: a socket's
					 * (MSG_DONTWAIT), a regular file's */
	bool		 nonblock;	/* O_NONBLOCK set by ucat */
	bool		 reset;		/* a socket's peer reset it (ECONNRESET
					 * on a read) */
	struct trace	*trace;		/* told of errors */
	enum fast	 rfast;		/* zero-copy out of stdin */
	enum fast	 wfast;		/* zero-copy into stdout */
	struct batch	 batch;		/* a message end's: taken at once */
	unsigned long	 quota;		/* messages still to take before its
					 * end; 0: no limit */
	bool		 quota_ends;	/* -W: the last one ends the session */
	bool		 crlf;		/* -C: a newline read goes as CRLF */
	bool		 cr;		/* -C: the last byte read was a CR */
	bool		 program;	/* a program's pipes: closing its stdin
					 * says the end, what it prints up to
					 * its end is one message */
	uint64_t	 nread;
	uint64_t	 nwritten;
	/* Sockets. */
	int		 type;
	bool		 half_close;	/* shutdown(SHUT_WR) at the end */
	bool		 verbose;
	/* A datagram listener answers whoever sent last. */
	bool		 replying;
	bool		 warned_unbound;
	struct sockaddr_un peer;
	socklen_t	 peerlen;
	double		 retry_at;	/* a full receiver: send again then */
	/* --send-fd: passed with the first bytes sent. */
	const int	*sendfds;
	size_t		 nsendfds;
	bool		 fds_pending;
};

/* end.c */
int	end_stdio(struct end *, const struct options *, struct trace *);
int	end_socket(struct end *, const struct options *, struct trace *,
	    int, const char *);
int	end_program(struct end *, struct trace *, int, int, const char *);
void	end_free(struct end *);
int	end_stdio_fill(void);
int	end_stdio_check(const struct options *, const char **);
enum io	end_read(struct end *, char *, size_t, size_t *);
enum io	end_write(struct end *, const char *, size_t, size_t *);
struct batch;
enum io	end_write_batch(struct end *, struct batch *, bool);
void	end_shutdown(struct end *, int);
bool	end_ready(const struct end *);
void	end_nonblock(struct end *, bool);
void	end_warn(const struct end *, bool);

/* message.c */
enum io	message_write(struct end *, const char *, size_t, size_t *);
enum io	message_read_batch(struct end *, struct batch *, short);
enum io	message_write_many(struct end *, struct iovec *, int, int *, bool *);
const char *message_features(void);

/*
 * A flow moves what its source end gives to its destination end; how is
 * its mover's business (move.c chooses it).  It is done when nothing
 * more can go: its source ended and all went out, or its destination went
 * away.
 */
struct flow;
struct mover {
	/* Input is wanted from the source; room in the destination. */
	bool	(*wants_input)(const struct flow *);
	bool	(*wants_room)(const struct flow *);
	/* Something taken has not gone out yet. */
	bool	(*pending)(const struct flow *);
	/* What was taken goes on at once, with no poll for room (a send
	 * never waits).  NULL: never. */
	bool	(*eager)(const struct flow *);
	/* More is waiting at the source already: take again, no poll.
	 * NULL: never. */
	bool	(*hot)(const struct flow *);
	/* The source is ready (poll's revents): take from it. */
	enum io	(*take)(struct flow *, short);
	/* The destination has room: put out what was taken. */
	enum io	(*give)(struct flow *);
	/* The last flow left moves on its own, waiting in the move itself
	 * (IO_AGAIN: it would not wait after all).  NULL: it cannot. */
	enum io	(*wait)(struct flow *);
	/* Lets go of what the mover holds.  NULL: nothing. */
	void	(*stop)(struct flow *);
};

struct flow {
	struct end	*src;
	struct end	*dst;
	const struct mover *mv;
	const struct mover *fallback;	/* copying: where a move with no
					 * copy cannot be made after all */
	struct trace	*trace;		/* who sees what it delivers */
	char		 mark;		/* '>' a to b, '<' b to a */
	bool		 done;
	/* Through ucat's memory (move.c). */
	struct buf	*buf;		/* src's: read, not yet written */
	bool		 whole;		/* one read is one message: only
					 * into an empty buffer */
	bool		 lines;		/* -L into messages: a line each */
	bool		 newline;	/* -L out of messages: one after each */
	bool		 held;		/* whole: a message (maybe empty) is in
					 * buf */
	bool		 collect;	/* all the source gives is one message
					 * (a program's answer) */
	bool		 cut;		/* collect: more came than one holds */
	uint64_t	 offset;	/* stream bytes seen */
	uint64_t	 messages;	/* messages seen */
	/* With no copy (splice.c). */
	bool		 blocked;	/* the destination was full */
	int		 pipe[2];	/* socket to socket: stands for buf */
	size_t		 pipecap;	/* bytes it holds */
	size_t		 piped;		/* bytes in it */
	bool		 pipefull;	/* it took nothing more (its slots, not
					 * its bytes, ran out) */
};

/* move.c */
void	move_choose(struct flow *, const struct options *);

/* splice.c */
const struct mover *splice_choose(struct flow *);
void	splice_unclaim(void);
const char *splice_features(void);

/* pump.c */
int	pump_run(const struct options *, struct trace *, struct end *,
	    struct end *);
int	pump_stdio(const struct options *, struct trace *, struct end *,
	    struct end *, int);

/* once.c */
volatile char *once_flag(void);
bool	once(volatile char *);

/* clock.c */
double	clock_now(void);
int	clock_ms_until(double);

/* signals.c */
int	signals_at_exit(void (*)(void));
void	signals_drain(sigset_t *);
void	signals_hold(bool);
bool	signals_draining(void);
void	signals_setup(void);
pid_t	signals_fork(void);
void	signals_unblock(void);
void	signals_child(void);
bool	signals_counts_asked(void);

/* dump.c */
struct dump;
struct dump *dump_open(const char *, char *, size_t);
void	dump_event(struct dump *, unsigned long, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
void	dump_chunk(struct dump *, unsigned long, char, const char *, size_t,
	    bool, uint64_t);
void	dump_close(struct dump *);

/* pcap.c */
struct pcap;
int	pcap_open(struct pcap **, const char *, unsigned short, char *,
	    size_t);
void	pcap_begin(struct pcap *, unsigned long, bool, bool);
void	pcap_refused(struct pcap *, unsigned long);
void	pcap_chunk(struct pcap *, char, const char *, size_t);
void	pcap_fin(struct pcap *, char);
void	pcap_reset(struct pcap *, char);
void	pcap_end(struct pcap *);
void	pcap_close(struct pcap *);

/*
 * What ucat sees of the traffic, and who is told: the one handle that the
 * places which move bytes are given (NULL observers: nobody).
 */
struct trace {
	struct dump	*dump;		/* -x */
	struct pcap	*pcap;		/* --pcap */
	unsigned long	 conns;		/* connections numbered so far */
	bool		 open_conn;	/* the last one numbered is not
					 * closed */
};

/* trace.c */
void	trace_init(struct trace *, struct dump *, struct pcap *);
bool	trace_on(const struct trace *);
void	trace_connect(struct trace *);
void	trace_event(struct trace *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	trace_connected(struct trace *, int, const struct uaddr *);
void	trace_begin(struct trace *, bool, bool);
void	trace_chunk(struct trace *, char, const char *, size_t, bool,
	    uint64_t);
void	trace_eof(struct trace *, char, bool);
void	trace_reset(struct trace *, char, const char *);
void	trace_refused(struct trace *, bool);
void	trace_end(struct trace *);
void	trace_close(struct trace *);

/* activate.c */
/* What systemd passed (LISTEN_FDS, LISTEN_FDNAMES), if it was for ucat. */
struct activation {
	int		 fds;		/* how many sockets, from fd 3 */
	char		*names;		/* colon-separated; NULL: none */
};
void	activate_env(struct activation *);
void	activate_default(struct uaddr *);
int	activate_inherit(struct options *, const struct activation *, char *);

/* rules.c */
#define RULES_WHY_MAX	512
int	rules_addresses(const struct options *, bool, char *);
int	rules_flags(const struct options *, char *);

/* notify.c */
void	notify_setup(void);
void	notify_ready(int, const char *);
void	notify_stopping(void);
void	notify_forget(void);
void	notify_connected(const struct options *);

/* fdpass.c */
ssize_t	fdpass_send(struct end *, const char *, size_t,
	    const struct sockaddr *, socklen_t);
void	fdpass_drop(struct msghdr *, const char *, bool);
int	fdpass_copy(struct options *);

/* relay.c */
int	relay_client(const struct options *, struct trace *, int);
pid_t	relay_spawn(const struct options *, struct trace *, int, int);

/* serve.c */
int	serve_run(const struct options *, struct trace *, int);

/* sandbox.c */
void	sandbox_enter(const struct options *);
void	sandbox_connected(const struct options *);
const char *sandbox_features(void);

/* ns.c */
int	ns_self(void);
int	ns_open(struct uaddr *, char *, size_t);
int	ns_socket(const struct uaddr *, int, int);

/* mux.c */
int	mux_handshake(int, uint32_t, double);

/* tap.c */
int	tap_in(struct options *);
int	tap_swap(const struct options *);
void	tap_out(void);
const char *tap_refuses(const struct options *, const struct peer *);
int	tap_child(const struct options *, int);
int	tap_undo(const struct uaddr *, int);
const char *tap_features(void);

/* exec.c */
pid_t	exec_spawn(const struct options *, int, int, const struct peer *);
int	exec_wait(pid_t, int *);
int	exec_run(const struct options *, int, const struct peer *);
int	exec_message(const struct options *, struct trace *, struct end *);
int	exec_check(const char *);

#endif
