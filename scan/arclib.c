/*
 * arclib - libarchive opened at run time (see arclib.h)
 *
 * The soname comes from the build (the SONAME of the development
 * library, -DARCLIB_SONAME): the major version the code was compiled
 * against, never a newer or older ABI by accident.
 */
#include <stddef.h>

#include "lib/dynlib.h"
#include "lib/mymalloc.h"
#include "scan/arclib.h"

#ifndef ARCLIB_SONAME
#define ARCLIB_SONAME "libarchive.so"
#endif

ARCLIB  arclib;

static const DYNLIB_SYM arclib_syms[] = {
    DYNLIB_SYM_OF(arclib, archive_entry_filetype),
    DYNLIB_SYM_OF(arclib, archive_entry_is_encrypted),
    DYNLIB_SYM_OF(arclib, archive_entry_is_metadata_encrypted),
    DYNLIB_SYM_OF(arclib, archive_entry_pathname),
    DYNLIB_SYM_OF(arclib, archive_entry_pathname_utf8),
    DYNLIB_SYM_OF(arclib, archive_entry_size),
    DYNLIB_SYM_OF(arclib, archive_entry_size_is_set),
    DYNLIB_SYM_OF(arclib, archive_error_string),
    DYNLIB_SYM_OF(arclib, archive_filter_count),
    DYNLIB_SYM_OF(arclib, archive_format),
    DYNLIB_SYM_OF(arclib, archive_read_data),
    DYNLIB_SYM_OF(arclib, archive_read_free),
    DYNLIB_SYM_OF(arclib, archive_read_new),
    DYNLIB_SYM_OF(arclib, archive_read_next_header),
    DYNLIB_SYM_OF(arclib, archive_read_open1),
    DYNLIB_SYM_OF(arclib, archive_read_open_memory),
    DYNLIB_SYM_OF(arclib, archive_read_set_callback_data),
    DYNLIB_SYM_OF(arclib, archive_read_set_read_callback),
    DYNLIB_SYM_OF(arclib, archive_read_set_seek_callback),
    DYNLIB_SYM_OF(arclib, archive_read_set_skip_callback),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_bzip2),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_compress),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_gzip),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_lzip),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_lzma),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_xz),
    DYNLIB_SYM_OF(arclib, archive_read_support_filter_zstd),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_7zip),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_ar),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_cab),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_cpio),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_iso9660),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_lha),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_rar),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_rar5),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_raw),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_tar),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_xar),
    DYNLIB_SYM_OF(arclib, archive_read_support_format_zip),
    DYNLIB_SYM_OF(arclib, archive_set_error),
};

/* arclib_load - once per process: the library, or why not */
int     arclib_load(VBUF *err)
{
    static int done;
    static char *why;                   /* the first failure, for every later call */
    VBUF   *tmp;

    if (!done) {
        tmp = vbuf_alloc(1024);
        if (dynlib_open(ARCLIB_SONAME, arclib_syms,
                        (int)(sizeof(arclib_syms) / sizeof(arclib_syms[0])), tmp) == NULL)
            why = mystrdup(vbuf_str(tmp));
        vbuf_free(tmp);
        done = 1;
    }
    if (why != NULL) {
        vbuf_sprintf(err, "libarchive: %s", why);
        return -1;
    }
    return 0;
}
