/*
 * test_lib_dynlib - a library opened at run time: a table of pointers
 * filled by name, and every failure an answer that names what is missing
 * (never a crash, never a half-filled table)
 */
#include <math.h>
#include <string.h>

#include "lib/dynlib.h"
#include "tests/unit/unittest.h"

/* A table of the kind callers declare: the library's own prototypes. */
static struct {
    __typeof__(cos) *cos;
    __typeof__(sqrt) *sqrt;
    __typeof__(cos) *no_such_function_in_libm;
    __typeof__(cos) *another_missing_one;
} tab;

/* test_found - every name resolved: the calls work through the table */
static void test_found(void)
{
    const DYNLIB_SYM syms[] = {DYNLIB_SYM_OF(tab, cos), DYNLIB_SYM_OF(tab, sqrt)};
    VBUF   *err = vbuf_alloc(1024);
    void   *h;

    h = dynlib_open("libm.so.6", syms, 2, err);
    UT_CHECK(h != NULL, "libm.so.6 opens: %s", vbuf_str(err));
    if (h == NULL)
        return;
    UT_CHECK(tab.cos != NULL && tab.sqrt != NULL, "both pointers filled");
    UT_CHECK(tab.sqrt(49.0) == 7.0, "sqrt(49) through the table");
    UT_CHECK(tab.cos(0.0) == 1.0, "cos(0) through the table");
    vbuf_free(err);
}

/* test_missing - a missing function or library: NULL, why, table cleared */
static void test_missing(void)
{
    static const struct {
        const char *label;
        const char *soname;
        int     nsyms;          /* of the four below */
        const char *says[3];    /* each must be in the error */
    } cases[] = {
        {"no such library", "libpostsift-no-such.so.9", 2,
         {"cannot load libpostsift-no-such.so.9", NULL, NULL}},
        {"one function missing", "libm.so.6", 3,
         {"libm.so.6 lacks no_such_function_in_libm", NULL, NULL}},
        {"two functions missing: both named", "libm.so.6", 4,
         {"libm.so.6 lacks", "no_such_function_in_libm", "another_missing_one"}},
    };
    const DYNLIB_SYM syms[] = {
        DYNLIB_SYM_OF(tab, cos), DYNLIB_SYM_OF(tab, sqrt),
        DYNLIB_SYM_OF(tab, no_such_function_in_libm),
        DYNLIB_SYM_OF(tab, another_missing_one),
    };
    VBUF   *err = vbuf_alloc(1024);
    size_t  i, j;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_sprintf(err, "stale");
        UT_CHECK(dynlib_open(cases[i].soname, syms, cases[i].nsyms, err) == NULL,
                 "%s: refused", cases[i].label);
        for (j = 0; j < 3 && cases[i].says[j]; j++)
            UT_CHECK(strstr(vbuf_str(err), cases[i].says[j]) != NULL,
                     "%s: the error says \"%s\": \"%s\"", cases[i].label, cases[i].says[j],
                     vbuf_str(err));
        UT_CHECK(tab.cos == NULL && tab.sqrt == NULL && tab.no_such_function_in_libm == NULL,
                 "%s: no pointer left filled", cases[i].label);
    }
    vbuf_free(err);
}

int     main(void)
{
    UT_BEGIN("test_lib_dynlib");
    msg_init("test_lib_dynlib", MSG_STDERR);
    test_found();
    test_missing();
    return ut_done();
}
