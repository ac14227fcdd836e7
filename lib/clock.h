/*
 * clock - the monotonic clock, the one place postsift reads it
 *
 * Deadlines, timeouts and durations in the logs all use CLOCK_MONOTONIC,
 * which a change of the wall clock does not move.
 */
#ifndef POSTSIFT_CLOCK_H
#define POSTSIFT_CLOCK_H

#include <time.h>

/* clock_now - the monotonic time */
struct timespec clock_now(void);

/* clock_seconds - the monotonic time in seconds, for deadline arithmetic */
double  clock_seconds(void);

/* clock_ms_between - milliseconds from earlier to later (negative when
 * later is earlier) */
long long clock_ms_between(struct timespec earlier, struct timespec later);

/* clock_ms_since - milliseconds from start to now */
long long clock_ms_since(struct timespec start);

#endif
