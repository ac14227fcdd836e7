/*
 * fuzz_smtpreply - the SMTP client (smtpcli) on arbitrary server bytes
 *
 * The first byte of the input chooses how the client talks, the rest is
 * everything the server says (greeting, EHLO reply, the replies to what
 * follows), sent as fast as the client reads:
 *
 *     bit 0     LMTP (LHLO, one reply per recipient after DATA)
 *     bits 1-2  1 to 4 recipients
 *     bit 3     the whole transaction pipelined (smtpcli_send) instead
 *               of lock-step commands (smtpd's way)
 *     bit 4     through reinject_message(), pipe mode's hand-over, to a
 *               unix socket (then bits 0 and 3 do not apply)
 *     bit 5     smtpcli_send: not all or nothing
 *
 * That runs the reply reader (netio lines, multi-line replies, the
 * 100-line bound), smtp_reply_parse(), the EHLO keyword list and its
 * parameters, XFORWARD splitting, smtp_queue_id() and reinject's mapping
 * of replies to exit statuses. Checks: every reply has code 0 or 200-599
 * and an enhanced status code X.Y.Z, of its class for 2xx, 4xx and 5xx;
 * reinject_message() gives 0, 69 or 75 with an enhanced status code of
 * the same class (pipe(8) goes by that code before the exit status) and
 * a one-line reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/params.h"
#include "lib/vbuf.h"
#include "reinject/reinject.h"
#include "smtpcli/smtpcli.h"
#include "tests/fuzz/fuzz.h"

#define OPT_LMTP        0x01
#define OPT_RCPTS(o)    ((((o) >> 1) & 3) + 1)
#define OPT_PIPELINED   0x08
#define OPT_REINJECT    0x10
#define OPT_PARTIAL     0x20

static const char message[] = "Subject: reply fuzzing\n\nhello\n.leading dot\n";
static char target[4200];
static VBUF *qid;

/* reply_free - at exit */
static void reply_free(void)
{
    vbuf_free(qid);
    qid = NULL;
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("smtpreply");
    snprintf(target, sizeof(target), "unix:%s", fuzz_listen(FUZZ_SCRIPT, "server.sock"));
    fuzz_set("reinject_timeout=30s");
    fuzz_set("smtp_helo_name=client.example");
    qid = vbuf_alloc(0);
    fuzz_at_exit(reply_free);
    return 0;
}

/* check_reply - code and enhanced status code are well-formed ("-what":
 * a reply of smtpcli_send's that may not have been reached) */
static void check_reply(const SMTP_REPLY *r, const char *what)
{
    const char *d = r->dsn;
    int     part, n;

    if (r->code == 0 && d[0] == 0 && what[0] == '-')
        return;                     /* smtpcli_send did not get that far */

    if (r->code != 0 && (r->code < 200 || r->code > 599))
        fuzz_fail("%s: reply code %d", what, r->code);
    if (r->code / 100 != 3 && r->code != 0 && d[0] != '0' + r->code / 100)
        fuzz_fail("%s: enhanced code %s for reply code %d", what, d, r->code);
    if (d[0] < '2' || d[0] > '5' || d[1] != '.')
        fuzz_fail("%s: enhanced code \"%s\"", what, d);
    d += 2;
    for (part = 0; part < 2; part++) {
        for (n = 0; isdigit((unsigned char)*d); n++)
            d++;
        if (n < 1 || n > 3 || *d != (part == 0 ? '.' : 0))
            fuzz_fail("%s: enhanced code \"%s\"", what, r->dsn);
        d++;
    }
    if (r->text == NULL)
        fuzz_fail("%s: reply without text", what);
}

/* envelope - sender, recipients with DSN parameters, XFORWARD */
static void envelope(SMTP_ENVELOPE *env, SMTP_RCPT *rcpt, int nrcpt)
{
    static const char *const addrs[] = {
        "a@example.org", "\"john doe\"@example.org", "b@example.net", "c@example.com",
    };
    int     i;

    memset(env, 0, sizeof(*env));
    memset(rcpt, 0, sizeof(*rcpt) * (size_t)nrcpt);
    for (i = 0; i < nrcpt; i++) {
        rcpt[i].addr = addrs[i];
        if (i % 2 == 0) {
            rcpt[i].notify = "SUCCESS,FAILURE";
            rcpt[i].orcpt = "rfc822;orig+x=y@example.org";
        }
    }
    env->sender = "sender@example.org";
    env->ret = "HDRS";
    env->envid = "queue+id=1";
    env->body = "8BITMIME";
    env->size = (long long)sizeof(message);
    env->rcpt = rcpt;
    env->nrcpt = nrcpt;
    env->xf_name = "client.example";
    env->xf_addr = "192.0.2.1";
    env->xf_port = "4711";
    env->xf_proto = "ESMTP";
    env->xf_helo = "";              /* [UNAVAILABLE] */
    env->xf_ident = "ABC123";
    env->xf_source = "REMOTE";
}

/* run_reinject - pipe mode's hand-over */
static void run_reinject(const SMTP_ENVELOPE *env)
{
    REINJECT_RESULT res;
    const char *p;
    int     fd = fuzz_memfd(message, sizeof(message) - 1);

    reinject_result_init(&res);
    reinject_message(target, env, "X-Test: 1\n", 10, fd, 0, 60, &res);
    if (res.status != 0 && res.status != 69 && res.status != 75)
        fuzz_fail("reinject: status %d", res.status);
    if ((strlen(res.dsn) < 5 || res.dsn[1] != '.'
         || res.dsn[0] != (res.status == 0 ? '2' : res.status == 69 ? '5' : '4'))
        && !fuzz_known("reinject-dsn"))
        fuzz_fail("reinject: status %d with enhanced code \"%s\"", res.status, res.dsn);
    for (p = vbuf_str(res.text); *p; p++)
        if (*p == '\n')
            fuzz_fail("reinject: the reason is more than one line: %s", vbuf_str(res.text));
    reinject_result_free(&res);
    close(fd);
}

/* run_pipelined - smtpcli_send, reinject's way */
static void run_pipelined(SMTPCLI *cli, const SMTP_ENVELOPE *env, int all_or_nothing)
{
    SMTP_RESULT res;
    SMTP_FD_SOURCE src = {"X-Test: 1\n", 10, 0, -1, 0};
    int     i;

    src.fd = fuzz_memfd(message, sizeof(message) - 1);
    smtp_result_init(&res);
    if (smtpcli_send(cli, env, all_or_nothing, smtp_fd_source_read, &src, &res) == 0
        && !res.sent)
        fuzz_fail("smtpcli_send: success without the message sent");
    check_reply(&res.mail, "-MAIL");
    for (i = 0; i < res.nrcpt; i++)
        check_reply(&res.rcpt[i], "-RCPT");
    if (res.naccepted > res.nrcpt)
        fuzz_fail("smtpcli_send: %d of %d recipients accepted", res.naccepted, res.nrcpt);
    check_reply(&res.data, "-DATA");
    (void)smtp_queue_id(&res.data, qid);
    smtp_result_free(&res);
    close(src.fd);
}

/* run_lockstep - one command at a time, smtpd's way */
static void run_lockstep(SMTPCLI *cli, const SMTP_ENVELOPE *env)
{
    SMTP_REPLY r;
    SMTP_FD_SOURCE src = {"X-Test: 1\n", 10, 0, -1, 0};
    int     i, ok = 0;

    smtp_reply_init(&r);
    if (smtpcli_xforward(cli, env, &r) < 0)
        check_reply(&r, "XFORWARD");
    if (smtpcli_mail(cli, env, &r) / 100 == 2) {
        for (i = 0; i < env->nrcpt; i++) {
            ok += smtpcli_rcpt(cli, env->rcpt + i, &r) / 100 == 2;
            check_reply(&r, "RCPT");
        }
        if (ok) {
            src.fd = fuzz_memfd(message, sizeof(message) - 1);
            (void)smtpcli_data(cli, smtp_fd_source_read, &src, &r);
            check_reply(&r, "DATA");
            (void)smtp_queue_id(&r, qid);
            close(src.fd);
        }
    }
    check_reply(&r, "MAIL");
    (void)smtpcli_noop(cli, &r);
    check_reply(&r, "NOOP");
    (void)smtpcli_rset(cli, &r);
    check_reply(&r, "RSET");
    smtp_reply_free(&r);
}

/* LLVMFuzzerTestOneInput - one client session against these bytes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SMTPCLI_OPTS opts = {.helo = "client.example", .timeout = 30};
    SMTP_ENVELOPE env;
    SMTP_RCPT rcpt[4];
    SMTP_REPLY r;
    SMTPCLI *cli;
    VBUF   *one;
    int     o, fd;

    if (size < 1)
        return 0;
    o = data[0];
    envelope(&env, rcpt, OPT_RCPTS(o));
    if (o & OPT_REINJECT) {
        fuzz_listen_script(data + 1, size - 1);
        run_reinject(&env);
        fuzz_peers_reset();
        return 0;
    }
    opts.lmtp = o & OPT_LMTP;
    (void)fuzz_script_pair(data + 1, size - 1, 0, &fd);
    smtp_reply_init(&r);
    if ((cli = smtpcli_open_fd(fd, fd, &opts, &r)) != NULL) {
        (void)smtpcli_has_ext(cli, "PIPELINING");
        (void)smtpcli_ext_param(cli, "SIZE");
        if (o & OPT_PIPELINED)
            run_pipelined(cli, &env, !(o & OPT_PARTIAL));
        else
            run_lockstep(cli, &env);
        smtpcli_quit(cli);
    }
    check_reply(&r, "greeting");
    one = vbuf_alloc(0);
    if (strchr(smtp_reply_one_line(&r, one), '\n') != NULL)
        fuzz_fail("smtp_reply_one_line: a line break");
    vbuf_free(one);
    smtp_reply_free(&r);
    fuzz_peers_reset();
    return 0;
}
