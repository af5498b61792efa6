/* relay.c: a client joined to a new connection to TARGET, both ways, by the pump. */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* Connects to TARGET, bound to -s first if given; a failure is reported
 * with TARGET's name. */
static int
connect_target(const struct options *o, struct trace *t)
{
	bool bind_failed;
	int fd;

	fd = sock_connect(o, &o->target, o->src_set ? &o->src : NULL,
	    &bind_failed);
	if (fd == -1) {
		sock_warn(bind_failed ? "bind" : "connect",
		    bind_failed ? &o->src : &o->target);
		trace_event(t, "error: %s %s: %s", bind_failed ? "bind" :
		    "connect", bind_failed ? o->src.text : o->target.text,
		    strerror(errno));
		trace_refused(t, o->type == SOCK_STREAM);
		return -1;
	}
	if (o->verbose)
		warnx("connected to %s", o->target.text);
	trace_connected(t, fd, &o->target);
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
relay_client(const struct options *o, struct trace *t, int fd)
{
	struct end client = { .kind = END_STREAM }, target = client;
	int up, rc = -1;

	if (tap_child(o, fd) == -1) {
		warn("--tap %s: cannot connect as the client", o->tap);
		close(fd);
		return -1;
	}
	if ((up = connect_target(o, t)) == -1) {
		close(fd);
		return -1;
	}
	sandbox_connected(o);
	if (end_socket(&client, o, t, fd, o->addr.text) == -1)
		warn(NULL);
	else if (end_socket(&target, o, t, up, o->target.text) == -1) {
		warn(NULL);
		end_free(&client);
	} else {
		rc = pump_run(o, t, &client, &target);
		end_free(&client);
		end_free(&target);
	}
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
relay_spawn(const struct options *o, struct trace *t, int lfd, int fd)
{
	pid_t pid;

	if ((pid = signals_fork()) != 0)
		return pid;
	close(lfd);
	sock_forget();
	notify_forget();
	signals_unblock();
	_exit(relay_client(o, t, fd) == 0 ? 0 : 1);
}
