/*
 * clock - the monotonic clock (see clock.h)
 */
#include "lib/clock.h"

/* clock_now - the monotonic time */
struct timespec clock_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

/* clock_seconds - the monotonic time in seconds */
double clock_seconds(void)
{
    struct timespec ts = clock_now();

    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* clock_ms_between - milliseconds from earlier to later */
long long clock_ms_between(struct timespec earlier, struct timespec later)
{
    return (long long)(later.tv_sec - earlier.tv_sec) * 1000
        + (later.tv_nsec - earlier.tv_nsec) / 1000000;
}

/* clock_ms_since - milliseconds from start to now */
long long clock_ms_since(struct timespec start)
{
    return clock_ms_between(start, clock_now());
}
