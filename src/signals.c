/* signals.c: the signals that end ucat, what they clean up, what a child gets. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "ucat.h"

/* The signals that end ucat after it removed its files (SPEC: SIGINT,
 * SIGTERM, SIGHUP); what a handler does must not be cut by another. */
static const int fatal[] = { SIGINT, SIGTERM, SIGHUP };
#define NFATAL	(sizeof(fatal) / sizeof(fatal[0]))

void
signals_fatal(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < NFATAL; i++)
		sigaddset(set, fatal[i]);
}

static void
on_fatal(int sig)
{
	/* The handler was reset on entry: remove our files, tell systemd
	 * ucat stops, hand back what was claimed of a file on stdin and not
	 * sent, then die of sig. */
	sock_cleanup();
	notify_stopping();
	move_unclaim();
	raise(sig);
}

/* SIGPIPE is never fatal: a closed reader is an EPIPE the pump handles. */
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

	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	signals_fatal(&sa.sa_mask);
	for (i = 0; i < NFATAL; i++) {
		/* Ignored on entry (nohup, a script's &): stays ignored. */
		if (sigaction(fatal[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal[i], &sa, NULL);
	}
}

/* In a child about to exec: every signal ucat handles back to its
 * default, and none blocked. */
void
signals_child(void)
{
	sigset_t none;
	size_t i;

	for (i = 0; i < NFATAL; i++)
		signal(fatal[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
