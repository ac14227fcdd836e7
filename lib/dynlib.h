/*
 * dynlib - load a shared library at run time, only by the process that
 * needs it
 *
 * A program that links a library pays for it (the dynamic loader maps
 * it and what it depends on, resolves its symbols and runs its
 * constructors) in every process, even one that never calls it. A
 * library that only some processes use (libclamav with scanner =
 * clamav, libsystemd under a service manager, libmicrohttpd in the
 * metrics helper) is opened with dynlib_open() instead: by soname,
 * found at build time from the installed development library, with its
 * functions resolved into a table of pointers that the caller declares
 * with the library's own prototypes (__typeof__(name) *).
 */
#ifndef POSTSIFT_DYNLIB_H
#define POSTSIFT_DYNLIB_H

#include "lib/vbuf.h"

/* One function to resolve: its name and where its address goes (a
 * function pointer of the right type, stored whole). */
typedef struct DYNLIB_SYM {
    const char *name;
    void   *addr;               /* &table.member */
} DYNLIB_SYM;

/* DYNLIB_SYM_OF - an entry for member NAME of table T, resolved as NAME */
#define DYNLIB_SYM_OF(t, name)  { #name, &(t).name }

/* dynlib_open - open soname (RTLD_NOW, RTLD_LOCAL) and resolve every
 * name of syms into its pointer: the handle, or NULL with why in err
 * (the library cannot be loaded, or it lacks functions: all of them are
 * named), with every pointer left NULL and the library closed */
void   *dynlib_open(const char *soname, const DYNLIB_SYM *syms, int nsyms, VBUF *err);

#endif
