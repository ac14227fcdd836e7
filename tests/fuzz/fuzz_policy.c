/*
 * fuzz_policy - one policy-delegation request (policy/request.c)
 *
 * Input: what a Postfix smtpd (or anyone who reaches the socket) sends:
 * name=value lines up to an empty line, as request_parse() reads it
 * from memory (the same line rules as request_read() over a socket).
 *
 * Checks: the status is one of the four; a good request keeps the
 * bounds (attributes, name and value lengths, total), has printable
 * names and values without control bytes, no repeated name, and
 * request=smtpd_access_policy; request_get() finds each attribute; the
 * request written out again as Postfix would send it parses to the same
 * attributes. A bad or lost one has a one-line, printable reason; a
 * good one none.
 */
#include <string.h>

#include "lib/vbuf.h"
#include "policy/request.h"
#include "tests/fuzz/fuzz.h"

static REQUEST req, again;
static VBUF *err, *text;

/* policy_free - at exit */
static void policy_free(void)
{
    request_reset(&req);
    request_reset(&again);
    vbuf_free(err);
    vbuf_free(text);
}

/* LLVMFuzzerInitialize - once per process */
int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("policy");
    request_init(&req);
    request_init(&again);
    err = vbuf_alloc(4096);
    text = vbuf_alloc(REQUEST_MAX_TOTAL + 1);
    fuzz_at_exit(policy_free);
    return 0;
}

/* check_text - s is printable ASCII without control bytes */
static int check_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* check_good - the bounds and rules of a request that parsed */
static void check_good(void)
{
    int     i, j;

    if (req.count < 1 || req.count > REQUEST_MAX_ATTRS || req.total > REQUEST_MAX_TOTAL)
        fuzz_fail("good request out of bounds: %d attributes, %zu bytes", req.count, req.total);
    if (vbuf_len(err) != 0)
        fuzz_fail("good request with a complaint: %s", vbuf_str(err));
    if (request_get(&req, "request") == NULL
        || strcmp(request_get(&req, "request"), "smtpd_access_policy") != 0)
        fuzz_fail("good request without request=smtpd_access_policy");
    for (i = 0; i < req.count; i++) {
        const REQUEST_ATTR *a = &req.attrs[i];

        if (*a->name == 0 || strlen(a->name) > REQUEST_MAX_NAME
            || strlen(a->value) > REQUEST_MAX_VALUE || strchr(a->name, '=')
            || !check_text(a->name) || !check_text(a->value))
            fuzz_fail("attribute %d breaks the rules", i);
        if (request_get(&req, a->name) != a->value)
            fuzz_fail("request_get(%s) does not find attribute %d", a->name, i);
        for (j = 0; j < i; j++)
            if (strcmp(req.attrs[j].name, a->name) == 0)
                fuzz_fail("attribute %s repeated", a->name);
    }
}

/* check_again - written out as Postfix sends it, it parses the same */
static void check_again(void)
{
    int     i;

    vbuf_reset(text);
    for (i = 0; i < req.count; i++)
        vbuf_sprintf_append(text, "%s=%s\n", req.attrs[i].name, req.attrs[i].value);
    vbuf_strcat(text, "\n");
    if (request_parse(&again, vbuf_str(text), vbuf_len(text), err) != REQUEST_OK)
        fuzz_fail("a good request written out again is refused: %s", vbuf_str(err));
    if (again.count != req.count)
        fuzz_fail("written out again: %d attributes, not %d", again.count, req.count);
    for (i = 0; i < req.count; i++)
        if (strcmp(again.attrs[i].name, req.attrs[i].name) != 0
            || strcmp(again.attrs[i].value, req.attrs[i].value) != 0)
            fuzz_fail("written out again: attribute %d differs", i);
}

/* LLVMFuzzerTestOneInput - parse one request and judge the result */
int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     status = request_parse(&req, (const char *)data, size, err);

    if (fuzz_verbose() > 1)
        msg_info("status %s: %s", request_status_names[status], vbuf_str(err));
    switch (status) {
    case REQUEST_OK:
        check_good();
        check_again();
        break;
    case REQUEST_END:
        if (size != 0)
            fuzz_fail("REQUEST_END for %zu bytes", size);
        break;
    case REQUEST_BAD:
    case REQUEST_LOST:
        if (vbuf_len(err) == 0 || !check_text(vbuf_str(err)))
            fuzz_fail("%s without a printable one-line reason", request_status_names[status]);
        break;
    default:
        fuzz_fail("request_parse returned %d", status);
    }
    request_reset(&req);
    request_reset(&again);
    return 0;
}
