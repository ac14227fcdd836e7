/*
 * test_policy_sigaddr - signed expiring addresses
 *
 * The secret file's checks (mode, owner, type, size), mint and check:
 * a good address, case, the last second of the grace and the first one
 * after it, a tampered signature, date, user or domain, a date that does
 * not exist, a short signature, unsigned addresses and other extensions,
 * another delimiter, and the answers of a signed_address rule.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/sigaddr.h"
#include "tests/unit/unittest.h"

static char dir[] = "/tmp/test_policy_sigaddr.XXXXXX";

/* key_file - dir/name holding text, with mode; the path (static) */
static const char *key_file(const char *name, const char *text, mode_t mode)
{
    static char path[512];
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        msg_fatal("cannot write %s", path);
    close(fd);
    chmod(path, mode);
    return path;
}

/* test_key - what the secret file must be */
static void test_key(void)
{
    VBUF   *err = vbuf_alloc(1024);
    SIGKEY *key;
    char    link[600];
    const char *path;

    key = sigaddr_key_load(key_file("good", "0123456789abcdef\n", 0600), err);
    UT_CHECK(key != NULL && key->len == 16, "a 16-byte key, newline dropped: %s", vbuf_str(err));
    sigaddr_key_free(key);
    key = sigaddr_key_load(key_file("ro", "0123456789abcdef", 0400), err);
    UT_CHECK(key != NULL, "mode 0400");
    sigaddr_key_free(key);
    key = sigaddr_key_load(key_file("open", "0123456789abcdef", 0644), err);
    UT_CHECK(key == NULL && strstr(vbuf_str(err), "0644") && strstr(vbuf_str(err), "chmod 600"),
             "mode 0644 refused: %s", vbuf_str(err));
    key = sigaddr_key_load(key_file("group", "0123456789abcdef", 0640), err);
    UT_CHECK(key == NULL, "mode 0640 refused");
    key = sigaddr_key_load(key_file("short", "0123456789\n", 0600), err);
    UT_CHECK(key == NULL && strstr(vbuf_str(err), "16 to 4096"), "short key: %s", vbuf_str(err));
    UT_CHECK(sigaddr_key_load("/nonexistent/key", err) == NULL
             && strstr(vbuf_str(err), "cannot open"), "missing key");
    path = key_file("target", "0123456789abcdef", 0600);
    snprintf(link, sizeof(link), "%s/link", dir);
    if (symlink(path, link) == 0)
        UT_CHECK(sigaddr_key_load(link, err) == NULL, "a symbolic link is refused");
    if (geteuid() == 0) {
        path = key_file("theirs", "0123456789abcdef", 0600);
        if (chown(path, 65534, 65534) == 0) {
            key = sigaddr_key_load(path, err);
            UT_CHECK(key == NULL && strstr(vbuf_str(err), "owned by uid 65534"),
                     "another user's key refused: %s", vbuf_str(err));
        }
    }
    vbuf_free(err);
}

/* check - sigaddr_check's result for addr at now */
static int check(const SIGKEY *key, const char *addr, time_t now)
{
    VBUF   *why = vbuf_alloc(256);
    int     status = sigaddr_check(key, addr, now, why);

    vbuf_free(why);
    return status;
}

/* tamper - addr with the character at off replaced by ch */
static const char *tamper(const char *addr, size_t off, char ch)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s", addr);
    buf[off] = ch;
    return buf;
}

/* test_mint_check - mint, then check the edges */
static void test_mint_check(void)
{
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    SIGKEY *key = sigaddr_key_load(key_file("k", "a secret of some length\n", 0600), err);
    time_t  now = 1800000000;           /* 2027-01-15 08:00:00 UTC */
    time_t  end = 1800057600;           /* 2027-01-16 00:00:00 UTC */
    char    addr[256], *plus;

    UT_CHECK(key != NULL, "key: %s", vbuf_str(err));
    if (key == NULL)
        return;
    UT_CHECK(sigaddr_mint(key, "Alice@Example.ORG", 0, now, out, err) == 0, "mint");
    snprintf(addr, sizeof(addr), "%s", vbuf_str(out));
    UT_CHECK(strncmp(addr, "alice+20270115.", 15) == 0 && strlen(addr) == 15 + 8 + 12,
             "minted form user+YYYYMMDD.SIG@domain: %s", addr);
    UT_EQ_INT(check(key, addr, now), SIGADDR_VALID, "valid");
    UT_EQ_INT(check(key, tamper(addr, 0, 'A'), now), SIGADDR_VALID, "case does not matter");
    UT_EQ_INT(check(key, addr, end + 86400 - 1), SIGADDR_VALID, "last second of the grace day");
    UT_EQ_INT(check(key, addr, end + 86400), SIGADDR_EXPIRED, "first second after the grace");
    UT_EQ_INT(check(key, addr, end + 86400 * 30), SIGADDR_EXPIRED, "a month later");
    UT_EQ_INT(check(key, tamper(addr, 16, addr[16] == 'a' ? 'b' : 'a'), now), SIGADDR_BAD,
              "tampered signature");
    UT_EQ_INT(check(key, tamper(addr, 13, '6'), now), SIGADDR_BAD, "tampered date");
    UT_EQ_INT(check(key, tamper(addr, 1, 'x'), now), SIGADDR_BAD, "another user");
    UT_EQ_INT(check(key, tamper(addr, strlen(addr) - 1, 'x'), now), SIGADDR_BAD, "another domain");
    UT_EQ_INT(check(key, tamper(addr, 22, '@'), now), SIGADDR_BAD, "signature one short");
    UT_EQ_INT(check(key, "alice+20270231.abcdefgh@example.org", now), SIGADDR_BAD, "no such date");
    UT_EQ_INT(check(key, "alice@example.org", now), SIGADDR_UNSIGNED, "no extension");
    UT_EQ_INT(check(key, "alice+lists@example.org", now), SIGADDR_UNSIGNED, "other extension");
    UT_EQ_INT(check(key, "alice+2027011.x@example.org", now), SIGADDR_UNSIGNED, "7 digits");
    UT_EQ_INT(check(key, "", now), SIGADDR_UNSIGNED, "empty");

    /* grace 0: the day ends at midnight UTC */
    ut_set("policy_signature_grace=0");
    UT_EQ_INT(check(key, addr, end - 1), SIGADDR_VALID, "grace 0: last second of the day");
    UT_EQ_INT(check(key, addr, end), SIGADDR_EXPIRED, "grace 0: midnight");
    ut_set("policy_signature_grace=1d");

    /* another delimiter; a longer signature */
    ut_set("policy_recipient_delimiter=-+");
    UT_EQ_INT(check(key, addr, now), SIGADDR_VALID, "+ still accepted with -+");
    plus = strchr(addr, '+');
    *plus = '-';
    UT_EQ_INT(check(key, addr, now), SIGADDR_VALID, "- accepted with -+");
    UT_CHECK(sigaddr_mint(key, "bob@example.org", 30, now, out, err) == 0
             && strncmp(vbuf_str(out), "bob-20270214.", 13) == 0, "mint uses the first: %s",
             vbuf_str(out));
    ut_set("policy_recipient_delimiter=+");
    ut_set("policy_signature_length=12");
    UT_EQ_INT(check(key, tamper(addr, 5, '+'), now), SIGADDR_BAD, "8 characters when 12 are due");
    ut_set("policy_signature_length=8");

    UT_CHECK(sigaddr_mint(key, "alice+x@example.org", 1, now, out, err) < 0, "already extended");
    UT_CHECK(sigaddr_mint(key, "alice", 1, now, out, err) < 0, "no domain");
    UT_CHECK(sigaddr_mint(key, "a@b", 5000, now, out, err) < 0, "too many days");
    sigaddr_key_free(key);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_rule - the answers of signed_address rules */
static void test_rule(void)
{
    char    set[600];
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(256);
    ENGINE *eng;
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;
    SIGKEY *key;
    time_t  now = time(NULL);
    const char *path = key_file("rulekey", "another secret, long enough", 0600);

    snprintf(set, sizeof(set), "policy_secret_file=%s", path);
    ut_set(set);
    key = sigaddr_key_load(path, err);
    snprintf(set, sizeof(set), "%s/sig.rules", dir);
    {
        FILE   *fp = fopen(set, "w");

        fputs("strict: recipient~/^alice[+@]/ => signed_address\n"
              "loose: recipient~/^bob[+@]/ => signed_address optional\n"
              "rest: => OK\n", fp);
        fclose(fp);
    }
    {
        char    s2[700];

        snprintf(s2, sizeof(s2), "policy_rules=%s", set);
        ut_set(s2);
    }
    eng = engine_load(err);
    UT_CHECK(eng != NULL && key != NULL, "signed rules load: %s", vbuf_str(err));
    if (eng == NULL || key == NULL)
        return;
    request_init(req);
    engine_decision_init(&d);
#define DECIDE(rcpt, t, want) do { request_reset(req); \
        request_add(req, "request", "smtpd_access_policy"); request_add(req, "recipient", (rcpt)); \
        engine_decide(eng, req, (t), &d); UT_EQ_STR(vbuf_str(d.action), (want), (rcpt)); } while (0)
    sigaddr_mint(key, "alice@example.org", 2, now, out, err);
    DECIDE(vbuf_str(out), now, "OK");
    DECIDE(vbuf_str(out), now + 5 * 86400, "REJECT 5.1.1 address expired");
    DECIDE(tamper(vbuf_str(out), 16, vbuf_str(out)[16] == 'z' ? 'y' : 'z'), now,
           "REJECT 5.1.1 address signature is not valid");
    DECIDE("alice@example.org", now, "REJECT 5.1.1 address needs a valid signature");
    DECIDE("bob@example.org", now, "OK");
    sigaddr_mint(key, "bob@example.org", 0, now - 10 * 86400, out, err);
    DECIDE(vbuf_str(out), now, "REJECT 5.1.1 address expired");
    engine_decision_free(&d);
    request_reset(req);
    myfree(req);
    engine_free(eng);
    sigaddr_key_free(key);
    vbuf_free(err);
    vbuf_free(out);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_policy_sigaddr");
    msg_init("test_policy_sigaddr", 0);
    config_init();
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_key();
    test_mint_check();
    test_rule();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        msg_warn("cannot remove %s", dir);
    return ut_done();
}
