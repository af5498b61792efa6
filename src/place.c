/* place.c: where a file of ucat's own goes: its directory, walked to once and held, and its name there. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ucat.h"
#include "compat.h"

/* The symbolic links one walk follows at most, as the kernel's. */
#define LINKS_MAX	40

/*
 * Whether only root and ucat's own user can change the entry of dir that
 * leads on: a directory owned by one of them that nobody else may write,
 * or a sticky one where the entry is theirs too (as /tmp is).
 */
static bool
trusted(const struct stat *dir, const struct stat *entry)
{
	uid_t me = geteuid();

	if (dir->st_uid != 0 && dir->st_uid != me)
		return false;
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return true;
	return (dir->st_mode & S_ISVTX) &&
	    (entry->st_uid == 0 || entry->st_uid == me);
}

/* p->where += "/" + c (or c alone after "/" or at the start); for messages,
 * so it may be cut. */
static void
walked(struct place *p, const char *c, size_t len)
{
	size_t at = strlen(p->where);

	if (at > 0 && p->where[at - 1] != '/' && at + 1 < sizeof(p->where))
		p->where[at++] = '/';
	snprintf(p->where + at, sizeof(p->where) - at, "%.*s", (int)len, c);
}

/* The next component of *rest, skipping slashes; its length, 0 at the
 * end. */
static size_t
component(const char **rest, const char **c)
{
	size_t len;

	while (**rest == '/')
		(*rest)++;
	*c = *rest;
	len = strcspn(*rest, "/");
	*rest += len;
	return len;
}

/* Follows the link c of dir: the rest of the walk is its text, then what
 * came after it; an absolute one starts over at /. */
static int
follow(struct place *p, int *dir, const char *c, size_t clen, char *rest,
    size_t size, const char **next)
{
	char name[NAME_MAX + 1], link[PATH_MAX], tail[PATH_MAX];
	ssize_t n;
	int root;

	snprintf(name, sizeof(name), "%.*s", (int)clen, c);
	snprintf(tail, sizeof(tail), "%s", *next);
	if ((n = readlinkat(*dir, name, link, sizeof(link) - 1)) == -1)
		return -1;
	link[n] = '\0';
	if ((size_t)snprintf(rest, size, "%s/%s", link, tail) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*next = rest;
	if (link[0] != '/')
		return 0;
	if ((root = open("/", O_DIRSEARCH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	close(*dir);
	*dir = root;
	p->where[0] = '\0';
	walked(p, "/", 1);
	return 0;
}

/*
 * Walks to the directory of path one entry at a time, following no link
 * that someone other than root and ucat's user could have put there (as
 * the kernel's protected_symlinks does in /tmp, but everywhere), and holds
 * it open: p->dir.  p->pinned says whether the whole way is theirs alone,
 * so that path itself still leads to p->dir later.  -1 with errno; a link
 * not followed is EPERM, with p->where naming it.
 */
static int
walk(const char *path, struct place *p)
{
	char rest[PATH_MAX], name[NAME_MAX + 1];
	const char *next, *c;
	struct stat dst, st;
	int dir, sub, links = 0;
	size_t len;

	len = (size_t)(p->name - path);
	if (len >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, path, len);
	rest[len] = '\0';
	next = rest;
	p->where[0] = '\0';
	if (path[0] == '/')
		walked(p, "/", 1);
	if ((dir = open(path[0] == '/' ? "/" : ".", O_DIRSEARCH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	while ((len = component(&next, &c)) > 0) {
		if (len == 1 && c[0] == '.')
			continue;
		if (len > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, c);
		if (fstat(dir, &dst) == -1 ||
		    fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
		/* "..": the parent holds this directory as one of its own. */
		if (strcmp(name, "..") == 0 ? !trusted(&st, &dst) :
		    !trusted(&dst, &st)) {
			if (p->pinned)
				snprintf(p->doubt, sizeof(p->doubt), "%s",
				    p->where);
			p->pinned = false;
			if (S_ISLNK(st.st_mode)) {
				walked(p, c, len);
				errno = EPERM;
				goto fail;
			}
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > LINKS_MAX) {
				errno = ELOOP;
				goto fail;
			}
			if (follow(p, &dir, c, len, rest, sizeof(rest),
			    &next) == -1)
				goto fail;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		/* Changed to a link since: O_NOFOLLOW fails, never follows. */
		if ((sub = openat(dir, name, O_DIRSEARCH | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			goto fail;
		close(dir);
		dir = sub;
		walked(p, c, len);
	}
	p->dir = dir;
	return 0;
fail:
	len = (size_t)errno;
	close(dir);
	errno = (int)len;
	return -1;
}

/*
 * The place of the file path names: its directory held open (p->dir) and
 * its last component (p->name, which points into path: path must outlive
 * p).  Where the way to the directory is not pinned, the working
 * directory is held too, to come back to after acting from inside.
 */
int
place_open(const char *path, struct place *p)
{
	const char *slash = strrchr(path, '/');

	memset(p, 0, sizeof(*p));
	p->dir = p->home = -1;
	p->pinned = true;
	p->path = path;
	p->name = slash != NULL ? slash + 1 : path;
	if (p->name[0] == '\0' || strcmp(p->name, ".") == 0 ||
	    strcmp(p->name, "..") == 0) {
		errno = EISDIR;
		return -1;
	}
	if (walk(path, p) == -1)
		return -1;
	if (p->pinned)
		return 0;
	/* Where ucat cannot come back, it must not leave. */
	if ((p->home = open(".", O_DIRSEARCH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fchdir(p->home) == -1) {
		place_close(p);
		return -1;
	}
	return 0;
}

void
place_close(struct place *p)
{
	int saved = errno;

	if (p->dir != -1)
		close(p->dir);
	if (p->home != -1)
		close(p->home);
	p->dir = p->home = -1;
	errno = saved;
}

/* What is at the place now, itself (a link is not followed). */
int
place_stat(const struct place *p, struct stat *st)
{
	return fstatat(p->dir, p->name, st, AT_SYMLINK_NOFOLLOW);
}

/*
 * bind(2) or connect(2) of fd to the socket file at the place: by its
 * whole path where that is pinned, so that the kernel keeps the name as
 * the user wrote it; else by its name from inside the directory held, the
 * only way that cannot be led elsewhere (the kernel then keeps the bare
 * name).  Safe to call while confined: no file is opened.
 */
int
place_socket(const struct place *p, int fd, bool bind_it)
{
	struct sockaddr_un sun;
	socklen_t len;
	int rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    p->pinned ? p->path : p->name) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(sun.sun_path) + 1);
	if (!p->pinned && fchdir(p->dir) == -1)
		return -1;
	rc = bind_it ? bind(fd, (struct sockaddr *)&sun, len) :
	    connect(fd, (struct sockaddr *)&sun, len);
	saved = errno;
	if (!p->pinned && fchdir(p->home) == -1)
		rc = -1;
	else
		errno = saved;
	return rc;
}

/* Removes what is at the place.  Safe in a signal handler. */
int
place_unlink(const struct place *p)
{
	return unlinkat(p->dir, p->name, 0);
}

/* Opens (O_CREAT: makes, with mode) the file at the place. */
int
place_file(const struct place *p, int flags, mode_t mode)
{
	return openat(p->dir, p->name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

/* What traffic may be appended to: see place_append. */
static bool
appendable(const struct stat *st, char *why, size_t size)
{
	if (!S_ISREG(st->st_mode) && !S_ISCHR(st->st_mode))
		snprintf(why, size, "not a regular file; not writing to it");
	else if (st->st_uid != geteuid() && st->st_uid != 0)
		snprintf(why, size, "owned by uid %ld, not by ucat's user; not "
		    "writing to it", (long)st->st_uid);
	else
		return true;
	return false;
}

/*
 * Opens the file path names to append traffic to (-x, --pcap; flags adds
 * O_WRONLY or O_RDWR): through its place, never through a link, made mode
 * 0600 if it is not there.  What is there already must be a regular file
 * or a character device (/dev/null), owned by ucat's user or root: a file
 * that another user put there would let them read the traffic, and a FIFO
 * that nobody reads would stop ucat.  -1 with errno; where ucat refuses,
 * why says so (else why is "").
 */
int
place_append(const char *path, int flags, char *why, size_t size)
{
	struct place p;
	struct stat st;
	int fd, saved;

	why[0] = '\0';
	if (place_open(path, &p) == -1) {
		if (errno == EPERM)
			snprintf(why, size, "%s is a symbolic link in a "
			    "directory others can change; not following it",
			    p.where);
		return -1;
	}
	/* Looked at before it is opened: opening a FIFO may wait, or
	 * wake a reader.  (The open itself refuses a link, O_NOFOLLOW, and
	 * a directory, in its own words.) */
	if (place_stat(&p, &st) == 0 && !S_ISLNK(st.st_mode) &&
	    !S_ISDIR(st.st_mode) && !appendable(&st, why, size)) {
		place_close(&p);
		errno = EPERM;
		return -1;
	}
	/* O_NONBLOCK: a device never makes ucat wait. */
	fd = place_file(&p, flags | O_CREAT | O_APPEND | O_NOCTTY | O_NONBLOCK,
	    0600);
	if (fd != -1 && (fstat(fd, &st) == -1 || !appendable(&st, why, size))) {
		saved = why[0] != '\0' ? EPERM : errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	place_close(&p);
	return fd;
}
