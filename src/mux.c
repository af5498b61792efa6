/* mux.c: the hybrid vsock handshake of a vsock-mux: address (Firecracker, cloud-hypervisor): CONNECT PORT, then OK. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "ucat.h"
#include "compat.h"

/* The longest answer line taken: "OK " and a port, with room to spare. */
#define ANSWER_MAX	128

/* All of len bytes of buf sent on fd. */
static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One byte from fd into *c, waiting until deadline (0: for ever).  -1
 * with ETIMEDOUT, ECONNRESET at the end, or what recv(2) said. */
static int
recv_byte(int fd, char *c, double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ready;

	for (;;) {
		ready = poll(&p, 1, deadline > 0 ? clock_ms_until(deadline) : -1);
		if (ready == -1 && errno == EINTR)
			continue;
		if (ready == -1)
			return -1;
		if (ready == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = recv(fd, c, 1, 0)) == 1)
			return 0;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

/*
 * Asks the host's socket fd for the guest's port: "CONNECT PORT\n", then
 * the one line of the answer, read a byte at a time so that what follows
 * it (the guest's first bytes) stays in the socket for the pump.  Waits
 * at most secs for it (0: for ever).  0 on a line that starts "OK"; -1
 * with errno EPROTO (another answer), ECONNRESET (closed with none: the
 * guest does not listen on the port), ETIMEDOUT.
 */
int
mux_handshake(int fd, uint32_t port, double secs)
{
	char line[ANSWER_MAX];
	double deadline = secs > 0 ? clock_now() + secs : 0;
	size_t n = 0;
	int len;

	len = snprintf(line, sizeof(line), "CONNECT %lu\n",
	    (unsigned long)port);
	if (send_all(fd, line, (size_t)len) == -1)
		return errno == EPIPE ? (errno = ECONNRESET, -1) : -1;
	while (n < sizeof(line)) {
		if (recv_byte(fd, &line[n], deadline) == -1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	if (n < 3 || line[n - 1] != '\n' || strncmp(line, "OK", 2) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}
