/*
 * test_lib_vbuf - the capped buffer: growth, the cap, overflow, formatting
 *
 * The contract of vbuf.h: data is always NUL-terminated, an append that
 * would pass the cap appends nothing, returns -1 and leaves the buffer
 * marked overflowed until vbuf_reset().
 */
#include <stdint.h>
#include <string.h>

#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

/* terminated - the byte after the data is a NUL */
static int terminated(const VBUF *vb)
{
    return vb->data[vb->len] == 0 && vb->size > vb->len;
}

/* test_cap - appends up to the cap succeed, past it nothing changes */
static void test_cap(void)
{
    static const struct {
        const char *label;
        size_t  first;          /* bytes appended first */
        size_t  second;         /* bytes appended next */
        int     second_rc;
        size_t  len;            /* length after both */
    } cases[] = {
        {"below the cap", 3, 4, 0, 7},
        {"exactly the cap", 4, 6, 0, 10},
        {"one past the cap", 5, 6, -1, 5},
        {"whole cap at once", 0, 10, 0, 10},
        {"cap plus one at once", 0, 11, -1, 0},
        {"empty append at the cap", 10, 0, 0, 10},
        {"huge append", 2, SIZE_MAX, -1, 2},
        {"huge append to empty", 0, SIZE_MAX - 1, -1, 0},
    };
    static const char bytes[32] = "abcdefghijklmnopqrstuvwxyz01234";
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        VBUF *vb = vbuf_alloc(10);

        UT_EQ_INT(vbuf_append(vb, bytes, cases[i].first), 0, cases[i].label);
        UT_EQ_INT(vbuf_append(vb, bytes + cases[i].first, cases[i].second),
                  cases[i].second_rc, cases[i].label);
        UT_EQ_INT(vbuf_len(vb), cases[i].len, cases[i].label);
        UT_EQ_MEM(vbuf_str(vb), vbuf_len(vb), bytes, cases[i].len, cases[i].label);
        UT_EQ_INT(vbuf_overflowed(vb), cases[i].second_rc < 0, cases[i].label);
        UT_CHECK(terminated(vb), "%s: not NUL-terminated", cases[i].label);
        vbuf_free(vb);
    }
}

/* test_overflow_sticky - the flag stays until reset, the buffer stays usable */
static void test_overflow_sticky(void)
{
    VBUF *vb = vbuf_alloc(4);

    UT_EQ_INT(vbuf_strcat(vb, "abc"), 0, "strcat below the cap");
    UT_EQ_INT(vbuf_strcat(vb, "de"), -1, "strcat past the cap");
    UT_EQ_STR(vbuf_str(vb), "abc", "nothing of a refused strcat");
    UT_EQ_INT(vbuf_addch(vb, 'd'), 0, "addch to the cap");
    UT_EQ_INT(vbuf_overflowed(vb), 1, "flag stays after a later success");
    UT_EQ_INT(vbuf_addch(vb, 'e'), -1, "addch past the cap");
    UT_EQ_STR(vbuf_str(vb), "abcd", "content at the cap");
    vbuf_truncate(vb, 2);
    UT_EQ_STR(vbuf_str(vb), "ab", "truncate");
    UT_EQ_INT(vbuf_overflowed(vb), 1, "truncate does not clear the flag");
    vbuf_truncate(vb, 10);
    UT_EQ_INT(vbuf_len(vb), 2, "truncate to more is a no-op");
    vbuf_reset(vb);
    UT_EQ_INT(vbuf_overflowed(vb), 0, "reset clears the flag");
    UT_EQ_INT(vbuf_len(vb), 0, "reset empties");
    UT_EQ_STR(vbuf_str(vb), "", "reset leaves an empty string");
    UT_EQ_INT(vbuf_strcpy(vb, "wxyz"), 0, "strcpy at the cap");
    UT_EQ_INT(vbuf_strcpy(vb, "vwxyz"), -1, "strcpy past the cap");
    UT_EQ_INT(vbuf_len(vb), 0, "a refused strcpy leaves the buffer empty");
    UT_EQ_INT(vbuf_overflowed(vb), 1, "a refused strcpy marks overflow");
    UT_EQ_INT(vbuf_strcpy(vb, "ok"), 0, "strcpy after overflow");
    UT_EQ_INT(vbuf_overflowed(vb), 0, "strcpy resets first");
    vbuf_free(vb);
    vbuf_free(NULL);
}

/* test_sprintf - formatting, appending, and the cap */
static void test_sprintf(void)
{
    static const struct {
        const char *label;
        size_t  cap;
        const char *first;      /* vbuf_sprintf with "%s" */
        int     num;            /* then vbuf_sprintf_append "-%d-" */
        int     rc;
        const char *want;
    } cases[] = {
        {"short", 64, "abc", 42, 0, "abc-42-"},
        {"to the cap", 8, "abcd", 42, 0, "abcd-42-"},
        {"past the cap", 8, "abcde", 42, -1, "abcde"},
        {"negative number", 64, "", -7, 0, "--7-"},
    };
    VBUF *vb;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vb = vbuf_alloc(cases[i].cap);
        UT_EQ_INT(vbuf_sprintf(vb, "%s", cases[i].first), 0, cases[i].label);
        UT_EQ_INT(vbuf_sprintf_append(vb, "-%d-", cases[i].num), cases[i].rc, cases[i].label);
        UT_EQ_STR(vbuf_str(vb), cases[i].want, cases[i].label);
        UT_EQ_INT(vbuf_len(vb), strlen(cases[i].want), cases[i].label);
        UT_EQ_INT(vbuf_overflowed(vb), cases[i].rc < 0, cases[i].label);
        vbuf_free(vb);
    }

    /* vbuf_sprintf replaces; a long result makes the buffer grow. */
    vb = vbuf_alloc(0);
    UT_EQ_INT(vb->cap, VBUF_DEFAULT_CAP, "cap 0 is the default cap");
    vbuf_strcpy(vb, "old");
    UT_EQ_INT(vbuf_sprintf(vb, "%05d|%-6s|%x", 42, "ab", 255), 0, "sprintf");
    UT_EQ_STR(vbuf_str(vb), "00042|ab    |ff", "sprintf replaces");
    UT_EQ_INT(vbuf_sprintf(vb, "%*s", 10000, "x"), 0, "long sprintf");
    UT_EQ_INT(vbuf_len(vb), 10000, "long sprintf length");
    UT_CHECK(vbuf_str(vb)[9999] == 'x' && vbuf_str(vb)[0] == ' ', "long sprintf content");
    UT_CHECK(terminated(vb), "long sprintf: not NUL-terminated");
    vbuf_free(vb);
}

/* test_growth - many small appends, binary data with NUL bytes */
static void test_growth(void)
{
    VBUF *vb = vbuf_alloc(0);
    size_t i;
    int ok = 1;

    for (i = 0; i < 100000; i++)
        if (vbuf_addch(vb, (int)(i % 251)) < 0)
            ok = 0;
    UT_CHECK(ok, "100000 addch");
    UT_EQ_INT(vbuf_len(vb), 100000, "length after growth");
    for (i = 0; i < 100000; i++)
        if ((unsigned char)vb->data[i] != i % 251)
            ok = 0;
    UT_CHECK(ok, "content after growth");
    UT_CHECK(terminated(vb), "not NUL-terminated after growth");
    vbuf_reset(vb);
    UT_EQ_INT(vbuf_append(vb, "a\0b\0", 4), 0, "append with NUL bytes");
    UT_EQ_MEM(vb->data, vbuf_len(vb), "a\0b\0", 4, "NUL bytes are data");
    vbuf_free(vb);
}

/* test_quote - log quoting: the quotes always delimit the value */
static void test_quote(void)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"", "\"\""},
        {"plain text", "\"plain text\""},
        {"banned name \"invoice.pdf.exe\"", "\"banned name \\\"invoice.pdf.exe\\\"\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"tab\tnl\ncr\r", "\"tab\\x09nl\\x0Acr\\x0D\""},
        {"del\x7f", "\"del\\x7F\""},
        {"caf\xc3\xa9.exe", "\"caf\xc3\xa9.exe\""},
    };
    VBUF *vb = vbuf_alloc(1024);
    VBUF *small = vbuf_alloc(8);
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_strcpy(vb, "x=");
        UT_EQ_INT(vbuf_quote_append(vb, cases[i].in), 0, cases[i].out);
        UT_EQ_STR(vbuf_str(vb) + 2, cases[i].out, cases[i].out);
    }
    UT_EQ_INT(vbuf_quote_append(small, "far too long"), -1, "quote past the cap fails");
    UT_CHECK(small->overflow, "quote past the cap marks overflow");
    vbuf_free(vb);
    vbuf_free(small);
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_lib_vbuf");
    test_cap();
    test_overflow_sticky();
    test_sprintf();
    test_growth();
    test_quote();
    return ut_done();
}
