/*
 * test_scan_logline - the one log line per message: the order of its
 * fields (queue id, verdict, action, status first), the shortened
 * recipient list, and the LOGLINE_MAX bound with 500 recipients and
 * long fields, so that msg_vlog()'s 2048 bytes never cut it
 */
#include <stdio.h>
#include <string.h>

#include "scan/logline.h"
#include "lib/mymalloc.h"
#include "tests/unit/unittest.h"

/* base - a line with one recipient and every field */
static void base(LOGLINE *ll, const char *const *rcpt, int nrcpt)
{
    memset(ll, 0, sizeof(*ll));
    ll->queue_id = "4ABC123";
    ll->client = "mx.example.org[192.0.2.1]";
    ll->sender = "s@example.org";
    ll->rcpt = rcpt;
    ll->nrcpt = nrcpt;
    ll->size = 1234;
    ll->verdict = VERDICT_INFECTED;
    ll->action = ACTION_QUARANTINE;
    ll->detail = "Eicar-Test-Signature in part 2 \"eicar.com\"";
    ll->queued_as = "QX1";
    ll->delay = 0.25;
    ll->status = "quarantined";
    ll->why = "Q1";
}

/* check_order - the exact line, and the fields an admin greps first */
static void check_order(VBUF *out)
{
    static const char *const one[] = {"r@example.net"};
    static const char *const three[] = {"a@x", "b@x", "c@x"};
    LOGLINE ll;

    base(&ll, one, 1);
    logline_format(out, &ll);
    UT_EQ_STR(vbuf_str(out), "4ABC123: verdict=infected, action=quarantine, status=quarantined (Q1), "
              "detail=\"Eicar-Test-Signature in part 2 \\\"eicar.com\\\"\", queued_as=QX1, "
              "delay=0.25, size=1234, client=mx.example.org[192.0.2.1], from=<s@example.org>, "
              "to=<r@example.net>", "whole line");

    /* pipe mode: no client, no detail, no queue id, no queued_as */
    base(&ll, three, 3);
    ll.queue_id = NULL;
    ll.client = NULL;
    ll.detail = "";
    ll.queued_as = NULL;
    ll.verdict = VERDICT_CLEAN;
    ll.action = ACTION_PASS;
    ll.status = "sent";
    ll.why = "250 2.0.0 Ok";
    logline_format(out, &ll);
    UT_EQ_STR(vbuf_str(out), "NOQUEUE: verdict=clean, action=pass, status=sent (250 2.0.0 Ok), "
              "queued_as=-, delay=0.25, size=1234, from=<s@example.org>, to=<a@x>,<b@x>,<c@x>",
              "pipe line, three recipients in full");

    /* the null sender, and control characters made printable */
    base(&ll, one, 1);
    ll.sender = "";
    ll.why = "bad\r\nX-Injected: 1";
    logline_format(out, &ll);
    UT_CHECK(strstr(vbuf_str(out), ", from=<>, to=<r@example.net>") != NULL, "null sender: %s",
             vbuf_str(out));
    UT_CHECK(strchr(vbuf_str(out), '\n') == NULL && strchr(vbuf_str(out), '\r') == NULL,
             "no line break in the line");
}

/* check_many - 50 recipients: three named, then the count */
static void check_many(VBUF *out)
{
    const char *rcpt[50];
    char    names[50][32];
    LOGLINE ll;
    int     i;

    for (i = 0; i < 50; i++) {
        snprintf(names[i], sizeof(names[i]), "user%02d@example.net", i);
        rcpt[i] = names[i];
    }
    base(&ll, rcpt, 50);
    logline_format(out, &ll);
    UT_CHECK(strstr(vbuf_str(out), ", to=<user00@example.net>,<user01@example.net>,"
                    "<user02@example.net> (+47 more)") != NULL, "50 recipients: %s", vbuf_str(out));
    UT_CHECK(strstr(vbuf_str(out), "user03@") == NULL, "the fourth is not named");
    UT_CHECK(strncmp(vbuf_str(out), "4ABC123: verdict=infected, action=quarantine, "
                     "status=quarantined (Q1)", 65) == 0, "verdict first");

    /* four: three named, "+1 more" */
    base(&ll, rcpt, 4);
    logline_format(out, &ll);
    UT_CHECK(strstr(vbuf_str(out), "<user02@example.net> (+1 more)") != NULL, "4 recipients: %s",
             vbuf_str(out));
}

/* long_string - n copies of ch, in a buffer of ours */
static char *long_string(int ch, size_t n)
{
    char   *s = mymalloc(n + 1);

    memset(s, ch, n);
    s[n] = 0;
    return s;
}

/* check_bound - 500 long recipients, a long detail, sender, reason and
 * client: at most LOGLINE_MAX bytes, and verdict, action, status and
 * the recipient count are all there */
static void check_bound(VBUF *out)
{
    const char **rcpt = mymalloc(500 * sizeof(char *));
    char   *addr = long_string('r', 1000), *detail = long_string('d', 5000);
    char   *sender = long_string('s', 3000), *why = long_string('w', 3000);
    char   *ctl = long_string('\001', 3000);
    LOGLINE ll;
    int     i;

    for (i = 0; i < 500; i++)
        rcpt[i] = addr;
    base(&ll, rcpt, 500);
    ll.detail = detail;
    ll.sender = sender;
    ll.why = why;
    ll.client = sender;
    logline_format(out, &ll);
    UT_CHECK(vbuf_len(out) <= LOGLINE_MAX, "500 long recipients: %zu bytes", vbuf_len(out));
    UT_CHECK(strncmp(vbuf_str(out), "4ABC123: verdict=infected, action=quarantine, status=quarantined (",
                     66) == 0, "verdict, action, status first");
    UT_CHECK(strstr(vbuf_str(out), ", queued_as=QX1, delay=0.25, size=1234, ") != NULL,
             "queued_as, delay and size kept");
    UT_CHECK(strstr(vbuf_str(out), "more)") != NULL
             && strcmp(vbuf_str(out) + vbuf_len(out) - 5, "more)") == 0,
             "the recipient count ends the line: ...%s", vbuf_str(out) + vbuf_len(out) - 40);

    /* short addresses, 500 of them: three named, "+497 more" */
    for (i = 0; i < 500; i++)
        rcpt[i] = "x@example.net";
    base(&ll, rcpt, 500);
    ll.detail = detail;
    logline_format(out, &ll);
    UT_CHECK(vbuf_len(out) <= LOGLINE_MAX, "500 recipients, long detail: %zu bytes", vbuf_len(out));
    UT_CHECK(strstr(vbuf_str(out), "to=<x@example.net>,<x@example.net>,<x@example.net> (+497 more)")
             != NULL, "three named, 497 counted");

    /* a detail of control characters quotes to four times its length:
     * the last cut keeps the line within bounds */
    ll.detail = ctl;
    logline_format(out, &ll);
    UT_CHECK(vbuf_len(out) <= LOGLINE_MAX, "control detail: %zu bytes", vbuf_len(out));
    UT_CHECK(strncmp(vbuf_str(out), "4ABC123: verdict=infected, ", 27) == 0, "still verdict first");

    myfree(rcpt);
    myfree(addr);
    myfree(detail);
    myfree(sender);
    myfree(why);
    myfree(ctl);
}

int     main(void)
{
    VBUF   *out = vbuf_alloc(16384);

    UT_BEGIN("test_scan_logline");
    check_order(out);
    check_many(out);
    check_bound(out);
    vbuf_free(out);
    return ut_done();
}
