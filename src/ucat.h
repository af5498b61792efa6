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
};

struct options {
	bool		listen;		/* -l, or an inherited listener */
	int		type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	bool		type_given;	/* -u or --seqpacket */
	bool		no_stdin;	/* -d */
	bool		no_shutdown;	/* --no-shutdown */
	bool		shutdown_asked;	/* -N, nc's: the default anyway */
	bool		lines;		/* -L */
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
void	sock_forget(void);
int	sock_peer(int, const struct uaddr *, struct peer *);
void	sock_cleanup(void);
int	sock_hold(struct uaddr *);

/* splice.c */
enum move {
	MOVE_COPY,			/* read(2) and write(2) through a buffer */
	MOVE_SPLICE,			/* splice(2): the stdio end is a pipe */
	MOVE_SENDFILE,			/* sendfile(2): stdin is a regular file */
	MOVE_PIPE			/* splice(2) in and out of a pipe of
					 * ucat's own: socket to socket */
};
enum move move_choose(int, bool);
int	move_pipe(int [2], size_t *);
ssize_t	move_fast(enum move, int, int);
void	move_unclaim(void);

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
	END_STDIO,			/* stdin to read, stdout to write */
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
	enum move	 rmove;		/* zero-copy out of stdin */
	enum move	 wmove;		/* zero-copy into stdout */
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
void	end_stdio(struct end *, const struct options *, char *);
void	end_socket(struct end *, const struct options *, int, const char *,
	    char *);
enum io	end_read(struct end *, char *, size_t, size_t *);
enum io	end_write(struct end *, const char *, size_t, size_t *);
struct batch;
enum io	end_write_batch(struct end *, struct batch *, bool);
void	end_shutdown(struct end *, int);
bool	end_ready(const struct end *);
void	end_nonblock(struct end *, bool);
void	end_warn(const struct end *, bool);

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

/* message.c */
enum io	message_write(struct end *, const char *, size_t, size_t *);
enum io	message_read_batch(struct end *, struct batch *, short);
enum io	message_write_many(struct end *, struct iovec *, int, int *, bool *);

/* pump.c */
int	pump_run(const struct options *, struct end *, struct end *);
int	pump_stdio(const struct options *, int);

/* once.c */
volatile char *once_flag(void);
bool	once(volatile char *);

/* clock.c */
double	clock_now(void);
int	clock_ms_until(double);

/* signals.c */
void	signals_fatal(sigset_t *);
void	signals_setup(void);
void	signals_child(void);

/* dump.c */
int	dump_open(const char *, char *, size_t);
bool	dump_on(void);
void	dump_event(const char *, ...) __attribute__((format(printf, 1, 2)));
void	dump_connected(int, const struct uaddr *);
void	dump_chunk(char, const char *, size_t, bool, uint64_t);

/* pcap.c */
int	pcap_open(const char *, unsigned short, char *, size_t);
bool	pcap_on(void);
void	pcap_begin(unsigned long, bool, bool);
void	pcap_refused(unsigned long);
void	pcap_chunk(char, const char *, size_t);
void	pcap_fin(char);
void	pcap_reset(char);
void	pcap_end(void);

/* trace.c */
bool	trace_on(void);
unsigned long trace_number(void);
void	trace_connect(void);
void	trace_begin(bool, bool);
void	trace_chunk(char, const char *, size_t, bool, uint64_t);
void	trace_eof(char, bool);
void	trace_reset(char, const char *);
void	trace_refused(bool);
void	trace_end(void);

/* activate.c */
void	activate_env(void);
int	activate_count(void);
void	activate_default(struct uaddr *);
int	activate_name(struct uaddr *);
int	activate_inspect(struct uaddr *, int *, bool *);

/* notify.c */
void	notify_setup(int);
void	notify_ready(const char *);
void	notify_stopping(void);
void	notify_forget(void);
void	notify_connected(const struct options *);

/* fdpass.c */
ssize_t	fdpass_send(struct end *, const char *, size_t,
	    const struct sockaddr *, socklen_t);
void	fdpass_drop(struct msghdr *, const char *, bool);

/* relay.c */
int	relay_client(const struct options *, int);
pid_t	relay_spawn(const struct options *, int, int);
int	relay_connect(const struct options *);

/* serve.c */
int	serve_run(const struct options *, int);

/* sandbox.c */
void	sandbox_enter(const struct options *);
void	sandbox_connected(const struct options *);
const char *sandbox_features(void);

/* exec.c */
int	pipe_cloexec(int [2]);
pid_t	exec_spawn(const struct options *, int, int, const struct peer *);
int	exec_wait(pid_t, int *);
int	exec_run(const struct options *, int, const struct peer *);
ssize_t	exec_message(const struct options *, const char *, size_t, char *,
	    size_t, bool *);

#endif
