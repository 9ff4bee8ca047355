/*  benchutil.h: the clock and CPU readings the benchmark tools share
 *  (herald-loadgen, bench_backbone, sendfloor). Header-only: each tool is
 *  one program, built from one file and this.
 */
#ifndef HERALD_BENCHUTIL_H
#define HERALD_BENCHUTIL_H

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

//  Seconds on the monotonic clock.
static inline double
bench_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  User plus system CPU seconds in a struct rusage.
static inline double
bench_rusage_seconds (const struct rusage *ru)
{
    return (double) ru->ru_utime.tv_sec + (double) ru->ru_utime.tv_usec / 1e6
           + (double) ru->ru_stime.tv_sec + (double) ru->ru_stime.tv_usec / 1e6;
}

//  The fields of /proc/PID/stat after the command name (which may hold
//  spaces), read into buf: they start with the state (field 3). NULL if
//  the file cannot be read.
static inline const char *
bench_proc_stat (int pid, char *buf, size_t size)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    size_t n = fread (buf, 1, size - 1, f);
    fclose (f);
    buf[n] = 0;
    char *p = strrchr (buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

//  CPU seconds used so far by this process (pid 0), or by pid (from
//  /proc), or -1 if they cannot be read.
static inline double
bench_cpu_seconds (int pid)
{
    if (pid == 0) {
        struct rusage ru;
        getrusage (RUSAGE_SELF, &ru);
        return bench_rusage_seconds (&ru);
    }
    char buf[1024];
    const char *p = bench_proc_stat (pid, buf, sizeof buf);
    //  utime and stime are fields 14 and 15.
    unsigned long long utime, stime;
    if (!p || sscanf (p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                      &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

#endif
