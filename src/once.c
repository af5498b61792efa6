/* once.c: what ucat's processes say once between them: a -k server and each child it forks share one flag. */
#include "config.h"

#include <sys/mman.h>

#include <stdbool.h>
#include <stdlib.h>

#include "ucat.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS	MAP_ANON
#endif

/*
 * A flag in memory that children forked later share, made before they
 * are; where none can be had, one of this process's own (then each child
 * may say it once), and failing that none (then it is said each time).
 */
volatile char *
once_flag(void)
{
	void *p = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? p : calloc(1, 1);
}

/* True the first time, in whichever process asks first. */
bool
once(volatile char *flag)
{
	return flag == NULL || __atomic_exchange_n(flag, 1,
	    __ATOMIC_RELAXED) == 0;
}
