/* message.c: reads and writes of a message socket (datagram, seqpacket), one whole message each. */
#include "config.h"

#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/* Seconds between tries to send a reply into a full queue. */
#define REPLY_RETRY	0.01

/* Room for a seqpacket's credentials (see seqpacket_eof), and for some
 * descriptors a peer passes, which are closed at once (the kernel closes
 * any beyond them). */
#ifdef HAVE_PASSCRED
#define CREDS_SPACE	CMSG_SPACE(sizeof(struct ucred))
#else
#define CREDS_SPACE	0
#endif
#define CTL_SPACE	(CREDS_SPACE + CMSG_SPACE(sizeof(int) * 16))

static void
note_sender(struct end *e, const struct sockaddr_un *from, socklen_t len)
{
	char text[ADDR_TEXT_MAX];

	if (len <= sizeof(sa_family_t)) {
		if (!e->warned_unbound)
			warnx("%s: a sender has no address; it cannot be "
			    "answered", e->name);
		e->warned_unbound = true;
		return;
	}
	if (e->verbose && (len != e->peerlen ||
	    memcmp(from, &e->peer, len) != 0))
		warnx("message from %s", addr_format((const struct sockaddr *)
		    from, len, text,
		    sizeof(text)));
	memcpy(&e->peer, from, len);
	e->peerlen = len;
}

/* A receive that failed: nothing yet, the peer's reset (its end), or an
 * error, reported. */
static enum io
recv_failed(struct end *e)
{
	if (errno == EAGAIN)
		return IO_AGAIN;
	if (errno == ECONNRESET) {
		e->reset = true;
		return IO_EOF;
	}
	end_warn(e, true);
	return IO_FAIL;
}

/*
 * A seqpacket EOF and an empty message both read as 0 bytes.  With
 * SO_PASSCRED every message comes with credentials and the EOF with none;
 * elsewhere a 0 read after the peer's shutdown is taken as the EOF.
 */
static bool
seqpacket_eof(const struct msghdr *mh, short revents)
{
#ifdef HAVE_PASSCRED
	(void)revents;
	return mh->msg_controllen == 0;
#else
	(void)mh;
	return POLLRDHUP == 0 || (revents & (POLLRDHUP | POLLHUP));
#endif
}

/*
 * Receives up to BATCH_MAX messages at once into b (recvmmsg), each whole
 * (a longer one is said to be truncated, never cut silently); an empty
 * message is data, descriptors passed are closed, and a replying end
 * notes each sender in turn, to answer the last.  An end of a seqpacket
 * stream after some messages is kept for the next take (e->eof), and so
 * is the end of the quota: no more than e->quota messages are taken.
 */
enum io
message_read_batch(struct end *e, struct batch *b, short revents)
{
	struct mmsghdr mm[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_un from[BATCH_MAX];
	union {
		struct cmsghdr	h;
		char		buf[CTL_SPACE];
	} ctl[BATCH_MAX];
	struct msghdr *mh;
	size_t n;
	int i, got, want;

	want = e->quota > 0 && e->quota < BATCH_MAX ? (int)e->quota : BATCH_MAX;
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < want; i++) {
		iov[i].iov_base = BATCH_SLOT(b, i);
		iov[i].iov_len = DGRAM_MAX;
		mh = &mm[i].msg_hdr;
		mh->msg_iov = &iov[i];
		mh->msg_iovlen = 1;
		if (e->replying) {
			mh->msg_name = &from[i];
			mh->msg_namelen = sizeof(from[i]);
		}
		mh->msg_control = &ctl[i];
		mh->msg_controllen = sizeof(ctl[i]);
	}
	do {
#ifdef HAVE_RECVMMSG
		got = recvmmsg(e->rfd, mm, (unsigned)want, MSG_DONTWAIT |
		    MSG_TRUNC | MSG_CMSG_CLOEXEC, NULL);
#else
		ssize_t one = recvmsg(e->rfd, &mm[0].msg_hdr, MSG_DONTWAIT |
		    MSG_TRUNC | MSG_CMSG_CLOEXEC);

		mm[0].msg_len = one >= 0 ? (unsigned)one : 0;
		got = one >= 0 ? 1 : -1;
#endif
	} while (got == -1 && errno == EINTR);
	b->n = b->next = 0;
	b->off = 0;
	b->full = false;
	if (got == -1)
		return recv_failed(e);
	for (i = 0; i < got; i++) {
		mh = &mm[i].msg_hdr;
		fdpass_drop(mh, e->name, e->verbose);
		if (mm[i].msg_len == 0 && e->type == SOCK_SEQPACKET &&
		    seqpacket_eof(mh, revents)) {
			e->eof = true;
			break;
		}
		n = mm[i].msg_len < DGRAM_MAX ? mm[i].msg_len : DGRAM_MAX;
		if (mh->msg_flags & MSG_TRUNC)
			warnx("%s: message of %u bytes truncated to %zu",
			    e->name, mm[i].msg_len, n);
		if (e->replying)
			note_sender(e, &from[i], mh->msg_namelen);
		b->len[b->n++] = n;
		e->nread += n;
	}
	b->full = got == BATCH_MAX;
	if (e->quota > 0 && (e->quota -= (unsigned long)b->n) == 0)
		e->eof = true;
	return b->n > 0 ? IO_DONE : IO_EOF;
}

/*
 * Sends the n messages of iov (to the last sender when replying) with as
 * few calls as the kernel allows (sendmmsg); *sent says how many went.
 * The errors are message_write's; a sender that has left has its message
 * dropped (*sent 1, *dropped).  Descriptors still to pass go with the
 * first message, alone.
 */
enum io
message_write_many(struct end *e, struct iovec *iov, int n, int *sent,
    bool *dropped)
{
	struct mmsghdr mm[BATCH_MAX];
	size_t one = 0;
	enum io r;
	int i, c;

	*sent = 0;
	*dropped = false;
	if (e->fds_pending) {
		r = message_write(e, iov[0].iov_base, iov[0].iov_len, &one);
		if (r == IO_DONE) {
			*sent = 1;
			*dropped = one != iov[0].iov_len;
		}
		return r;
	}
#ifdef HAVE_SENDMMSG
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		if (e->replying) {
			mm[i].msg_hdr.msg_name = &e->peer;
			mm[i].msg_hdr.msg_namelen = e->peerlen;
		}
	}
	do {
		c = sendmmsg(e->wfd, mm, (unsigned)n, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
	} while (c == -1 && errno == EINTR);
	if (c > 0) {
		for (i = 0; i < c; i++)
			e->nwritten += mm[i].msg_len;
		*sent = c;
		return IO_DONE;
	}
#else
	(void)mm;
	(void)i;
	(void)c;
	(void)n;
#endif
	/* One at a time, or the first message failed: message_write sends
	 * it, or says what the failure means. */
	r = message_write(e, iov[0].iov_base, iov[0].iov_len, &one);
	if (r == IO_DONE) {
		*sent = 1;
		*dropped = one != iov[0].iov_len;
	}
	return r;
}

/*
 * Sends p as one message, to the last sender when replying.  A sender
 * that has left is warned of and its reply dropped (*n is 0); the next
 * one may be answered.
 */
enum io
message_write(struct end *e, const char *p, size_t len, size_t *n)
{
	char peer[ADDR_TEXT_MAX];
	ssize_t put;

	do {
		if (e->fds_pending)
			put = fdpass_send(e, p, len, e->replying ?
			    (struct sockaddr *)&e->peer : NULL, e->peerlen);
		else if (e->replying)
			put = sendto(e->wfd, p, len, MSG_DONTWAIT |
			    MSG_NOSIGNAL, (struct sockaddr *)&e->peer,
			    e->peerlen);
		else
			put = send(e->wfd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (put == -1 && errno == EINTR);
	if (put >= 0) {
		*n = (size_t)put;
		e->nwritten += *n;
		return IO_DONE;
	}
	switch (errno) {
	case EAGAIN:
		/* POLLOUT of an unconnected socket says nothing of the
		 * receiver's queue: look again a little later. */
		if (e->replying)
			e->retry_at = clock_now() + REPLY_RETRY;
		return IO_AGAIN;
	case EPIPE:
	case ECONNRESET:
		return IO_GONE;
	case ECONNREFUSED:
	case ENOENT:
		if (!e->replying)
			break;
		/* That sender left; wait for the next one. */
		warn("reply to %s", addr_format((struct sockaddr *)&e->peer,
		    e->peerlen, peer,
		    sizeof(peer)));
		e->peerlen = 0;
		return IO_DONE;
	case EMSGSIZE:
		warnx("send to %s: message of %zu bytes is too long",
		    e->name, len);
		return IO_FAIL;
	}
	end_warn(e, false);
	return IO_FAIL;
}

/* For ucat -V: whether messages move in batches (recvmmsg, sendmmsg). */
const char *
message_features(void)
{
#if defined(HAVE_RECVMMSG) && defined(HAVE_SENDMMSG)
	return " mmsg";
#else
	return "";
#endif
}
