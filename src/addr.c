/* addr.c: address text <-> socket address (path, @abstract, unix:, tcp:, udp:, fd:, vsock-mux:, ns:, limits). */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ucat.h"

#define SUN_OFF	offsetof(struct sockaddr_un, sun_path)

/* A path, whatever it starts with. */
static int
parse_path(const char *path, struct uaddr *ua)
{
	size_t len = strlen(path);

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > ADDR_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(ua->sun.sun_path, path, len);
	ua->len = SUN_OFF + len + 1;
	return 0;
}

/* "@name", or "@" alone for a name the kernel picks. */
static int
parse_abstract(const char *text, struct uaddr *ua)
{
#ifdef HAVE_ABSTRACT_NAMESPACE
	size_t len = strlen(text);

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
	(void)text;
	(void)ua;
	errno = EAFNOSUPPORT;
	return -1;
#endif
}

/* "fd:N": a socket on descriptor N, inherited (activate.c looks at it). */
static int
parse_fd_addr(const char *text, struct uaddr *ua)
{
	if (parse_fd(text, &ua->fd) == -1) {
		errno = EBADF;
		return -1;
	}
	ua->inherited = true;
	return 0;
}

/* "fdname:NAME": the socket systemd passed under NAME, found later. */
static int
parse_fdname(const char *text, struct uaddr *ua)
{
	if (text[0] == '\0') {
		errno = EBADF;
		return -1;
	}
	ua->inherited = true;
	ua->fd = -1;
	ua->fdname = text;
	return 0;
}

/*
 * "HOST:PORT", "[V6]:PORT" or "PORT" (127.0.0.1), of tcp: and udp:.  A
 * numeric host is filled in here; a name waits for addr_resolve, so that
 * parsing never asks the network.
 */
static int
parse_tcp(const char *text, struct uaddr *ua)
{
	const char *colon, *host = "127.0.0.1";
	size_t hlen = strlen(host);

	if ((colon = strrchr(text, ':')) != NULL) {
		host = text;
		hlen = (size_t)(colon - text);
		if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
			host++;
			hlen -= 2;
		} else if (memchr(host, ':', hlen) != NULL) {
			errno = EDOM;		/* an IPv6 address wants [] */
			return -1;
		}
		text = colon + 1;
	}
	if (parse_port(text, &ua->port) == -1)
		return -1;
	if (hlen == 0 || hlen > ADDR_HOST_MAX) {
		errno = EDOM;
		return -1;
	}
	memcpy(ua->host, host, hlen);
	ua->host[hlen] = '\0';
	memset(&ua->ss, 0, sizeof(ua->ss));
	if (inet_pton(AF_INET, ua->host, &ua->sin.sin_addr) == 1) {
		ua->family = ua->sin.sin_family = AF_INET;
		ua->sin.sin_port = htons(ua->port);
		ua->len = sizeof(ua->sin);
	} else if (inet_pton(AF_INET6, ua->host, &ua->sin6.sin6_addr) == 1) {
		ua->family = ua->sin6.sin6_family = AF_INET6;
		ua->sin6.sin6_port = htons(ua->port);
		ua->len = sizeof(ua->sin6);
	} else
		ua->family = AF_UNSPEC;
	return 0;
}

/*
 * "PATH:PORT" of vsock-mux: a VM's vsock PORT through the hybrid vsock
 * socket file PATH (Firecracker, cloud-hypervisor), which is connected to
 * and then asked for PORT (sock.c).  PATH may hold ':' itself: the last
 * one ends it.  -1 with EDOM where PATH or PORT is missing or PORT is not
 * a number 0 to 4294967295, ENAMETOOLONG.
 */
static int
parse_vsock_mux(const char *text, struct uaddr *ua)
{
	const char *colon = strrchr(text, ':'), *d;
	unsigned long long port = 0;

	if (colon == NULL || colon == text || colon[1] == '\0') {
		errno = EDOM;
		return -1;
	}
	for (d = colon + 1; *d != '\0'; d++) {
		if (*d < '0' || *d > '9' || (port = port * 10 +
		    (unsigned)(*d - '0')) > UINT32_MAX) {
			errno = EDOM;
			return -1;
		}
	}
	if ((size_t)(colon - text) > ADDR_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(ua->sun.sun_path, text, (size_t)(colon - text));
	ua->len = SUN_OFF + (socklen_t)(colon - text) + 1;
	ua->mux = true;
	ua->mux_port = (uint32_t)port;
	return 0;
}

/* The /proc/PID/root before a path of ns:PID:, so that the path is the
 * one process PID sees (a relative one from its root too). */
static int
under_root(const struct uaddr *ns, struct uaddr *ua)
{
	char path[ADDR_PATH_MAX + 2];
	const char *p = ua->sun.sun_path;
	int n;

	n = snprintf(path, sizeof(path), "/proc/%.*s/root%s%s",
	    (int)ns->ns_len, ns->ns_id, p[0] == '/' ? "" : "/", p);
	if (n < 0 || (size_t)n > ADDR_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(ua->sun.sun_path, path, (size_t)n + 1);
	ua->len = SUN_OFF + (socklen_t)n + 1;
	return 0;
}

/*
 * "PID:ADDR" of ns: (named: "NAME:ADDR" of netns:): ADDR as process PID
 * sees it, or in the network namespace ip netns named NAME.  -1 with
 * ENXIO where PID or NAME is missing or not one, ENOTSUP where ADDR is an
 * inherited socket or names a namespace itself, or addr_parse's.
 */
static int
parse_ns(const char *all, const char *text, bool named, struct uaddr *ua)
{
	const char *colon = strchr(text, ':');
	size_t len = colon != NULL ? (size_t)(colon - text) : 0, i;

	if (len == 0 || (named ? memchr(text, '/', len) != NULL ||
	    (len <= 2 && strncmp(text, "..", len) == 0) : len > 10)) {
		errno = ENXIO;
		return -1;
	}
	for (i = 0; !named && i < len; i++)
		if (text[i] < '0' || text[i] > '9') {
			errno = ENXIO;
			return -1;
		}
	if (!named && strtoul(text, NULL, 10) == 0) {
		errno = ENXIO;
		return -1;
	}
	if (addr_parse(colon + 1, ua) == -1)
		return -1;
	if (ua->inherited || ua->ns_len != 0) {
		errno = ENOTSUP;
		return -1;
	}
	ua->text = all;
	ua->ns_id = text;
	ua->ns_len = len;
	ua->ns_named = named;
	if (!named && ua->family == AF_UNIX && !ua->abstract)
		return under_root(ua, ua);
	return 0;
}

/* The length of what looks like a type before a ':' (a word of letters,
 * digits and '-'), 0 where there is none. */
size_t
addr_type_len(const char *text)
{
	size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

	return n > 0 && text[n] == ':' ? n : 0;
}

/*
 * "@name" is an abstract name whose length is exactly that of name (no NUL
 * padding), "@" alone asks the kernel for one, "unix:PATH" is a path
 * whatever it starts with, "tcp:..." a TCP address, "fd:N" and
 * "fdname:NAME" an inherited socket (type names in any case, as socat
 * takes them), anything else a path, but for a word of letters, digits
 * and '-' before a ':', which is a type ucat does not know.  Returns -1
 * with errno EINVAL (empty), ENAMETOOLONG, EAFNOSUPPORT (no abstract names
 * here), ERANGE (a port outside 1..65535), EDOM (a tcp: address that is
 * not HOST:PORT), EBADF (fd: without a number, fdname: without a name) or
 * EPROTONOSUPPORT (an unknown type).
 */
int
addr_parse(const char *text, struct uaddr *ua)
{
	memset(ua, 0, sizeof(*ua));
	ua->sun.sun_family = AF_UNIX;
	ua->family = AF_UNIX;
	ua->text = text;
	ua->place.dir = ua->place.home = -1;
	ua->ns_fd = -1;

	if (strncasecmp(text, "unix:", 5) == 0)
		return parse_path(text + 5, ua);
	if (strncasecmp(text, "tcp:", 4) == 0)
		return parse_tcp(text + 4, ua);
	if (strncasecmp(text, "udp:", 4) == 0) {
		ua->udp = true;
		return parse_tcp(text + 4, ua);
	}
	if (strncasecmp(text, "fd:", 3) == 0)
		return parse_fd_addr(text + 3, ua);
	if (strncasecmp(text, "fdname:", 7) == 0)
		return parse_fdname(text + 7, ua);
	if (strncasecmp(text, "vsock-mux:", 10) == 0)
		return parse_vsock_mux(text + 10, ua);
	if (strncasecmp(text, "ns:", 3) == 0)
		return parse_ns(text, text + 3, false, ua);
	if (strncasecmp(text, "netns:", 6) == 0)
		return parse_ns(text, text + 6, true, ua);
	if (text[0] == '@')
		return parse_abstract(text, ua);
	if (addr_type_len(text) > 0) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	return parse_path(text, ua);
}

/* Looks up a tcp: host name (the first address it has).  -1 with errno
 * ENOENT when there is no such host, EAGAIN when no answer came. */
int
addr_resolve(struct uaddr *ua)
{
	struct addrinfo hints, *res;
	int rc;

	if (ua->family != AF_UNSPEC)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(ua->host, NULL, &hints, &res)) != 0) {
		errno = rc == EAI_AGAIN ? EAGAIN : ENOENT;
		return -1;
	}
	memcpy(&ua->ss, res->ai_addr, res->ai_addrlen);
	ua->len = res->ai_addrlen;
	ua->family = res->ai_family;
	if (ua->family == AF_INET)
		ua->sin.sin_port = htons(ua->port);
	else
		ua->sin6.sin6_port = htons(ua->port);
	freeaddrinfo(res);
	return 0;
}

/* IP:PORT, or [IP6]:PORT. */
static const char *
format_ip(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	return buf;
}

/*
 * Writes the address as a user would type it: a path, or @name, each with
 * the bytes that are not printable ASCII (and \) as \xHH, so that a name a
 * peer chose can never forge a line or drive a terminal; "(unnamed)" for
 * an unbound socket; a TCP address as IP:PORT.
 */
const char *
addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	const char *p = sun->sun_path;
	size_t n, i, o = 0;

	if (len > sizeof(sa_family_t) && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6))
		return format_ip(sa, buf, size);
	if (len <= SUN_OFF) {
		snprintf(buf, size, "(unnamed)");
		return buf;
	}
	n = len - SUN_OFF;
	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (size < 2) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	/* A path ends at its NUL; an abstract name is all n bytes. */
	if (p[0] != '\0')
		n = strnlen(p, n);
	else {
		buf[o++] = '@';
		p++;
		n--;
	}
	for (i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* For ucat -V: what addresses this build takes beyond paths and TCP. */
const char *
addr_features(void)
{
#ifdef HAVE_ABSTRACT_NAMESPACE
	return " abstract";
#else
	return "";
#endif
}
