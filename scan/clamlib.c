/*
 * clamlib - libclamav opened at run time (see clamlib.h)
 *
 * The soname comes from the build (the SONAME of the development
 * library, -DCLAMLIB_SONAME): the major version the code was compiled
 * against, never a newer or older ABI by accident.
 */
#include <stddef.h>

#include "lib/dynlib.h"
#include "lib/mymalloc.h"
#include "scan/clamlib.h"

#ifndef CLAMLIB_SONAME
#define CLAMLIB_SONAME "libclamav.so"
#endif

CLAMLIB clamlib;

static const DYNLIB_SYM clamlib_syms[] = {
    DYNLIB_SYM_OF(clamlib, cl_init),
    DYNLIB_SYM_OF(clamlib, cl_set_clcb_msg),
    DYNLIB_SYM_OF(clamlib, cl_strerror),
    DYNLIB_SYM_OF(clamlib, cl_retver),
    DYNLIB_SYM_OF(clamlib, cl_engine_new),
    DYNLIB_SYM_OF(clamlib, cl_engine_free),
    DYNLIB_SYM_OF(clamlib, cl_engine_set_num),
    DYNLIB_SYM_OF(clamlib, cl_engine_get_num),
    DYNLIB_SYM_OF(clamlib, cl_engine_set_str),
    DYNLIB_SYM_OF(clamlib, cl_engine_set_clcb_virus_found),
    DYNLIB_SYM_OF(clamlib, cl_engine_compile),
    DYNLIB_SYM_OF(clamlib, cl_load),
    DYNLIB_SYM_OF(clamlib, cl_cvdhead),
    DYNLIB_SYM_OF(clamlib, cl_cvdfree),
    DYNLIB_SYM_OF(clamlib, cl_statinidir),
    DYNLIB_SYM_OF(clamlib, cl_statchkdir),
    DYNLIB_SYM_OF(clamlib, cl_statfree),
    DYNLIB_SYM_OF(clamlib, cl_scandesc_callback),
    DYNLIB_SYM_OF(clamlib, cl_scanmap_callback),
    DYNLIB_SYM_OF(clamlib, cl_fmap_open_memory),
    DYNLIB_SYM_OF(clamlib, cl_fmap_close),
};

/* clamlib_load - once per process: the library, or why not */
int     clamlib_load(VBUF *err)
{
    static int done;
    static char *why;                   /* the first failure, for every later call */
    VBUF   *tmp;

    if (!done) {
        tmp = vbuf_alloc(1024);
        if (dynlib_open(CLAMLIB_SONAME, clamlib_syms,
                        (int)(sizeof(clamlib_syms) / sizeof(clamlib_syms[0])), tmp) == NULL)
            why = mystrdup(vbuf_str(tmp));
        vbuf_free(tmp);
        done = 1;
    }
    if (why != NULL) {
        vbuf_sprintf(err, "libclamav (scanner = clamav): %s", why);
        return -1;
    }
    return 0;
}
