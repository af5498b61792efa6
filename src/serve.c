/* serve.c: a listener's clients: access control, then a pump, a relay or a program each. */
#include "config.h"

#include <sys/wait.h>

#include <err.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* Running -k children; the SIGCHLD handler reaps them as they end. */
static volatile sig_atomic_t children;

static void
on_child(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		children--;
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

/* Every list given must name the peer; with none, anyone may connect. */
static bool
allowed(const struct options *o, const struct peer *pc)
{
	if (o->allow_uid == NULL && o->allow_gid == NULL)
		return true;
	return pc->known && listed(o->allow_uid, pc->uid) &&
	    listed(o->allow_gid, pc->gid);
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
next_client(const struct options *o, int lfd, struct peer *pc)
{
	char text[ADDR_TEXT_MAX + 64];
	int fd;

	for (;;) {
		if ((fd = sock_accept(lfd)) == -1)
			return -1;
		if (sock_peer(fd, &o->addr, pc) == -1)
			pc->known = false;
		if (allowed(o, pc)) {
			who(fd, pc, o, text, sizeof(text));
			if (o->verbose)
				warnx("%s", text);
			trace_connect();
			dump_event("%s", text);
			return fd;
		}
		if (o->verbose && pc->known)
			warnx("refused pid %ld uid %ld gid %ld: not allowed",
			    (long)pc->pid, (long)pc->uid, (long)pc->gid);
		else if (o->verbose)
			warnx("refused a client whose credentials are unknown");
		close(fd);
	}
}

/* -e/-c or a relay, with -k: a child per client, at most --max-conns at
 * once. */
static int
serve_children(const struct options *o, int lfd)
{
	struct sigaction sa;
	struct peer pc;
	sigset_t chld, old;
	pid_t pid;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	/* SIGCHLD is let in only while waiting, so the count stays exact. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		/* Past the limit, clients wait in the backlog. */
		while (children >= o->max_conns)
			sigsuspend(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
		fd = next_client(o, lfd, &pc);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		if (fd == -1) {
			warn("accept on %s", o->addr.text);
			return -1;
		}
		if (o->relay && (pid = relay_spawn(o, lfd, fd)) == -1)
			warn("fork");
		else if (!o->relay && (pid = exec_spawn(o, fd, fd, &pc)) == -1)
			warn("exec %s", o->exec_argv[0]);
		else
			children++;
		close(fd);
	}
}

/*
 * -e/-c on a datagram socket: each message runs the program once with the
 * message as its stdin; what it prints goes back to the sender as one
 * message.  Messages are served one at a time.
 */
static int
serve_datagrams(const struct options *o, int fd)
{
	static char msg[DGRAM_MAX], reply[DGRAM_MAX];
	char text[ADDR_TEXT_MAX];
	struct sockaddr_un from;
	socklen_t fromlen;
	ssize_t n, rlen;
	uint64_t in = 0, out = 0;
	bool cut;

	/* Traced as a listener's pump: what comes in is '<'. */
	trace_begin(false, false);
	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			warn("receive on %s", o->addr.text);
			return -1;
		}
		addr_format((struct sockaddr *)&from, fromlen, text,
		    sizeof(text));
		if ((size_t)n > sizeof(msg)) {
			warnx("%s: message of %zd bytes from %s truncated to "
			    "%zu", o->addr.text, n, text, sizeof(msg));
			n = sizeof(msg);
		}
		if (o->verbose)
			warnx("message from %s", text);
		trace_chunk('<', msg, (size_t)n, true, ++in);
		rlen = exec_message(o, msg, (size_t)n, reply, sizeof(reply),
		    &cut);
		if (rlen == -1)
			return -1;
		if (cut)
			warnx("reply to %s cut to %zd bytes", text, rlen);
		if (rlen == 0)
			continue;
		if (fromlen <= sizeof(sa_family_t))
			warnx("%s: the sender has no address; its reply is "
			    "dropped", o->addr.text);
		else if (sendto(fd, reply, (size_t)rlen, MSG_DONTWAIT,
		    (struct sockaddr *)&from, fromlen) == -1)
			warn("reply to %s", text);
		else
			trace_chunk('>', reply, (size_t)rlen, true, ++out);
	}
}

/*
 * Serves the clients of the listening socket lfd.  Without -k one client
 * is served and the listening socket closed at once, so that later
 * clients are refused rather than left waiting.  Returns an exit status.
 */
int
serve_run(const struct options *o, int lfd)
{
	struct peer pc;
	int fd, rc;

	if (o->type == SOCK_DGRAM && o->exec_argv != NULL)
		return serve_datagrams(o, lfd) == 0 ? 0 : 1;
	if (o->type == SOCK_DGRAM && o->relay)
		return relay_client(o, lfd) == 0 ? 0 : 1;
	if (o->type == SOCK_DGRAM)
		return pump_stdio(o, lfd) == 0 ? 0 : 1;
	if ((o->exec_argv != NULL || o->relay) && o->keep_open)
		return serve_children(o, lfd) == 0 ? 0 : 1;
	do {
		if ((fd = next_client(o, lfd, &pc)) == -1) {
			warn("accept on %s", o->addr.text);
			return 1;
		}
		if (!o->keep_open)
			close(lfd);
		if (o->exec_argv != NULL)
			return exec_run(o, fd, &pc);
		if (o->relay)
			return relay_client(o, fd) == 0 ? 0 : 1;
		rc = pump_stdio(o, fd);
		close(fd);
	} while (o->keep_open && rc == 0);
	return rc == 0 ? 0 : 1;
}
