/* parse.c: option values from text: seconds, modes, ports, descriptors, counts, ids, commands. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "ucat.h"

/* Seconds, fractions allowed; negative only where it means "never". */
int
parse_secs(const char *text, bool negative_ok, double *secs)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v) ||
	    (v < 0 && !negative_ok) || fabs(v) > 1e9) {
		errno = EINVAL;
		return -1;
	}
	*secs = v;
	return 0;
}

/* An octal file mode, at most 0777: octal digits only (strtol would take
 * blanks and a sign before them). */
int
parse_mode(const char *text, mode_t *mode)
{
	unsigned long v = 0;
	const char *p;

	for (p = text; *p >= '0' && *p <= '7' && v <= 0777; p++)
		v = v * 8 + (unsigned long)(*p - '0');
	if (p == text || *p != '\0' || v > 0777) {
		errno = EINVAL;
		return -1;
	}
	*mode = (mode_t)v;
	return 0;
}

/* Decimal digits only (strtol would take blanks and a sign before
 * them), from min to max. */
static int
digits(const char *text, unsigned long min, unsigned long max,
    unsigned long *v)
{
	const char *p;

	*v = 0;
	for (p = text; *p >= '0' && *p <= '9' && *v <= max; p++)
		*v = *v * 10 + (unsigned long)(*p - '0');
	if (p == text || *p != '\0' || *v < min || *v > max) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A port: 1 to 65535 (ERANGE else). */
int
parse_port(const char *text, unsigned short *port)
{
	unsigned long v;

	if (digits(text, 1, 65535, &v) == -1) {
		errno = ERANGE;
		return -1;
	}
	*port = (unsigned short)v;
	return 0;
}

/* A descriptor number, 0 to INT_MAX. */
int
parse_fd(const char *text, int *fd)
{
	unsigned long v;

	if (digits(text, 0, INT_MAX, &v) == -1)
		return -1;
	*fd = (int)v;
	return 0;
}

/* A count from 1 to COUNT_MAX. */
int
parse_count(const char *text, long *count)
{
	unsigned long v;

	if (digits(text, 1, COUNT_MAX, &v) == -1)
		return -1;
	*count = (long)v;
	return 0;
}

/* One id: a number, or a user (group) name looked up. */
static int
parse_id(const char *word, bool group, unsigned long *id)
{
	struct passwd *pw;
	struct group *gr;
	char *end;

	errno = 0;
	*id = strtoul(word, &end, 10);
	if (end != word && *end == '\0' && word[0] >= '0' && word[0] <= '9')
		return errno == 0 && *id <= UINT_MAX ? 0 : -1;
	if (!group && (pw = getpwnam(word)) != NULL) {
		*id = pw->pw_uid;
		return 0;
	}
	if (group && (gr = getgrnam(word)) != NULL) {
		*id = gr->gr_gid;
		return 0;
	}
	return -1;
}

/*
 * A comma-separated list of ids or names.  Returns NULL with errno ENOMEM,
 * or EINVAL and the word at fault copied into bad (which holds badsize).
 */
struct idlist *
parse_idlist(const char *text, bool group, char *bad, size_t badsize)
{
	struct idlist *l;
	const char *p;
	char word[256];
	size_t n = 1, len;

	for (p = text; *p != '\0'; p++)
		n += *p == ',';
	if ((l = malloc(sizeof(*l) + n * sizeof(l->id[0]))) == NULL)
		return NULL;
	l->n = 0;
	for (p = text; l->n < n; p += len + 1) {
		len = strcspn(p, ",");
		if (len < sizeof(word)) {
			memcpy(word, p, len);
			word[len] = '\0';
			if (len > 0 && parse_id(word, group, &l->id[l->n]) == 0) {
				l->n++;
				continue;
			}
		}
		if (badsize > 0) {
			if (len >= badsize)
				len = badsize - 1;
			memcpy(bad, p, len);
			bad[len] = '\0';
		}
		free(l);
		errno = EINVAL;
		return NULL;
	}
	return l;
}

/*
 * -e 'PROG ARGS' split on blanks (no quoting, no shell), or with shell
 * 'CMD' as /bin/sh -c -- CMD.  One allocation: free() the result.
 * Returns NULL with errno EINVAL for a command of blanks only, or ENOMEM.
 */
char **
parse_command(const char *text, bool shell)
{
	size_t len = strlen(text), slots = len / 2 + 5, n = 0;
	char **argv, *copy, *word, *save;

	if (text[strspn(text, " \t")] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if ((argv = malloc(slots * sizeof(*argv) + len + 1)) == NULL)
		return NULL;
	copy = memcpy((char *)(argv + slots), text, len + 1);
	if (shell) {
		/* By path: a PATH entry must not choose the shell. */
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		/* A command that starts with - or + is not an option of sh. */
		argv[n++] = "--";
		argv[n++] = copy;
	} else {
		for (word = strtok_r(copy, " \t", &save); word != NULL;
		    word = strtok_r(NULL, " \t", &save))
			argv[n++] = word;
	}
	argv[n] = NULL;
	return argv;
}
