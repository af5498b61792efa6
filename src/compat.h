/* compat.h: what a libc or kernel may lack, in one place. */
#ifndef UCAT_COMPAT_H
#define UCAT_COMPAT_H

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

/* Close-on-exec from birth; where it cannot be, set right after (sock.c). */
#if !HAVE_DECL_SOCK_CLOEXEC
#undef SOCK_CLOEXEC
#define SOCK_CLOEXEC		0
#endif
/* SIGPIPE is ignored anyway: this only saves the signal. */
#if !HAVE_DECL_MSG_NOSIGNAL
#undef MSG_NOSIGNAL
#define MSG_NOSIGNAL		0
#endif
/* Descriptors a peer passes are closed at once, so a race is harmless. */
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC	0
#endif
/* Without it, a peer's half-close shows as POLLIN and a 0 read. */
#if !HAVE_DECL_POLLRDHUP
#undef POLLRDHUP
#define POLLRDHUP		0
#endif

/* Messages in batches (recvmmsg, sendmmsg: Linux, FreeBSD); elsewhere one
 * at a time, in the same structure. */
#ifndef HAVE_STRUCT_MMSGHDR
struct mmsghdr {
	struct msghdr	msg_hdr;
	unsigned int	msg_len;
};
#endif

/* The peer's credentials as struct ucred (Linux): SO_PEERCRED to ask for
 * them, SO_PASSCRED to have them with every message. */
#if HAVE_DECL_SO_PEERCRED && defined(HAVE_STRUCT_UCRED)
#define HAVE_UCRED		1
#endif
#if defined(HAVE_UCRED) && HAVE_DECL_SO_PASSCRED
#define HAVE_PASSCRED		1
#endif

/* --tap: the kernel's list of sockets (sock_diag) and peer credentials. */
#if defined(HAVE_UCRED) && defined(HAVE_LINUX_UNIX_DIAG_H)
#define HAVE_TAP		1
#endif

/* Linux's sendfile(2); the BSDs' has another signature and header. */
#if defined(HAVE_SENDFILE) && defined(HAVE_SYS_SENDFILE_H)
#define USE_SENDFILE		1
#endif

/* A directory held only to walk through and act inside: O_PATH needs no
 * read permission (Linux), O_SEARCH neither (POSIX); else O_RDONLY. */
#if defined(O_PATH)
#define O_DIRSEARCH		O_PATH
#elif defined(O_SEARCH)
#define O_DIRSEARCH		O_SEARCH
#else
#define O_DIRSEARCH		O_RDONLY
#endif

/* pipe(2) with both ends close-on-exec from birth where pipe2 exists. */
#include <unistd.h>
static inline int
pipe_cloexec(int fd[2])
{
#ifdef HAVE_PIPE2
	return pipe2(fd, O_CLOEXEC);
#else
	if (pipe(fd) == -1)
		return -1;
	(void)fcntl(fd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fd[1], F_SETFD, FD_CLOEXEC);
	return 0;
#endif
}

#endif
