/*
 * arclib - libarchive, opened at run time by the process that lists an
 * archive (private to scan/)
 *
 * postsift-filter does not link libarchive: every process would pay at
 * each start for it and for what it brings (libxml2, ICU, the C++
 * runtime, nettle, acl, zstd, lz4, bzip2...), while only a message with
 * an archive in it needs it. archive.c calls libarchive only through the
 * table below, filled by arclib_load() from the soname the build found
 * (ARCLIB_SONAME); each pointer has the prototype of <archive.h>, so
 * every call is checked as if it were direct.
 *
 * Include <archive.h> and <archive_entry.h> before this header (see
 * scan/archive.h about ARCHIVE_OK).
 */
#ifndef POSTSIFT_ARCLIB_H
#define POSTSIFT_ARCLIB_H

#include <archive.h>
#include <archive_entry.h>

#include "lib/vbuf.h"

#define ARCLIB_FN(name)     __typeof__(name) *name

typedef struct ARCLIB {
    ARCLIB_FN(archive_entry_filetype);
    ARCLIB_FN(archive_entry_is_encrypted);
    ARCLIB_FN(archive_entry_is_metadata_encrypted);
    ARCLIB_FN(archive_entry_pathname);
    ARCLIB_FN(archive_entry_pathname_utf8);
    ARCLIB_FN(archive_entry_size);
    ARCLIB_FN(archive_entry_size_is_set);
    ARCLIB_FN(archive_error_string);
    ARCLIB_FN(archive_filter_count);
    ARCLIB_FN(archive_format);
    ARCLIB_FN(archive_read_data);
    ARCLIB_FN(archive_read_free);
    ARCLIB_FN(archive_read_new);
    ARCLIB_FN(archive_read_next_header);
    ARCLIB_FN(archive_read_open1);
    ARCLIB_FN(archive_read_open_memory);
    ARCLIB_FN(archive_read_set_callback_data);
    ARCLIB_FN(archive_read_set_read_callback);
    ARCLIB_FN(archive_read_set_seek_callback);
    ARCLIB_FN(archive_read_set_skip_callback);
    ARCLIB_FN(archive_read_support_filter_bzip2);
    ARCLIB_FN(archive_read_support_filter_compress);
    ARCLIB_FN(archive_read_support_filter_gzip);
    ARCLIB_FN(archive_read_support_filter_lzip);
    ARCLIB_FN(archive_read_support_filter_lzma);
    ARCLIB_FN(archive_read_support_filter_xz);
    ARCLIB_FN(archive_read_support_filter_zstd);
    ARCLIB_FN(archive_read_support_format_7zip);
    ARCLIB_FN(archive_read_support_format_ar);
    ARCLIB_FN(archive_read_support_format_cab);
    ARCLIB_FN(archive_read_support_format_cpio);
    ARCLIB_FN(archive_read_support_format_iso9660);
    ARCLIB_FN(archive_read_support_format_lha);
    ARCLIB_FN(archive_read_support_format_rar);
    ARCLIB_FN(archive_read_support_format_rar5);
    ARCLIB_FN(archive_read_support_format_raw);
    ARCLIB_FN(archive_read_support_format_tar);
    ARCLIB_FN(archive_read_support_format_xar);
    ARCLIB_FN(archive_read_support_format_zip);
    ARCLIB_FN(archive_set_error);
} ARCLIB;

/* The table; valid once arclib_load() succeeded. */
extern ARCLIB arclib;

/* arclib_load - open libarchive and fill the table, the first time; 0,
 * or -1 with why in err (every later call gives the same answer, so a
 * missing library is named each time, never a crash) */
int arclib_load(VBUF *err);

#endif
