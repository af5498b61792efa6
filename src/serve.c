/* serve.c: a listener's clients: access control, then a pump, a relay or a program each. */
#include "config.h"

#include <sys/select.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* Running -k children; the SIGCHLD handler reaps them as they end, and
 * with -v says how each program ended. */
static volatile sig_atomic_t children;
static volatile sig_atomic_t tell_ends;

/* p, then the decimal digits of v; safe in a signal handler. */
static char *
put_num(char *p, long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* "ucat: program 4242 exited with 0" (or "killed by signal 9"), in one
 * write(2): no stdio in a handler. */
static void
tell_end(pid_t pid, int status)
{
	static const char head[] = "ucat: program ";
	char line[96], *p = line;

	memcpy(p, head, sizeof(head) - 1);
	p = put_num(p + sizeof(head) - 1, (long)pid);
	if (WIFSIGNALED(status)) {
		memcpy(p, " killed by signal ", 18);
		p = put_num(p + 18, WTERMSIG(status));
	} else {
		memcpy(p, " exited with ", 13);
		p = put_num(p + 13, WEXITSTATUS(status));
	}
	*p++ = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)(p - line));
}

static void
on_child(int sig)
{
	int saved = errno, status;
	pid_t pid;

	(void)sig;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		children--;
		if (tell_ends)
			tell_end(pid, status);
	}
	errno = saved;
}

static bool
listed(const struct idlist *l, unsigned long id)
{
	size_t i;

	if (l == NULL)
		return true;
	for (i = 0; i < l->n; i++)
		if (l->id[i] == id)
			return true;
	return false;
}

/* Why the peer is refused, or NULL: every list given must name it (with
 * none, anyone may connect), and a tap must be able to relay it as
 * itself. */
static const char *
refusal(const struct options *o, const struct peer *pc)
{
	if (o->allow_uid != NULL || o->allow_gid != NULL) {
		if (!pc->known)
			return "its credentials are unknown";
		if (!listed(o->allow_uid, pc->uid) ||
		    !listed(o->allow_gid, pc->gid))
			return "not allowed";
	}
	return tap_refuses(o, pc);
}

/* Who connected, in words: its credentials, its TCP address, or where. */
static void
who(int fd, const struct peer *pc, const struct options *o, char *text,
    size_t size)
{
	char name[ADDR_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (pc->known)
		snprintf(text, size, "connection from pid %ld uid %ld gid %ld",
		    (long)pc->pid, (long)pc->uid, (long)pc->gid);
	else if (o->addr.family != AF_UNIX &&
	    getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		snprintf(text, size, "connection from %s", addr_format(
		    (struct sockaddr *)&ss, len, name, sizeof(name)));
	else
		snprintf(text, size, "connection from an unknown peer on %s",
		    o->addr.text);
}

/* Accepts the next client that passes --allow-uid and --allow-gid. */
static int
next_client(const struct options *o, struct trace *t, int lfd,
    struct peer *pc)
{
	char text[ADDR_TEXT_MAX + 64];
	const char *why;
	int fd;

	for (;;) {
		if ((fd = sock_accept(lfd)) == -1)
			return -1;
		if (sock_peer(fd, &o->addr, pc) == -1)
			pc->known = false;
		if ((why = refusal(o, pc)) == NULL) {
			who(fd, pc, o, text, sizeof(text));
			if (o->verbose)
				warnx("%s", text);
			trace_connect(t);
			trace_event(t, "%s", text);
			return fd;
		}
		if (o->verbose && pc->known)
			warnx("refused pid %ld uid %ld gid %ld: %s",
			    (long)pc->pid, (long)pc->uid, (long)pc->gid, why);
		else if (o->verbose)
			warnx("refused a client: %s", why);
		close(fd);
	}
}

/*
 * How long a tap's listener stays after its swap out with no client
 * coming: a connect(2) that found ucat's socket at PATH just before the
 * rename still arrives, and is served.
 */
#define DRAIN_QUIET_MS	200

/*
 * Waits, the signals of old let in, until a client is there (1), a signal
 * came (-1), or, draining, none came for DRAIN_QUIET_MS (0).  pselect
 * lets the signals in only while it waits, so that one that came before
 * it is not lost.
 */
static int
await_client(int lfd, const sigset_t *old)
{
	struct timespec quiet = { 0, DRAIN_QUIET_MS * 1000000L };
	fd_set r;
	int n;

	FD_ZERO(&r);
	FD_SET(lfd, &r);
	n = pselect(lfd + 1, &r, NULL, NULL, signals_draining() ? &quiet :
	    NULL, old);
	return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* -e/-c or a relay, with -k: a child per client, at most --max-conns at
 * once.  A tap's listener drains at a fatal signal (signals_drain): it
 * takes no client it would wait for, and ends once none comes. */
static int
serve_children(const struct options *o, struct trace *t, int lfd)
{
	struct sigaction sa;
	struct peer pc;
	sigset_t block, old;
	pid_t pid;
	int fd, r;

	tell_ends = o->verbose > 0 && o->exec_argv != NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	/* SIGCHLD is let in only while waiting, so the count stays exact. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	if (o->tap != NULL) {
		signals_drain(&block);
		(void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	}
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		/* Past the limit, clients wait in the backlog. */
		while (children >= o->max_conns && !signals_draining())
			sigsuspend(&old);
		if (o->tap != NULL && (r = await_client(lfd, &old)) <= 0) {
			if (r == 0)
				break;
			continue;
		}
		/* A tap's accept never waits: its signals wait too. */
		if (o->tap == NULL)
			sigprocmask(SIG_SETMASK, &old, NULL);
		fd = next_client(o, t, lfd, &pc);
		sigprocmask(SIG_BLOCK, &block, NULL);
		if (fd == -1 && o->tap != NULL && errno == EAGAIN)
			continue;
		if (fd == -1) {
			warn("accept on %s", o->addr.text);
			return -1;
		}
		if (o->relay && (pid = relay_spawn(o, t, lfd, fd)) == -1)
			warn("fork");
		else if (!o->relay && (pid = exec_spawn(o, fd, fd, &pc)) == -1)
			warn("exec %s", o->exec_argv[0]);
		else
			children++;
		close(fd);
	}
	/* A tap that swapped out: its relays go on to their end. */
	close(lfd);
	while (children > 0)
		sigsuspend(&old);
	return 0;
}

/*
 * -e/-c on a datagram socket: each message runs the program once, with
 * the message as its stdin, and what it prints goes back to that sender
 * alone, as one message (exec_message).  Messages are served one at a
 * time; a sender with no address cannot be answered, and its program's
 * answer is dropped.
 */
static int
serve_datagrams(const struct options *o, struct trace *t, int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct end l = { .kind = END_STREAM };
	enum io r;
	int rc = 0;

	if (end_socket(&l, o, t, lfd, o->addr.text) == -1) {
		warn(NULL);
		return -1;
	}
	while (rc == 0) {
		if (poll(&p, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			rc = -1;
			break;
		}
		/* A session of one message, counted on its own. */
		l.quota = 1;
		l.eof = l.closed = false;
		l.peerlen = 0;
		l.nread = l.nwritten = 0;
		if ((r = message_read_batch(&l, &l.batch, p.revents)) == IO_FAIL)
			rc = -1;
		else if (r == IO_DONE) {
			l.closed = l.peerlen == 0;
			rc = exec_message(o, t, &l);
		}
	}
	end_free(&l);
	return rc;
}

/* One client, then no more: its program, or its relay. */
static int
serve_one(const struct options *o, struct trace *t, int lfd)
{
	struct peer pc;
	int fd;

	if ((fd = next_client(o, t, lfd, &pc)) == -1) {
		warn("accept on %s", o->addr.text);
		return 1;
	}
	close(lfd);
	if (o->exec_argv != NULL)
		return exec_run(o, fd, &pc);
	return relay_client(o, t, fd) == 0 ? 0 : 1;
}

/*
 * Stdio pumped through each client in turn (-k), or through the one; a
 * datagram listener's socket is its own client.  Stdin and stdout are
 * one end for them all: what stdin still holds goes to the next client.
 */
static int
serve_stdio(const struct options *o, struct trace *t, int lfd)
{
	struct end io, sock = { .kind = END_STREAM };
	struct peer pc;
	int fd, rc = 0;

	if (end_stdio(&io, o, t) == -1) {
		warn(NULL);
		return 1;
	}
	if (o->type == SOCK_DGRAM)
		rc = pump_stdio(o, t, &io, &sock, lfd);
	else
		do {
			if ((fd = next_client(o, t, lfd, &pc)) == -1) {
				warn("accept on %s", o->addr.text);
				rc = -1;
				break;
			}
			if (!o->keep_open)
				close(lfd);
			rc = pump_stdio(o, t, &io, &sock, fd);
			close(fd);
		} while (o->keep_open && rc == 0);
	end_free(&sock);
	end_free(&io);
	return rc == 0 ? 0 : 1;
}

/*
 * Serves the clients of the listening socket lfd.  Without -k one client
 * is served and the listening socket closed at once, so that later
 * clients are refused rather than left waiting.  Returns an exit status.
 */
int
serve_run(const struct options *o, struct trace *t, int lfd)
{
	if (o->type == SOCK_DGRAM && o->exec_argv != NULL)
		return serve_datagrams(o, t, lfd) == 0 ? 0 : 1;
	if (o->type == SOCK_DGRAM && o->relay)
		return relay_client(o, t, lfd) == 0 ? 0 : 1;
	if ((o->exec_argv != NULL || o->relay) && o->keep_open)
		return serve_children(o, t, lfd) == 0 ? 0 : 1;
	if (o->exec_argv != NULL || o->relay)
		return serve_one(o, t, lfd);
	return serve_stdio(o, t, lfd);
}
