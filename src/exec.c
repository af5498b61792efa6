/* exec.c: running the -e/-c program for a client or a message, UCSPI style. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

static void
setenv_num(const char *name, long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", value);
	setenv(name, buf, 1);
}

/* One end of a TCP connection as UCSPI's IP and PORT variables. */
static void
tcp_end(const char *ip_var, const char *port_var,
    const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		setenv_num(port_var, ntohs(sin->sin_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		setenv_num(port_var, ntohs(sin6->sin6_port));
	}
	setenv(ip_var, ip, 1);
}

/* UCSPI's TCP variables of the connection fd (tcpserver's names); a udp:
 * listener's program has a message on a pipe, and only PROTO=UDP. */
static void
tcp_env(int fd, bool udp)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	setenv("PROTO", udp ? "UDP" : "TCP", 1);
	if (udp)
		return;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		tcp_end("TCPLOCALIP", "TCPLOCALPORT", &ss);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		tcp_end("TCPREMOTEIP", "TCPREMOTEPORT", &ss);
}

/* In the child: stdio, signals and environment, then the program. */
static void __attribute__((noreturn))
child(const struct options *o, int in, int out, const struct peer *pc,
    int report)
{
	char name[ADDR_TEXT_MAX];
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int e;

	signals_child();
	if ((in != STDIN_FILENO && dup2(in, STDIN_FILENO) == -1) ||
	    (out != STDOUT_FILENO && dup2(out, STDOUT_FILENO) == -1))
		goto fail;
	/* dup2 clears close-on-exec on 0 and 1; in and out keep theirs. */
	if (in == STDIN_FILENO)
		fcntl(STDIN_FILENO, F_SETFD, 0);
	if (out == STDOUT_FILENO)
		fcntl(STDOUT_FILENO, F_SETFD, 0);

	if (o->addr.family != AF_UNIX) {
		tcp_env(in, o->addr.udp);
		goto run;
	}
	setenv("PROTO", "UNIX", 1);
	/* A path as given, byte for byte (the kernel may keep the bare
	 * name: place_socket); else the name the socket really has: "@"
	 * becomes the name chosen. */
	if (o->addr.place.dir != -1)
		setenv("UNIXLOCALPATH", o->addr.sun.sun_path, 1);
	else if (getsockname(in, (struct sockaddr *)&sun, &len) == 0) {
		if (len > sizeof(sa_family_t))
			setenv("UNIXLOCALPATH", addr_format((struct sockaddr *)
			    &sun, len, name, sizeof(name)), 1);
	} else {
		setenv("UNIXLOCALPATH", o->addr.text, 1);
	}
	if (pc != NULL && pc->known) {
		if (pc->pid > 0)
			setenv_num("UNIXREMOTEPID", (long)pc->pid);
		setenv_num("UNIXREMOTEEUID", (long)pc->uid);
		setenv_num("UNIXREMOTEEGID", (long)pc->gid);
	}
run:
	execvp(o->exec_argv[0], o->exec_argv);
fail:
	/* The parent reads errno from the close-on-exec pipe. */
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

/*
 * Starts the program with in as its stdin and out as its stdout (stderr
 * stays ucat's).  Returns its pid, or -1 with errno set when it could not
 * be started, exec failures included: a close-on-exec pipe carries the
 * child's errno back, and reads empty once exec succeeded.
 */
pid_t
exec_spawn(const struct options *o, int in, int out, const struct peer *pc)
{
	int pfd[2], e;
	ssize_t n;
	pid_t pid;

	if (pipe_cloexec(pfd) == -1)
		return -1;
	/* No handler of ours may run in the child before exec. */
	if ((pid = signals_fork()) == 0) {
		close(pfd[0]);
		child(o, in, out, pc, pfd[1]);
	}
	e = errno;
	close(pfd[1]);
	if (pid == -1) {
		close(pfd[0]);
		errno = e;
		return -1;
	}
	do {
		n = read(pfd[0], &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(e)) {
		(void)exec_wait(pid, NULL);
		errno = e;
		return -1;
	}
	return pid;
}

/* waitpid(2) for pid, through any signal that comes meanwhile. */
int
exec_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * Runs the program for one connection fd and waits for it.  Returns its
 * exit status the way a shell reports it (128 + N for signal N), or 1 when
 * it could not be started.
 */
int
exec_run(const struct options *o, int fd, const struct peer *pc)
{
	int status;
	pid_t pid;

	pid = exec_spawn(o, fd, fd, pc);
	close(fd);
	if (pid == -1) {
		warn("exec %s", o->exec_argv[0]);
		return 1;
	}
	if (exec_wait(pid, &status) == -1) {
		warn("wait for %s", o->exec_argv[0]);
		return 1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/*
 * Runs the program once for the message that the datagram listener l has
 * taken (its batch holds it, and it takes no more): the message is the
 * program's stdin, and what it prints goes back to the sender as one
 * message, moved by the pump as any flow is.  Then waits for the program
 * (ended at once if the pump gave up on it: -w).  Returns 0, or -1 when
 * no pipe could be made (reported); a program that could not be started
 * is reported, and the next message may fare better.
 */
int
exec_message(const struct options *o, struct trace *t, struct end *l)
{
	struct end prog;
	int in[2], out[2], rc = 0;
	pid_t pid;

	if (pipe_cloexec(in) == -1) {
		warn("pipe");
		return -1;
	}
	if (pipe_cloexec(out) == -1) {
		warn("pipe");
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = exec_spawn(o, in[0], out[1], NULL);
	close(in[0]);
	close(out[1]);
	if (pid == -1)
		warn("exec %s", o->exec_argv[0]);
	/* The program's pipes never make ucat wait. */
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (pid != -1 && end_program(&prog, t, out[0], in[1],
	    o->exec_argv[0]) == -1) {
		warn(NULL);
		rc = -1;
	}
	if (pid == -1 || rc == -1) {
		close(in[1]);
		close(out[0]);
	} else {
		if (pump_run(o, t, &prog, l) == -1)
			(void)kill(pid, SIGKILL);
		end_free(&prog);
	}
	if (pid != -1)
		(void)exec_wait(pid, NULL);
	return rc;
}

/* A file that can be run: regular and executable by ucat's user. */
static int
runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS);
}

/*
 * Whether -e's program can be run, found as execvp(3) finds it: a name
 * with a '/' as it is, else the first of that name in PATH that can be run
 * (an empty entry is the working directory).  -1 with errno ENOENT, or
 * EACCES where one was found that cannot be run.
 */
int
exec_check(const char *prog)
{
	const char *path = getenv("PATH"), *p, *end;
	char file[PATH_MAX];
	bool denied = false;
	size_t len;

	if (strchr(prog, '/') != NULL)
		return runnable(prog);
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path; p != NULL; p = end != NULL ? end + 1 : NULL) {
		end = strchr(p, ':');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if ((size_t)snprintf(file, sizeof(file), "%.*s%s%s", (int)len,
		    p, len > 0 ? "/" : "", prog) >= sizeof(file))
			continue;
		if (runnable(file) == 0)
			return 0;
		denied |= errno == EACCES;
	}
	errno = denied ? EACCES : ENOENT;
	return -1;
}
