/* relay.c: a client joined to a new connection to TARGET, both ways, by the pump. */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* Connects to TARGET, bound to -s first if given; a failure is reported
 * with TARGET's name. */
static int
connect_target(const struct options *o)
{
	bool bind_failed;
	int fd;

	fd = sock_connect(o, &o->target, o->src_set ? &o->src : NULL,
	    &bind_failed);
	if (fd == -1) {
		sock_warn(bind_failed ? "bind" : "connect",
		    bind_failed ? &o->src : &o->target);
		dump_event("error: %s %s: %s", bind_failed ? "bind" :
		    "connect", bind_failed ? o->src.text : o->target.text,
		    strerror(errno));
		trace_refused(o->type == SOCK_STREAM);
		return -1;
	}
	if (o->verbose)
		warnx("connected to %s", o->target.text);
	dump_connected(fd, &o->target);
	return fd;
}

/*
 * Joins the client on fd to a new connection to TARGET until both ways
 * are done, or either side resets; then closes both.  A TARGET that cannot
 * be reached closes the client at once.  With -u, fd is the listening
 * datagram socket: each message goes to TARGET from one autobound socket
 * of ucat's, and each answer back to the most recent sender.  Returns 0,
 * or -1 (reported).
 */
int
relay_client(const struct options *o, int fd)
{
	static char cbuf[END_BUF_SIZE], tbuf[END_BUF_SIZE];
	struct end client, target;
	int up, rc;

	if ((up = connect_target(o)) == -1) {
		close(fd);
		return -1;
	}
	sandbox_connected(o);
	end_socket(&client, o, fd, o->addr.text, cbuf);
	end_socket(&target, o, up, o->target.text, tbuf);
	rc = pump_run(o, &client, &target);
	close(fd);
	close(up);
	return rc;
}

/*
 * With -k: the client on fd is relayed by a child of its own, so that a
 * stalled client or TARGET never delays another.  The child owns neither
 * the listening socket nor its file.  Returns the child's pid, or -1.
 */
pid_t
relay_spawn(const struct options *o, int lfd, int fd)
{
	sigset_t fatal, old, none;
	pid_t pid;

	/* A fatal signal in the child before it forgets the parent's files
	 * would remove them. */
	signals_fatal(&fatal);
	sigprocmask(SIG_BLOCK, &fatal, &old);
	if ((pid = fork()) != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return pid;
	}
	close(lfd);
	sock_forget();
	notify_forget();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	_exit(relay_client(o, fd) == 0 ? 0 : 1);
}

/* Without -l: connects to ADDRESS, then joins it to TARGET once. */
int
relay_connect(const struct options *o)
{
	bool bind_failed;
	int fd;

	if (o->addr.inherited)
		fd = o->addr.fd;
	else if ((fd = sock_connect(o, &o->addr, NULL, &bind_failed)) == -1) {
		sock_warn("connect", &o->addr);
		return -1;
	}
	if (o->verbose)
		warnx("connected to %s", o->addr.text);
	sandbox_enter(o);
	notify_connected(o);
	trace_connect();
	dump_connected(fd, &o->addr);
	return relay_client(o, fd);
}
