/*
 * dynlib - load a shared library at run time (see dynlib.h)
 *
 * A function pointer is copied whole out of dlsym()'s void pointer, as
 * POSIX guarantees it fits; the table's own prototypes make every call
 * type-checked. A missing library or function is an answer, never a
 * crash: the caller turns it into its own kind of failure (exit 75 in
 * pipe mode, a refusal to start in a daemon). RTLD_NOW: a library whose
 * own dependencies lack a symbol fails here, with dlerror()'s text,
 * rather than killing the process at its first call mid-scan; it costs
 * no measurable time, as Debian's libraries are bound at load anyway.
 */
#include <dlfcn.h>
#include <string.h>

#include "lib/dynlib.h"

/* dynlib_clear - every pointer of the table back to NULL */
static void dynlib_clear(const DYNLIB_SYM *syms, int nsyms)
{
    void    (*none)(void) = NULL;
    int     i;

    for (i = 0; i < nsyms; i++)
        memcpy(syms[i].addr, &none, sizeof(none));
}

/* dynlib_open - open the library, resolve the table */
void   *dynlib_open(const char *soname, const DYNLIB_SYM *syms, int nsyms, VBUF *err)
{
    void   *handle, *sym;
    int     i, missing = 0;

    dynlib_clear(syms, nsyms);
    if ((handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        const char *why = dlerror();

        vbuf_sprintf(err, "cannot load %s: %s", soname, why ? why : "unknown error");
        return NULL;
    }
    for (i = 0; i < nsyms; i++) {
        (void)dlerror();
        if ((sym = dlsym(handle, syms[i].name)) == NULL) {
            if (missing++ == 0)
                vbuf_sprintf(err, "%s lacks %s", soname, syms[i].name);
            else
                vbuf_sprintf_append(err, ", %s", syms[i].name);
            continue;
        }
        memcpy(syms[i].addr, &sym, sizeof(sym));
    }
    if (missing) {
        vbuf_strcat(err, " (a library too old or too new for this build)");
        dynlib_clear(syms, nsyms);
        (void)dlclose(handle);
        return NULL;
    }
    return handle;
}
