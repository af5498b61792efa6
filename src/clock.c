/* clock.c: the monotonic clock that every deadline of ucat is read on. */
#include "config.h"

#include <time.h>

#include "ucat.h"

/* Seconds on a clock that only goes forward. */
double
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds from now until deadline, for poll(2): -1 for none (< 0),
 * 0 once it has passed, rounded up so that poll never wakes too early. */
int
clock_ms_until(double deadline)
{
	double left;

	if (deadline < 0)
		return -1;
	left = (deadline - clock_now()) * 1000;
	if (left <= 0)
		return 0;
	return left > 86400000 ? 86400000 : (int)left + 1;
}
