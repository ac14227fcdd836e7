/*
 * banned - banned file names and true file types
 *
 * Rules from the settings, parsed once by banned_init():
 * banned_extensions (comma or space list, case-insensitive, dots
 * optional), banned_double_extensions (name the finding when a banned
 * extension hides behind another one, invoice.pdf.exe), banned_names
 * (shell patterns, case-insensitive) and banned_types (libmagic MIME
 * types, exact; while the list is not empty, application/x-dosexec and
 * application/x-*executable* are banned too). Names are compared the way
 * Windows opens them: trailing dots and white space dropped, an NTFS
 * "::$DATA" stream suffix dropped, directories ignored.
 */
#ifndef POSTSIFT_BANNED_H
#define POSTSIFT_BANNED_H

#include "lib/vbuf.h"

/* banned_init - parse the banned_* settings (again after a reload) */
void banned_init(void);

/* banned_free - forget the parsed rules */
void banned_free(void);

/* banned_name - 1 when a file name (decoded, may be NULL or empty) is
 * banned, with e.g. 'banned name "a.pdf.exe" (double extension .pdf.exe)'
 * in detail; 0 otherwise */
int banned_name(const char *name, VBUF *detail);

/* banned_type - 1 when a libmagic MIME type is banned, with e.g.
 * 'banned type application/x-executable in "report.txt"' in detail (name
 * may be NULL or empty) */
int banned_type(const char *type, const char *name, VBUF *detail);

/* banned_check - banned_name, then banned_type */
int banned_check(const char *name, const char *type, VBUF *detail);

#endif
