/* tap.c: ucat put in front of a server already listening on a socket file (--tap), and taken out again. */
#include "config.h"

#include <sys/stat.h>
#include <sys/socket.h>
#ifdef HAVE_SYS_SYSMACROS_H
#include <sys/sysmacros.h>
#endif

#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

#ifdef HAVE_TAP
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

/* The kernel's TCP_LISTEN, which sock_diag reports for a listening Unix
 * socket. */
#define DIAG_LISTEN	10

/* renameat2's: each of two names takes the other's file, at once. */
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE	(1 << 1)
#endif

/*
 * The tap, as the signal handler that swaps it out sees it.  Each name is
 * in the directory of PATH, held: the server's socket linked at a hidden
 * name, ucat's listener at a temporary one until it is renamed over PATH.
 */
static struct {
	int			dir;
	char			name[NAME_MAX + 1];	/* PATH's */
	char			hidden[NAME_MAX + 1];	/* the server's */
	char			temp[NAME_MAX + 1];	/* ucat's, at first */
	char			hidden_path[PATH_MAX];
	char			temp_path[PATH_MAX];
	char			by_fd[32];	/* the server's, whatever its
						 * name: /proc/self/fd/N */
	dev_t			dev;			/* ucat's listener */
	ino_t			ino;
	dev_t			server_dev;		/* the server's socket */
	ino_t			server_ino;
	pid_t			owner;			/* only it swaps out */
	volatile sig_atomic_t	state;
} tap = { .dir = -1 };

enum { TAP_NONE, TAP_LINKED, TAP_IN };

static const char hidden_tag[] = ".ucat-tap.";
static const char temp_tag[] = ".ucat-new.";

/* Whether name, in the tap's directory, is the file dev and ino name. */
static bool
is(const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	return fstatat(tap.dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == dev && st.st_ino == ino;
}

/*
 * Names a and b of the tap's directory swap their files in one step
 * (renameat2's RENAME_EXCHANGE), so that what was at b can be looked at
 * after the fact and given back.  -1 with EINVAL where the file system
 * cannot.  Safe in a signal handler.
 */
static int
exchange(const char *a, const char *b)
{
#ifdef SYS_renameat2
	return (int)syscall(SYS_renameat2, tap.dir, a, tap.dir, b,
	    RENAME_EXCHANGE);
#else
	(void)a;
	(void)b;
	errno = EINVAL;
	return -1;
#endif
}

/*
 * The socket bound to the file st is, as the kernel's sock_diag lists it
 * (matched by the file's device and inode, so however the server named
 * it): its type if it listens, SOCK_DGRAM for a datagram socket, 0 for
 * none that listens; -1 where the list cannot be had.  Nothing is sent to
 * the server.
 */
static int
listening_type(const struct stat *st)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} rq;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)];
	struct unix_diag_msg *m;
	struct unix_diag_vfs *v;
	struct nlmsghdr *h;
	struct rtattr *a;
	int fd, found = -1, alen;
	ssize_t n;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.req.sdiag_family = AF_UNIX;
	rq.req.udiag_states = ~0U;
	rq.req.udiag_show = UDIAG_SHOW_VFS;
	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) == -1)
		goto out;
	found = 0;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				found = -1;
				goto out;
			}
			m = NLMSG_DATA(h);
			a = (struct rtattr *)(m + 1);
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type != UNIX_DIAG_VFS)
					continue;
				v = RTA_DATA(a);
				/* The kernel's dev_t: 12 bits of major, 20 of
				 * minor. */
				if (v->udiag_vfs_ino != (uint32_t)st->st_ino ||
				    v->udiag_vfs_dev >> 20 != major(st->st_dev) ||
				    (v->udiag_vfs_dev & 0xfffff) !=
				    minor(st->st_dev))
					continue;
				if (m->udiag_type == SOCK_DGRAM)
					found = SOCK_DGRAM;
				else if (m->udiag_state == DIAG_LISTEN)
					found = m->udiag_type;
			}
		}
	if (n == -1)
		found = -1;
out:
	close(fd);
	return found;
}

/* PATH's place with another name in the same directory (the hidden link,
 * the temporary listener): path is its whole path, name its last part. */
static void
place_beside(const struct place *of, struct place *p, const char *path,
    const char *name)
{
	*p = *of;
	p->path = path;
	p->name = name;
}

/* An address ucat binds or connects to through the place p. */
static void
addr_at(struct uaddr *ua, const struct place *p, const char *text)
{
	memset(ua, 0, sizeof(*ua));
	ua->family = AF_UNIX;
	ua->sun.sun_family = AF_UNIX;
	snprintf(ua->sun.sun_path, sizeof(ua->sun.sun_path), "%s", p->path);
	ua->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(ua->sun.sun_path) + 1);
	ua->text = text;
	ua->fd = -1;
	ua->ns_fd = -1;
	ua->place = *p;
}

/* The pid a tap's name beside PATH carries, or 0 if name is not one
 * (tag: hidden_tag or temp_tag). */
static pid_t
tagged(const char *name, const char *tag)
{
	size_t len = strlen(tap.name), tlen = strlen(tag);
	const char *d;
	long pid = 0;

	if (name[0] != '.' || strncmp(name + 1, tap.name, len) != 0 ||
	    strncmp(name + 1 + len, tag, tlen) != 0)
		return 0;
	for (d = name + 1 + len + tlen; *d != '\0'; d++) {
		if (!isdigit((unsigned char)*d) || pid > INT_MAX / 10)
			return 0;
		pid = pid * 10 + (*d - '0');
	}
	return (pid_t)pid;
}

/* Whether process pid is there (ours to signal or not). */
static bool
alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/*
 * The names of taps beside PATH: fn is called with each one's pid and
 * name (tag: which kind), ucat's own left out, until it returns non-zero;
 * that is returned.  -1: the directory cannot be read.
 */
static int
each_tap(const char *tag, int (*fn)(pid_t, const char *, void *),
    void *arg)
{
	struct dirent *de;
	DIR *d;
	pid_t pid;
	int fd, rc = 0;

	if ((fd = openat(tap.dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if ((pid = tagged(de->d_name, tag)) > 0 && pid != getpid())
			rc = fn(pid, de->d_name, arg);
	closedir(d);
	return rc;
}

/* each_tap's: the first tap found, its pid into *arg. */
static int
first(pid_t pid, const char *name, void *arg)
{
	(void)name;
	*(pid_t *)arg = pid;
	return 1;
}

/* Another tap's link beside PATH: one line on what to do, and -1. */
static int
other_tap(const char *path, bool starting)
{
	pid_t pid = 0;

	if (each_tap(hidden_tag, first, &pid) == -1) {
		warn("--tap %s: cannot read its directory to look for another "
		    "tap", path);
		return -1;
	}
	if (pid == 0)
		return 0;
	if (starting)
		warnx("--tap %s: another tap (pid %ld) is starting; try again",
		    path, (long)pid);
	else if (alive(pid))
		warnx("--tap %s: tapped already, by pid %ld", path, (long)pid);
	else
		warnx("--tap %s: a tap that did not end cleanly (pid %ld) left "
		    "it on a dead socket; run 'ucat --untap %s' first", path,
		    (long)pid, path);
	return -1;
}

/* The server's socket at PATH: a socket file some server listens on, of a
 * type ucat can relay; its type, or -1 (said). */
static int
server_type(const char *path, const struct place *p, const struct stat *st)
{
	int type = listening_type(st), live;

	if (type == -1) {
		/* No list (another network namespace's server, say): a
		 * socket that answers is taken for a stream. */
		if ((live = sock_live(p)) == -1) {
			warn("--tap %s", path);
			return -1;
		}
		type = live ? SOCK_STREAM : 0;
	}
	if (type == 0)
		warnx("--tap %s: nobody is listening there", path);
	else if (type == SOCK_DGRAM)
		warnx("--tap %s: a datagram socket; --tap takes stream and "
		    "seqpacket servers", path);
	else
		return type;
	return -1;
}

/* The names beside PATH; -1 (said) if they do not fit. */
static int
names(const char *path, const struct place *p)
{
	size_t dirlen = (size_t)(p->name - p->path);
	int n = 0;

	snprintf(tap.name, sizeof(tap.name), "%s", p->name);
	if ((size_t)snprintf(tap.hidden, sizeof(tap.hidden), ".%s%s%ld",
	    p->name, hidden_tag, (long)getpid()) >= sizeof(tap.hidden) ||
	    (size_t)snprintf(tap.temp, sizeof(tap.temp), ".%s%s%ld", p->name,
	    temp_tag, (long)getpid()) >= sizeof(tap.temp)) {
		warnx("--tap %s: its name is too long to put a tap beside it",
		    path);
		return -1;
	}
	snprintf(tap.hidden_path, sizeof(tap.hidden_path), "%.*s%s",
	    (int)dirlen, p->path, tap.hidden);
	n = snprintf(tap.temp_path, sizeof(tap.temp_path), "%.*s%s",
	    (int)dirlen, p->path, tap.temp);
	/* Reached by whole path where the way is pinned (place_socket). */
	if (p->pinned && (size_t)n > ADDR_PATH_MAX) {
		warnx("--tap %s: too long to tap: the names beside it need "
		    "%zu bytes, a socket address holds %zu", path, (size_t)n,
		    ADDR_PATH_MAX);
		return -1;
	}
	return 0;
}

/* The server's socket linked at the hidden name; -1 (said). */
static int
link_server(const char *path, const struct stat *st)
{
	struct stat lst;

	if (linkat(tap.dir, tap.name, tap.dir, tap.hidden, 0) == -1) {
		if (errno == EACCES || errno == EROFS)
			warnx("--tap %s: no write permission in its directory",
			    path);
		else if (errno == EPERM)
			warnx("--tap %s: the kernel does not let ucat link "
			    "it (protected_hardlinks)", path);
		else
			warn("--tap %s: link", path);
		return -1;
	}
	/* What was linked, whatever it is, is the tap's to remove. */
	if (fstatat(tap.dir, tap.hidden, &lst, AT_SYMLINK_NOFOLLOW) == -1) {
		warn("--tap %s: %s", path, tap.hidden);
		return -1;
	}
	tap.server_dev = lst.st_dev;
	tap.server_ino = lst.st_ino;
	tap.owner = getpid();
	tap.state = TAP_LINKED;
	/* The server, or another tap, may have made a new one meanwhile. */
	if (lst.st_dev != st->st_dev || lst.st_ino != st->st_ino) {
		warnx("--tap %s: changed while being tapped; try again", path);
		return -1;
	}
	/* Two taps starting at once: each sees the other and gives way. */
	return other_tap(path, true);
}

/*
 * Whether the server's socket can be reached by a descriptor of it held
 * (O_PATH) through /proc/self/fd: then the relays connect to that very
 * socket whatever becomes of its names, even after the swap out has
 * renamed the hidden link back.  Else they connect to the hidden link.
 */
static bool
server_by_fd(const struct stat *st)
{
	struct stat fst;
	int fd;

	if ((fd = openat(tap.dir, tap.hidden, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return false;
	snprintf(tap.by_fd, sizeof(tap.by_fd), "/proc/self/fd/%d", fd);
	if (stat(tap.by_fd, &fst) == 0 && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino)
		return true;
	close(fd);
	return false;
}

/*
 * Makes ready to tap the server at o->addr (its place held): checks it,
 * links its socket at the hidden name, and makes o a -lk relay from a
 * listener at the temporary name, with PATH's mode, to the hidden link.
 * tap_swap then puts the listener in PATH's place.  0, or -1 (said).
 */
int
tap_in(struct options *o)
{
	static struct place hidden, temp;
	const char *path = o->tap;
	struct stat st;
	int type;

	tap.dir = o->addr.place.dir;
	snprintf(tap.name, sizeof(tap.name), "%s", o->addr.place.name);
	if (place_stat(&o->addr.place, &st) == -1) {
		warn("--tap %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		warnx("--tap %s: not a socket; --tap goes in front of a "
		    "server's socket file", path);
		return -1;
	}
	if (other_tap(path, false) == -1 ||
	    (type = server_type(path, &o->addr.place, &st)) == -1)
		return -1;
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		warnx("--tap %s: owned by uid %ld; not as root, ucat taps only "
		    "its own user's sockets", path, (long)st.st_uid);
		return -1;
	}
	if (names(path, &o->addr.place) == -1 || link_server(path, &st) == -1)
		return -1;
	place_beside(&o->addr.place, &hidden, tap.hidden_path, tap.hidden);
	place_beside(&o->addr.place, &temp, tap.temp_path, tap.temp);
	if (server_by_fd(&st))
		hidden = (struct place){ .dir = -1, .home = -1, .path =
		    tap.by_fd, .name = tap.by_fd };
	addr_at(&o->target, &hidden, path);
	addr_at(&o->addr, &temp, path);
	o->type = type;
	o->mode = st.st_mode & 0777;
	o->mode_set = true;
	o->listen = o->keep_open = o->relay = true;
	return 0;
}

/* ucat's listener at the temporary name takes the server's owner and
 * group: through a descriptor of the very socket bound, so that nothing
 * put at the name meanwhile is given away.  -1 (said). */
static int
own_like(const char *path, const struct stat *server)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = openat(tap.dir, tap.temp, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		warn("--tap %s: %s", path, tap.temp);
	else if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		warnx("--tap %s: %s was replaced; not touching it", path,
		    tap.temp);
	else if ((st.st_uid != server->st_uid ||
	    st.st_gid != server->st_gid) && fchownat(fd, "", server->st_uid,
	    server->st_gid, AT_EMPTY_PATH) == -1)
		warn("--tap %s: cannot give ucat's socket its owner and group",
		    path);
	else {
		tap.dev = st.st_dev;
		tap.ino = st.st_ino;
		rc = 0;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * ucat's listener, bound at the temporary name, takes PATH's owner and
 * group, and PATH's place: from then on new clients reach ucat.  The two
 * names are exchanged in one step, and what came out of PATH must be the
 * server's socket; a new one (the server restarted just then) is put
 * back.  0, or -1 (said).
 */
int
tap_swap(const struct options *o)
{
	struct stat server;

	if (fstatat(tap.dir, tap.hidden, &server, AT_SYMLINK_NOFOLLOW) == -1) {
		warn("--tap %s", o->tap);
		return -1;
	}
	if (own_like(o->tap, &server) == -1)
		return -1;
	if (exchange(tap.temp, tap.name) == 0) {
		if (is(tap.temp, tap.server_dev, tap.server_ino)) {
			tap.state = TAP_IN;
			(void)unlinkat(tap.dir, tap.temp, 0);
			return 0;
		}
		(void)exchange(tap.temp, tap.name);
	} else if (errno == EINVAL || errno == ENOSYS) {
		/* No exchange here: looked at first, then renamed. */
		if (is(tap.name, tap.server_dev, tap.server_ino)) {
			if (renameat(tap.dir, tap.temp, tap.dir, tap.name) ==
			    0) {
				tap.state = TAP_IN;
				return 0;
			}
			warn("--tap %s: rename", o->tap);
			return -1;
		}
	} else {
		warn("--tap %s: rename", o->tap);
		return -1;
	}
	warnx("--tap %s: changed while being tapped; try again", o->tap);
	return -1;
}

/*
 * Undoes the tap, at exit or at a fatal signal (safe in a handler): the
 * server's socket goes back to PATH in one step, if PATH still is ucat's
 * listener; else PATH is left to whoever replaced or removed it (a server
 * that restarted, or stopped) and only the hidden link goes.  Where the rename fails, the
 * link stays for --untap.
 */
void
tap_out(void)
{
	if (tap.state == TAP_NONE || getpid() != tap.owner)
		return;
	if (tap.state == TAP_IN) {
		if (exchange(tap.hidden, tap.name) == 0) {
			/* PATH is the server's; the hidden name has what was
			 * at PATH: ucat's listener, or a new server's, which
			 * goes back. */
			if (is(tap.hidden, tap.dev, tap.ino)) {
				(void)unlinkat(tap.dir, tap.hidden, 0);
				tap.state = TAP_NONE;
				return;
			}
			(void)exchange(tap.hidden, tap.name);
		} else if (errno == ENOENT) {
			/* PATH is gone: the server removed it (a one-shot
			 * server does, once it has its client).  It is left
			 * gone, as the server wanted. */
		} else if (errno != EINVAL && errno != ENOSYS)
			return;
		else if (is(tap.name, tap.dev, tap.ino)) {
			if (renameat(tap.dir, tap.hidden, tap.dir, tap.name) ==
			    0)
				tap.state = TAP_NONE;
			return;
		}
	}
	if (is(tap.hidden, tap.server_dev, tap.server_ino))
		(void)unlinkat(tap.dir, tap.hidden, 0);
	tap.state = TAP_NONE;
}

/*
 * Why a client of the tap is turned away, or NULL: not as root, the server
 * would see ucat's identity, so only clients of ucat's own user pass,
 * unless --as-me says that is meant.
 */
const char *
tap_refuses(const struct options *o, const struct peer *pc)
{
	if (o->tap == NULL || o->as_me || geteuid() == 0)
		return NULL;
	/* Not root: only ucat's own uid is relayed as itself. */
	if (!pc->known)
		return "its credentials are unknown";
	if (pc->uid != geteuid())
		return "not ucat's user, and ucat is not root to connect as "
		    "it (--as-me: as ucat's)";
	return NULL;
}

/* The client's supplementary groups (SO_PEERGROUPS); *n of them, in a
 * block to free.  NULL with *n 0 where the kernel cannot tell. */
static gid_t *
peer_groups(int fd, size_t *n)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *g = NULL, *more;

	*n = 0;
#ifdef SO_PEERGROUPS
	for (;;) {
		if ((more = realloc(g, len)) == NULL)
			break;
		g = more;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			*n = len / sizeof(gid_t);
			return g;
		}
		if (errno != ERANGE)
			break;
	}
#else
	(void)fd;
	(void)more;
#endif
	free(g);
	return NULL;
}

/*
 * In the child that relays the client fd, before it connects to the
 * server: the terminal's signals (Ctrl-C, a hang-up) are the tap's to
 * stop on, and this relay goes on to its end.  As root (and without
 * --as-me), the child becomes the client: its uid, gid and groups, so
 * that the server's SO_PEERCRED and SO_PEERGROUPS name the client, not
 * root.  It is made undumpable, whatever fs.suid_dumpable says: the client
 * must not trace it, nor reach the files it holds (-x, --pcap).  0, or -1
 * with errno.
 */
int
tap_child(const struct options *o, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t *groups;
	size_t n;
	int rc = 0;

	if (o->tap == NULL)
		return 0;
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (geteuid() != 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	groups = peer_groups(fd, &n);
	if (setgroups(groups != NULL ? n : 1, groups != NULL ? groups :
	    &uc.gid) == -1 || setresgid(uc.gid, uc.gid, uc.gid) == -1 ||
	    setresuid(uc.uid, uc.uid, uc.uid) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		rc = -1;
	free(groups);
	return rc;
}

/* --untap: what was found beside PATH. */
struct leftover {
	pid_t		 running;	/* a tap still there */
	pid_t		 pid;		/* a dead tap's link */
	char		 name[NAME_MAX + 1];
	int		 links;		/* how many */
	uid_t		 owner;		/* whose files a tap's can be */
	int		 removed;	/* listeners that never took PATH's
					 * place */
};

/* PATH's place, for --untap. */
static struct place untapped;

/* Whether a server listens at name, beside PATH: 1, 0, or -1. */
static int
live_beside(const char *name)
{
	char path[PATH_MAX];
	struct place p;

	snprintf(path, sizeof(path), "%.*s%s",
	    (int)(untapped.name - untapped.path), untapped.path, name);
	place_beside(&untapped, &p, path, name);
	return sock_live(&p);
}

/* Whether name is a socket whose owner a tap's files can have. */
static bool
tap_owned(const char *name, const struct leftover *l)
{
	struct stat st;

	return fstatat(tap.dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_uid == l->owner;
}

/* each_tap's for --untap: the links of dead taps, counted; a running tap
 * stops the count. */
static int
find_link(pid_t pid, const char *name, void *arg)
{
	struct leftover *l = arg;

	if (alive(pid)) {
		l->running = pid;
		return 1;
	}
	l->links++;
	l->pid = pid;
	snprintf(l->name, sizeof(l->name), "%s", name);
	return 0;
}

/* each_tap's for --untap: a dead tap's listener that never took PATH's
 * place goes, if nobody listens on it; so does a second name of the
 * server's socket (a tap killed inside its swap in). */
static int
undo_temp(pid_t pid, const char *name, void *arg)
{
	struct leftover *l = arg;
	struct stat st, at;

	if (alive(pid) || fstatat(tap.dir, name, &st, AT_SYMLINK_NOFOLLOW) ==
	    -1 || !S_ISSOCK(st.st_mode) || (st.st_uid != l->owner &&
	    st.st_uid != geteuid()))
		return 0;
	if ((live_beside(name) == 0 || (fstatat(tap.dir, tap.name, &at,
	    AT_SYMLINK_NOFOLLOW) == 0 && at.st_dev == st.st_dev &&
	    at.st_ino == st.st_ino)) && unlinkat(tap.dir, name, 0) == 0)
		l->removed++;
	return 0;
}

/*
 * The one link a dead tap left goes back over PATH if nobody listens at
 * PATH (or PATH is gone), else away if nobody listens on it either.  It
 * must be a socket of PATH's owner (of root or ucat's user, with PATH
 * gone): in a directory others can write, a name that looks like a tap's
 * is not trusted for more.  0, or -1 (said).
 */
static int
undo_link(const char *path, const struct leftover *l, int verbose)
{
	struct stat st, at;
	int at_path;

	if (!tap_owned(l->name, l)) {
		warnx("--untap %s: %s is not a socket of uid %ld; not "
		    "touching it", path, l->name, (long)l->owner);
		return -1;
	}
	/* Killed before its rename: the link is a second name of PATH's. */
	if (fstatat(tap.dir, l->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fstatat(tap.dir, tap.name, &at, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == at.st_dev && st.st_ino == at.st_ino) {
		if (unlinkat(tap.dir, l->name, 0) == -1) {
			warn("--untap %s: remove %s", path, l->name);
			return -1;
		}
		return 0;
	}
	if ((at_path = live_beside(tap.name)) == -1) {
		warn("--untap %s", path);
		return -1;
	}
	if (at_path == 0) {
		if (renameat(tap.dir, l->name, tap.dir, tap.name) == -1) {
			warn("--untap %s: rename %s", path, l->name);
			return -1;
		}
		if (verbose)
			warnx("%s: the server's socket is back (from %s)",
			    path, l->name);
		return 0;
	}
	if (live_beside(l->name) != 0) {
		warnx("--untap %s: a server listens at %s and at %s; not "
		    "touching either", path, path, l->name);
		return -1;
	}
	if (unlinkat(tap.dir, l->name, 0) == -1) {
		warn("--untap %s: remove %s", path, l->name);
		return -1;
	}
	if (verbose)
		warnx("%s: a server listens there again; removed %s", path,
		    l->name);
	return 0;
}

/*
 * --untap PATH (its place held in ua): what a tap that could not swap out
 * (killed with SIGKILL) left is put right: the server's socket back over
 * PATH, unless a server listens at PATH again.  Refused while that tap
 * runs, and where more than one dead tap left a link (which is the
 * server's cannot be told).  0, or -1 (said).
 */
int
tap_undo(const struct uaddr *ua, int verbose)
{
	struct leftover l = { .links = 0 };
	struct stat st;

	untapped = ua->place;
	tap.dir = ua->place.dir;
	snprintf(tap.name, sizeof(tap.name), "%s", ua->place.name);
	l.owner = place_stat(&ua->place, &st) == 0 ? st.st_uid : geteuid();
	if (each_tap(hidden_tag, find_link, &l) == -1) {
		warn("--untap %s: cannot read its directory", ua->text);
		return -1;
	}
	if (l.running != 0) {
		warnx("--untap %s: tapped by pid %ld, which is running; end it "
		    "with kill -TERM %ld", ua->text, (long)l.running,
		    (long)l.running);
		return -1;
	}
	if (l.links > 1) {
		warnx("--untap %s: %d taps left links beside it; which is the "
		    "server's cannot be told: put it back by hand", ua->text,
		    l.links);
		return -1;
	}
	if (l.links == 1 && undo_link(ua->text, &l, verbose) == -1)
		return -1;
	(void)each_tap(temp_tag, undo_temp, &l);
	if (l.links == 0 && l.removed == 0) {
		warnx("--untap %s: no tap left anything beside it", ua->text);
		return -1;
	}
	return 0;
}

#else /* !HAVE_TAP */

int
tap_in(struct options *o)
{
	(void)o;
	warnx("--tap: not supported on this system");
	return -1;
}

int
tap_swap(const struct options *o)
{
	(void)o;
	return -1;
}

void
tap_out(void)
{
}

const char *
tap_refuses(const struct options *o, const struct peer *pc)
{
	(void)o;
	(void)pc;
	return NULL;
}

int
tap_child(const struct options *o, int fd)
{
	(void)o;
	(void)fd;
	return 0;
}

int
tap_undo(const struct uaddr *ua, int verbose)
{
	(void)ua;
	(void)verbose;
	warnx("--untap: not supported on this system");
	return -1;
}

#endif /* HAVE_TAP */

/* For ucat -V. */
const char *
tap_features(void)
{
#ifdef HAVE_TAP
	return " tap";
#else
	return "";
#endif
}
