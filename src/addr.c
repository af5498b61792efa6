/* addr.c: address text <-> struct sockaddr_un (path, @abstract, limits). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ucat.h"

#define SUN_OFF	offsetof(struct sockaddr_un, sun_path)

/*
 * "@name" is an abstract name whose length is exactly that of name (no NUL
 * padding), "@" alone asks the kernel for one, anything else is a path.
 * Returns -1 with errno EINVAL (empty), ENAMETOOLONG or EAFNOSUPPORT.
 */
int
addr_parse(const char *text, struct uaddr *ua)
{
	size_t len = strlen(text);

	memset(ua, 0, sizeof(*ua));
	ua->sun.sun_family = AF_UNIX;
	ua->text = text;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (text[0] == '@') {
#ifdef HAVE_ABSTRACT_NAMESPACE
		ua->abstract = true;
		if (len == 1) {
			ua->autobind = true;
			ua->len = sizeof(sa_family_t);
			return 0;
		}
		if (len - 1 > ADDR_PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		/* sun_path[0] stays 0; the name follows it. */
		memcpy(ua->sun.sun_path + 1, text + 1, len - 1);
		ua->len = SUN_OFF + len;
		return 0;
#else
		errno = EAFNOSUPPORT;
		return -1;
#endif
	}
	if (len > ADDR_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(ua->sun.sun_path, text, len);
	ua->len = SUN_OFF + len + 1;
	return 0;
}

/*
 * Writes the address as a user would type it: a path, @name with bytes that
 * are not printable as \xHH, or "(unnamed)" for an unbound socket.
 */
const char *
addr_format(const struct sockaddr_un *sun, socklen_t len, char *buf,
    size_t size)
{
	const char *p = sun->sun_path;
	size_t n, i, o = 0;

	if (len <= SUN_OFF) {
		snprintf(buf, size, "(unnamed)");
		return buf;
	}
	n = len - SUN_OFF;
	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (p[0] != '\0') {
		snprintf(buf, size, "%.*s", (int)strnlen(p, n), p);
		return buf;
	}
	if (size < 2) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '@';
	for (i = 1; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}
