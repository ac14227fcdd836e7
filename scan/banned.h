/*
 * banned - banned file names and true file types
 *
 * Rules from the settings, compiled by banned_open() into a BANNED value
 * that its owner (the INSPECTOR) keeps and frees with banned_close():
 * banned_extensions (comma or space list, case-insensitive, dots
 * optional), banned_double_extensions (name the finding when a banned
 * extension hides behind another one, invoice.pdf.exe), banned_names
 * (shell patterns, case-insensitive) and banned_types (libmagic MIME
 * types, case-insensitive, exact or shell patterns such as
 * application/x-*executable*). While banned_types is not empty, native
 * executable code is banned too, whatever the list says: every name
 * file(1) has used for Windows PE and MS-DOS executables, ELF
 * executables and shared objects, and Mach-O binaries (see banned.c).
 *
 * Names are compared the way Windows opens them: trailing dots and white
 * space dropped, an NTFS "::$DATA" stream suffix dropped, directories
 * ignored. Names of any length are compared whole; details quote at most
 * BANNED_SHOWN_MAX bytes of a name, its start and its end, made printable.
 */
#ifndef POSTSIFT_BANNED_H
#define POSTSIFT_BANNED_H

#include "lib/vbuf.h"

#define BANNED_SHOWN_MAX 256    /* bytes of a name quoted in a detail */

typedef struct BANNED BANNED;

/* banned_settings_check - validate banned_extensions and banned_types;
 * -1 with "banned_types: why" in err. Call it at start-up and before a
 * reload, beside action_check(): banned_open() drops an invalid entry
 * with a warning, it cannot refuse it. */
int banned_settings_check(VBUF *err);

/* banned_open - compile the banned_* settings as they are now */
BANNED *banned_open(void);

/* banned_close - forget them; NULL allowed */
void banned_close(BANNED *b);

/* banned_name - 1 when a file name (decoded, may be NULL or empty) is
 * banned, with e.g. 'banned name "a.pdf.exe" (double extension .pdf.exe)'
 * in detail; 0 otherwise */
int banned_name(const BANNED *b, const char *name, VBUF *detail);

/* banned_type - 1 when a libmagic MIME type is banned, with e.g.
 * 'banned type application/x-executable in "report.txt"' in detail (name
 * may be NULL or empty) */
int banned_type(const BANNED *b, const char *type, const char *name, VBUF *detail);

/* banned_type_rule - the banned_types entry (or built-in executable
 * rule) that bans a type, NULL when none does; for logs and tests */
const char *banned_type_rule(const BANNED *b, const char *type);

/* banned_check - banned_name, then banned_type */
int banned_check(const BANNED *b, const char *name, const char *type, VBUF *detail);

#endif
