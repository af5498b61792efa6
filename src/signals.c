/* signals.c: the signals that end ucat, the one list of what is undone at exit, and forks that no handler runs across. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"

/* The signals that end ucat after it cleaned up (SPEC: SIGINT, SIGTERM,
 * SIGHUP); what a handler does must not be cut by another. */
static const int fatal[] = { SIGINT, SIGTERM, SIGHUP };
#define NFATAL	(sizeof(fatal) / sizeof(fatal[0]))

/*
 * What is undone when ucat ends, however it ends: a normal exit (atexit)
 * and a fatal signal walk this one list, latest first.  A handler reads
 * it, so an entry is filled before it is counted, and each must be safe
 * in a signal handler.
 */
#define CLEANUPS_MAX	8
static void		(*cleanups[CLEANUPS_MAX])(void);
static volatile sig_atomic_t ncleanups;

/*
 * A listener that drains (--tap): at the first fatal signal the list is
 * undone and the signal noted, instead of ucat ending, so that clients on
 * their way are still served; the next one ends it.  Only the process
 * that asked drains, not its children.
 */
static volatile sig_atomic_t drain_pid;
static volatile sig_atomic_t draining;

/* SIGUSR1 came: the counts are asked for (dd's habit). */
static volatile sig_atomic_t counts_asked;

static void
on_usr1(int sig)
{
	(void)sig;
	counts_asked = 1;
}

/* Whether SIGUSR1 asked for the counts since the last time. */
bool
signals_counts_asked(void)
{
	if (!counts_asked)
		return false;
	counts_asked = 0;
	return true;
}

static void
clean_up(void)
{
	while (ncleanups > 0)
		cleanups[--ncleanups]();
}

/* fn will run when ucat ends.  -1 when the list is full. */
int
signals_at_exit(void (*fn)(void))
{
	if (ncleanups == CLEANUPS_MAX)
		return -1;
	cleanups[ncleanups] = fn;
	ncleanups++;
	return 0;
}

static void
fatal_set(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < NFATAL; i++)
		sigaddset(set, fatal[i]);
}

/* The handler was reset on entry: undo what the list says, then die of
 * sig. */
static void
on_fatal(int sig)
{
	int saved = errno;

	clean_up();
	if (drain_pid != 0 && drain_pid == getpid() && !draining) {
		draining = 1;
		errno = saved;
		return;
	}
	raise(sig);
}

/* From now on the first fatal signal lets this process drain (see
 * drain_pid); set, the fatal signals are added to block. */
void
signals_drain(sigset_t *block)
{
	size_t i;

	drain_pid = getpid();
	for (i = 0; i < NFATAL; i++)
		sigaddset(block, fatal[i]);
}

/* The fatal signals wait (hold) or come again: around steps whose undoing
 * must not see them half done. */
void
signals_hold(bool hold)
{
	sigset_t set;

	fatal_set(&set);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* Whether a fatal signal asked the listener to drain. */
bool
signals_draining(void)
{
	return draining;
}

/*
 * SIGPIPE is never fatal (a closed reader is an EPIPE the pump handles),
 * nor is SIGXFSZ; the fatal ones clean up first, and so does exit.
 */
void
signals_setup(void)
{
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file over its size limit (a dump, stdout) is EFBIG, warned of. */
	sigaction(SIGXFSZ, &sa, NULL);
	/* Asks for the counts, never ends ucat. */
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	fatal_set(&sa.sa_mask);
	for (i = 0; i < NFATAL; i++) {
		/* Ignored on entry (nohup, a script's &): stays ignored. */
		if (sigaction(fatal[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal[i], &sa, NULL);
	}
	(void)atexit(clean_up);
}

/*
 * fork(2) with every signal blocked across it: no handler of the parent's
 * runs in the child before it has made itself its own (forgotten the
 * parent's files, or reset what a program must not inherit).  The parent
 * has its mask back on return; the child then calls signals_child or
 * signals_unblock.
 */
pid_t
signals_fork(void)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		return 0;
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* In a child that goes on as ucat: every signal let in. */
void
signals_unblock(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In a child about to exec: nothing of ucat's to undo, every signal ucat
 * handles back to its default, and none blocked. */
void
signals_child(void)
{
	size_t i;

	ncleanups = 0;
	for (i = 0; i < NFATAL; i++)
		signal(fatal[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signals_unblock();
}
