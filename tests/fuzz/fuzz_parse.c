/* fuzz_parse.c: libFuzzer harness for the option value parsers of parse.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A refused value is EINVAL and leaves the result as it was. */
static void
refused(bool untouched)
{
	if (errno != EINVAL || !untouched)
		abort();
}

/* What a number parser accepts is in range and reads back the same. */
static void
numbers(const char *text)
{
	char again[64];
	double secs = -7;
	mode_t mode = 01000, mode2;
	long count = -7, count2;

	if (parse_secs(text, false, &secs) == -1)
		refused(secs == -7);
	else if (!isfinite(secs) || secs < 0 || secs > 1e9)
		abort();
	secs = -7;
	if (parse_secs(text, true, &secs) == -1)
		refused(secs == -7);
	else if (!isfinite(secs) || fabs(secs) > 1e9)
		abort();

	if (parse_mode(text, &mode) == -1)
		refused(mode == 01000);
	else {
		snprintf(again, sizeof(again), "%o", (unsigned)mode);
		if (mode > 0777 || parse_mode(again, &mode2) == -1 ||
		    mode2 != mode)
			abort();
	}

	if (parse_count(text, &count) == -1)
		refused(count == -7);
	else {
		snprintf(again, sizeof(again), "%ld", count);
		if (count < 1 || count > COUNT_MAX ||
		    parse_count(again, &count2) == -1 || count2 != count)
			abort();
	}
}

/* -e: blank-free words that joined are the text without its blanks. */
static void
command(const char *text)
{
	char **argv, *bare, *joined;
	size_t i, o, len = strlen(text);
	bool blank_only = text[strspn(text, " \t")] == '\0';

	if ((bare = calloc(1, len + 1)) == NULL ||
	    (joined = calloc(1, len + 1)) == NULL)
		abort();
	for (i = o = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t')
			bare[o++] = text[i];

	errno = 0;
	if ((argv = parse_command(text, false)) == NULL)
		refused(blank_only);
	else {
		if (blank_only || argv[0] == NULL)
			abort();
		for (i = o = 0; argv[i] != NULL; i++) {
			if (argv[i][0] == '\0' || strpbrk(argv[i], " \t") ||
			    o + strlen(argv[i]) > len)
				abort();
			memcpy(joined + o, argv[i], strlen(argv[i]));
			o += strlen(argv[i]);
		}
		if (strcmp(joined, bare) != 0)
			abort();
		free(argv);
	}
	free(bare);
	free(joined);

	/* -c: the text is sh's command string, never taken for its options. */
	if ((argv = parse_command(text, true)) == NULL)
		refused(blank_only);
	else {
		if (blank_only || strcmp(argv[0], "/bin/sh") != 0 ||
		    strcmp(argv[1], "-c") != 0)
			abort();
		i = strcmp(argv[2], "--") == 0 ? 3 : 2;
		if (strcmp(argv[i], text) != 0 || argv[i + 1] != NULL ||
		    (i == 2 && (text[0] == '-' || text[0] == '+')))
			abort();
		free(argv);
	}
}

/*
 * Digits and commas only: a word that is not a number is looked up as a
 * name, which is NSS (files, maybe the network), not parsing.
 */
static void
idlist(const uint8_t *data, size_t size)
{
	static const char alphabet[] = "0123456789,";
	struct idlist *l;
	char *text, *bad, *p, *end;
	size_t i, n = 1, badsize;

	if (size < 1 || (text = malloc(size)) == NULL)
		return;
	badsize = data[0] % 16;
	for (i = 1; i < size; i++) {
		text[i - 1] = isdigit(data[i]) || data[i] == ',' ?
		    (char)data[i] : alphabet[data[i] % (sizeof(alphabet) - 1)];
		n += text[i - 1] == ',';
	}
	text[size - 1] = '\0';
	if ((bad = malloc(badsize > 0 ? badsize : 1)) == NULL)
		abort();

	errno = 0;
	if ((l = parse_idlist(text, false, bad, badsize)) == NULL) {
		if (errno != EINVAL ||
		    (badsize > 0 && strnlen(bad, badsize) == badsize))
			abort();
	} else {
		if (l->n != n)
			abort();
		for (i = 0, p = text; i < n; i++, p = end + 1)
			if (strtoul(p, &end, 10) != l->id[i] ||
			    l->id[i] > UINT_MAX)
				abort();
		free(l);
	}
	free(bad);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	numbers(text);
	command(text);
	free(text);
	idlist(data, size);
	return 0;
}
