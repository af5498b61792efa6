/* fuzz_addr.c: libFuzzer harness for addr_parse() and addr_format(). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ucat.h"

#define SUN_OFF	offsetof(struct sockaddr_un, sun_path)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Whether addr_format() writes this @name back byte for byte. */
static int
printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			return 0;
	return 1;
}

/* The input as address text: what parses formats back and parses again. */
static void
round_trip(const char *text)
{
	struct uaddr ua, again;
	char buf[ADDR_TEXT_MAX];

	if (addr_parse(text, &ua) == -1)
		return;
	/* ns:PID:ADDR, netns:NAME:ADDR: PID digits or NAME with no '/',
	 * both inside the text; no namespace opened by parsing. */
	if ((strncasecmp(text, "ns:", 3) == 0 ||
	    strncasecmp(text, "netns:", 6) == 0) != (ua.ns_len != 0))
		abort();
	if (ua.ns_len != 0) {
		if (ua.ns_fd != -1 || ua.inherited || ua.ns_id < text ||
		    ua.ns_id + ua.ns_len > text + strlen(text) ||
		    (!ua.ns_named && strspn(ua.ns_id, "0123456789") <
		    ua.ns_len) || (ua.ns_named && memchr(ua.ns_id, '/',
		    ua.ns_len) != NULL))
			abort();
		return;
	}
	/* tcp: a port in range, and a numeric host filled in (a name is
	 * left to addr_resolve: parsing never asks the network). */
	if (strncasecmp(text, "tcp:", 4) == 0 ||
	    strncasecmp(text, "udp:", 4) == 0) {
		if (ua.udp != (strncasecmp(text, "udp:", 4) == 0) ||
		    ua.port == 0 || (ua.family != AF_INET &&
		    ua.family != AF_INET6 && ua.family != AF_UNSPEC) ||
		    (ua.family != AF_UNSPEC && ua.sa.sa_family != ua.family))
			abort();
		return;
	}
	/* fd:N and fdname:NAME: a number, or a name, and no address yet. */
	if (strncasecmp(text, "fd:", 3) == 0 ||
	    strncasecmp(text, "fdname:", 7) == 0) {
		if (!ua.inherited || ua.len != 0 || (ua.fdname == NULL) ==
		    (ua.fd < 0) || (ua.fdname != NULL && ua.fdname[0] == '\0'))
			abort();
		return;
	}
	/* vsock-mux:PATH:PORT: PATH up to the last ':', a port in 32 bits,
	 * a path that is never abstract. */
	if (strncasecmp(text, "vsock-mux:", 10) == 0) {
		const char *colon = strrchr(text + 10, ':');

		if (!ua.mux || ua.abstract || colon == NULL ||
		    ua.len != offsetof(struct sockaddr_un, sun_path) +
		    (size_t)(colon - (text + 10)) + 1 ||
		    memcmp(ua.sun.sun_path, text + 10,
		    (size_t)(colon - (text + 10))) != 0 ||
		    ua.mux_port != strtoul(colon + 1, NULL, 10))
			abort();
		return;
	}
	if (ua.mux || ua.udp)
		abort();
	if (ua.inherited || ua.family != AF_UNIX ||
	    ua.len < sizeof(sa_family_t) ||
	    ua.len > sizeof(ua.sun) || ua.sun.sun_family != AF_UNIX)
		abort();
	/* unix:PATH is PATH as a path, whatever PATH starts with. */
	if (strncasecmp(text, "unix:", 5) == 0) {
		if (ua.abstract || strlen(text + 5) + 1 + offsetof(struct
		    sockaddr_un, sun_path) != ua.len ||
		    memcmp(ua.sun.sun_path, text + 5, strlen(text + 5)) != 0)
			abort();
		return;
	}
	if (ua.autobind || !printable(ua.abstract ? text + 1 : text))
		return;
	addr_format(&ua.sa, ua.len, buf, sizeof(buf));
	if (strcmp(buf, text) != 0 || addr_parse(buf, &again) == -1 ||
	    again.len != ua.len || again.abstract != ua.abstract ||
	    memcmp(&again.sun, &ua.sun, ua.len) != 0)
		abort();
}

/*
 * The input as what the kernel hands back: a length byte, a buffer size
 * byte, then sun_path.  The text must fit the buffer it was given, and an
 * ADDR_TEXT_MAX buffer must hold every address whole.
 */
static void
format_raw(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun;
	socklen_t len;
	size_t bufsize, n, want, i;
	char *buf, whole[ADDR_TEXT_MAX];

	if (size < 2)
		return;
	len = data[0] % (sizeof(sun) + 8);
	bufsize = data[1] % (ADDR_TEXT_MAX + 1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = size - 2 < sizeof(sun.sun_path) ? size - 2 : sizeof(sun.sun_path);
	memcpy(sun.sun_path, data + 2, n);

	/* An exact-size heap buffer, so ASan sees a single byte too many. */
	if ((buf = malloc(bufsize > 0 ? bufsize : 1)) == NULL)
		abort();
	if (addr_format((struct sockaddr *)&sun, len, buf, bufsize) != buf ||
	    (bufsize > 0 && strnlen(buf, bufsize) == bufsize))
		abort();
	free(buf);

	/* Whole, every byte that is not printable written as \xHH: a path
	 * up to its NUL, an @name all through. */
	if (len <= SUN_OFF)
		return;
	n = len - SUN_OFF < sizeof(sun.sun_path) ? len - SUN_OFF :
	    sizeof(sun.sun_path);
	want = i = sun.sun_path[0] == '\0' ? 1 : 0;
	if (sun.sun_path[0] != '\0')
		n = strnlen(sun.sun_path, n);
	for (; i < n; i++) {
		unsigned char c = (unsigned char)sun.sun_path[i];

		want += c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
	}
	addr_format((struct sockaddr *)&sun, len, whole, sizeof(whole));
	if (strlen(whole) != want)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	round_trip(text);
	free(text);
	format_raw(data, size);
	return 0;
}
