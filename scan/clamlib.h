/*
 * clamlib - libclamav, opened at run time by the process that scans
 * with it (private to scan/)
 *
 * postsift-filter does not link libclamav: a pipe-mode run that scans
 * with clamd, and every process that never scans, would pay for it (and
 * for the C++ runtime, libxml2, ICU, OpenSSL and the rest it brings) at
 * each start. avclamav.c calls libclamav only through the table below,
 * filled by clamlib_load() from the soname the build found
 * (CLAMLIB_SONAME); each pointer has the prototype of clamav.h, so every
 * call is checked as if it were direct.
 */
#ifndef POSTSIFT_CLAMLIB_H
#define POSTSIFT_CLAMLIB_H

#include <clamav.h>

#include "lib/vbuf.h"

#define CLAMLIB_FN(name)    __typeof__(name) *name

typedef struct CLAMLIB {
    CLAMLIB_FN(cl_init);
    CLAMLIB_FN(cl_set_clcb_msg);
    CLAMLIB_FN(cl_strerror);
    CLAMLIB_FN(cl_retver);
    CLAMLIB_FN(cl_engine_new);
    CLAMLIB_FN(cl_engine_free);
    CLAMLIB_FN(cl_engine_set_num);
    CLAMLIB_FN(cl_engine_get_num);
    CLAMLIB_FN(cl_engine_set_str);
    CLAMLIB_FN(cl_engine_set_clcb_virus_found);
    CLAMLIB_FN(cl_engine_compile);
    CLAMLIB_FN(cl_load);
    CLAMLIB_FN(cl_cvdhead);
    CLAMLIB_FN(cl_cvdfree);
    CLAMLIB_FN(cl_statinidir);
    CLAMLIB_FN(cl_statchkdir);
    CLAMLIB_FN(cl_statfree);
    CLAMLIB_FN(cl_scandesc_callback);
    CLAMLIB_FN(cl_scanmap_callback);
    CLAMLIB_FN(cl_fmap_open_memory);
    CLAMLIB_FN(cl_fmap_close);
} CLAMLIB;

/* The table; valid once clamlib_load() succeeded. */
extern CLAMLIB clamlib;

/* clamlib_load - open libclamav and fill the table, the first time; 0,
 * or -1 with why in err (every later call gives the same answer, so a
 * missing library is named each time, never a crash) */
int clamlib_load(VBUF *err);

#endif
