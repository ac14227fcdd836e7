/*
 * sigaddr - signed, expiring addresses (sigaddr.h)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "policy/sigaddr.h"

#define SIGADDR_MAX_SIG 52              /* 256 bits in base32 */

const char *const sigaddr_names[] = {"valid", "unsigned", "expired", "bad"};

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";

 /*
  * An address taken apart: base (user), extension (after the delimiter),
  * domain, all pointing into a copy.
  */
typedef struct SIGADDR_PARTS {
    char   *copy;
    const char *base;
    const char *ext;                    /* NULL: no delimiter */
    const char *domain;                 /* "" when there is no '@' */
} SIGADDR_PARTS;

/* sigaddr_key_check - the key file's metadata; -1 with why in err */
static int sigaddr_key_check(const char *path, const struct stat *st, VBUF *err)
{
    if (!S_ISREG(st->st_mode)) {
        vbuf_sprintf(err, "policy_secret_file %s is not a regular file", path);
        return -1;
    }
    if (st->st_uid != geteuid()) {
        vbuf_sprintf(err, "policy_secret_file %s is owned by uid %ld, not by the user "
                     "postsift-policy runs as (uid %ld): chown it", path,
                     (long)st->st_uid, (long)geteuid());
        return -1;
    }
    if (st->st_mode & 077) {
        vbuf_sprintf(err, "policy_secret_file %s has mode %04o: others may read it; "
                     "chmod 600 it and make a new secret", path, (unsigned)(st->st_mode & 07777));
        return -1;
    }
    if (st->st_size < SIGADDR_MIN_KEY || st->st_size > SIGADDR_MAX_KEY + 2) {
        vbuf_sprintf(err, "policy_secret_file %s: the secret must have %d to %d bytes",
                     path, SIGADDR_MIN_KEY, SIGADDR_MAX_KEY);
        return -1;
    }
    return 0;
}

/* sigaddr_key_load - see sigaddr.h */
SIGKEY *sigaddr_key_load(const char *path, VBUF *err)
{
    struct stat st;
    SIGKEY *key;
    ssize_t n;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
        vbuf_sprintf(err, "cannot open policy_secret_file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || sigaddr_key_check(path, &st, err) < 0) {
        if (vbuf_len(err) == 0)
            vbuf_sprintf(err, "cannot stat policy_secret_file %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    key = mycalloc(1, sizeof(*key));
    key->data = mymalloc((size_t)st.st_size + 1);
    n = read(fd, key->data, (size_t)st.st_size + 1);
    close(fd);
    while (n > 0 && (key->data[n - 1] == '\n' || key->data[n - 1] == '\r'))
        n--;
    if (n < SIGADDR_MIN_KEY || n > SIGADDR_MAX_KEY) {
        vbuf_sprintf(err, "policy_secret_file %s: the secret must have %d to %d bytes",
                     path, SIGADDR_MIN_KEY, SIGADDR_MAX_KEY);
        sigaddr_key_free(key);
        return NULL;
    }
    key->len = (size_t)n;
    return key;
}

/* sigaddr_key_free - wipe and release */
void    sigaddr_key_free(SIGKEY *key)
{
    if (key == NULL)
        return;
    OPENSSL_cleanse(key->data, key->len);
    myfree(key->data);
    myfree(key);
}

/* sigaddr_split - address into parts; the first delimiter character of
 * policy_recipient_delimiter found in the local part starts the extension */
static void sigaddr_split(SIGADDR_PARTS *p, const char *addr)
{
    char   *at, *cp;
    const char *delims = var_policy_recipient_delimiter ? var_policy_recipient_delimiter : "";

    p->copy = mystrdup(addr);
    for (cp = p->copy; *cp; cp++)
        *cp = (char)tolower((unsigned char)*cp);
    if ((at = strrchr(p->copy, '@')) != NULL) {
        *at = 0;
        p->domain = at + 1;
    } else {
        p->domain = "";
    }
    p->base = p->copy;
    p->ext = NULL;
    if (*delims && (cp = strpbrk(p->copy, delims)) != NULL) {
        *cp = 0;
        p->ext = cp + 1;
    }
}

/* sigaddr_sign - the base32 signature of base|date|domain, len chars */
static void sigaddr_sign(const SIGKEY *key, const char *base, const char *date,
                         const char *domain, char *out, size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    VBUF   *msg = vbuf_alloc(65536);
    size_t  i, bit;

    vbuf_sprintf(msg, "%s|%s|%s", base, date, domain);
    if (HMAC(EVP_sha256(), key->data, (int)key->len, (const unsigned char *)vbuf_str(msg),
             vbuf_len(msg), mac, &maclen) == NULL)
        msg_fatal("HMAC-SHA256 failed");
    for (i = 0; i < len && (i + 1) * 5 <= maclen * 8; i++) {
        unsigned v = 0;

        for (bit = i * 5; bit < i * 5 + 5; bit++)
            v = (v << 1) | ((mac[bit / 8] >> (7 - bit % 8)) & 1);
        out[i] = base32[v];
    }
    out[i] = 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    vbuf_free(msg);
}

/* sigaddr_day - "YYYYMMDD" of a time (UTC) */
static void sigaddr_day(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y%m%d", &tm);
}

/* sigaddr_day_end - the first second after the day YYYYMMDD (UTC), or
 * -1 when it is not a date */
static time_t sigaddr_day_end(const char *date)
{
    struct tm tm;
    time_t  t;
    char    again[16];

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10
        + (date[3] - '0') - 1900;
    tm.tm_mon = (date[4] - '0') * 10 + (date[5] - '0') - 1;
    tm.tm_mday = (date[6] - '0') * 10 + (date[7] - '0');
    if ((t = timegm(&tm)) == (time_t)-1)
        return -1;
    sigaddr_day(t, again, sizeof(again));
    if (strncmp(again, date, 8) != 0)   /* 20270231 */
        return -1;
    return t + 86400;
}

/* sigaddr_is_signed - ext has the form YYYYMMDD.something */
static int sigaddr_is_signed(const char *ext)
{
    int     i;

    if (ext == NULL)
        return 0;
    for (i = 0; i < 8; i++)
        if (!isdigit((unsigned char)ext[i]))
            return 0;
    return ext[8] == '.';
}

/* sigaddr_mint - see sigaddr.h */
int     sigaddr_mint(const SIGKEY *key, const char *addr, long days, time_t now,
                     VBUF *out, VBUF *err)
{
    SIGADDR_PARTS p;
    char    date[16], sig[SIGADDR_MAX_SIG + 1];
    const char *delims = var_policy_recipient_delimiter;

    if (days < 0 || days > SIGADDR_MAX_DAYS) {
        vbuf_sprintf(err, "days must be 0 to %d", SIGADDR_MAX_DAYS);
        return -1;
    }
    if (delims == NULL || *delims == 0) {
        vbuf_sprintf(err, "policy_recipient_delimiter is empty");
        return -1;
    }
    sigaddr_split(&p, addr);
    if (*p.domain == 0 || *p.base == 0 || p.ext != NULL) {
        vbuf_sprintf(err, "%s", p.ext ? "the address already has an extension"
                     : "need user@domain");
        myfree(p.copy);
        return -1;
    }
    sigaddr_day(now + days * 86400, date, sizeof(date));
    sigaddr_sign(key, p.base, date, p.domain, sig, (size_t)var_policy_signature_length);
    vbuf_sprintf(out, "%s%c%s.%s@%s", p.base, delims[0], date, sig, p.domain);
    myfree(p.copy);
    return 0;
}

/* sigaddr_verdict - a signed extension checked */
static int sigaddr_verdict(const SIGKEY *key, const SIGADDR_PARTS *p, time_t now, VBUF *why)
{
    char    date[9], want[SIGADDR_MAX_SIG + 1];
    const char *sig = p->ext + 9;
    size_t  len = (size_t)var_policy_signature_length;
    time_t  end;

    memcpy(date, p->ext, 8);
    date[8] = 0;
    if ((end = sigaddr_day_end(date)) < 0) {
        vbuf_sprintf(why, "no such date %s", date);
        return SIGADDR_BAD;
    }
    sigaddr_sign(key, p->base, date, p->domain, want, len);
    if (strlen(sig) != len || CRYPTO_memcmp(sig, want, len) != 0) {
        vbuf_sprintf(why, "signature does not match");
        return SIGADDR_BAD;
    }
    if (now >= end + var_policy_signature_grace) {
        vbuf_sprintf(why, "expired on %s", date);
        return SIGADDR_EXPIRED;
    }
    vbuf_sprintf(why, "signed until %s", date);
    return SIGADDR_VALID;
}

/* sigaddr_check - see sigaddr.h */
int     sigaddr_check(const SIGKEY *key, const char *addr, time_t now, VBUF *why)
{
    SIGADDR_PARTS p;
    int     status;

    vbuf_reset(why);
    sigaddr_split(&p, addr ? addr : "");
    if (!sigaddr_is_signed(p.ext)) {
        vbuf_sprintf(why, "not signed");
        status = SIGADDR_UNSIGNED;
    } else {
        status = sigaddr_verdict(key, &p, now, why);
    }
    myfree(p.copy);
    return status;
}
