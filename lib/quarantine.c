/*
 * quarantine - store a message with its envelope, and find it again
 * (see quarantine.h)
 *
 * Values in the envelope block are xtext (RFC 3461), so an address can hold
 * any byte without breaking the "name: value" lines. The id names the file
 * and is checked to be alphanumeric before it is used as a path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/quarantine.h"
#include "lib/spool.h"
#include "lib/xtext.h"

#define QUARANTINE_MAGIC     "postsift-quarantine 1"
#define QUARANTINE_HEAD_MAX  (1024 * 1024)

/* quarantine_id_ok - only names we could have made */
static int quarantine_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n < 8 || n > 64)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9')))
            return 0;
    return 1;
}

/* quarantine_put - one "name: xtext" line */
static void quarantine_put(VBUF *out, const char *name, const char *value)
{
    if (value == NULL)
        return;
    vbuf_sprintf_append(out, "%s: ", name);
    xtext_encode(out, value);
    (void)vbuf_addch(out, '\n');
}

/* quarantine_store - write the envelope block and the message */
int quarantine_store(const char *dir, const SMTP_ENVELOPE *env, int fd,
                     const char *verdict, const char *reason,
                     const char *queue_id, VBUF *id, VBUF *err)
{
    VBUF *head;
    char name[17], path[4096], tmp[4096], stamp[32];
    int out = -1, i;
    time_t now = time(NULL);

    if (spool_dir_check(dir, err) < 0)
        return -1;
    spool_random_name(name, sizeof(name));
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)
        || snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp)) {
        vbuf_sprintf(err, "quarantine directory name too long: %s", dir);
        return -1;
    }
    head = vbuf_alloc(QUARANTINE_HEAD_MAX);
    vbuf_sprintf(head, "%s\n", QUARANTINE_MAGIC);
    quarantine_put(head, "sender", env->sender);
    for (i = 0; i < env->nrcpt; i++) {
        quarantine_put(head, "recipient", env->rcpt[i].addr);
        if (env->rcpt[i].orcpt)
            quarantine_put(head, "orcpt", env->rcpt[i].orcpt);
        if (env->rcpt[i].notify)
            quarantine_put(head, "notify", env->rcpt[i].notify);
    }
    quarantine_put(head, "ret", env->ret);
    quarantine_put(head, "envid", env->envid);
    quarantine_put(head, "body", env->body);
    if (env->smtputf8)
        quarantine_put(head, "smtputf8", "yes");
    quarantine_put(head, "client_name", env->xf_name);
    quarantine_put(head, "client_addr", env->xf_addr);
    quarantine_put(head, "helo", env->xf_helo);
    quarantine_put(head, "protocol", env->xf_proto);
    quarantine_put(head, "verdict", verdict);
    quarantine_put(head, "reason", reason);
    quarantine_put(head, "queue_id", queue_id);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    quarantine_put(head, "time", stamp);
    (void)vbuf_addch(head, '\n');
    if (vbuf_overflowed(head)) {
        vbuf_sprintf(err, "quarantine envelope too large");
        vbuf_free(head);
        return -1;
    }
    /* Write under a temporary name, then rename: a listed entry is whole. */
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0
        || spool_write_all(out, vbuf_str(head), vbuf_len(head)) < 0
        || spool_copy_fd(fd, out) < 0
        || fsync(out) < 0
        || close(out) < 0
        || rename(tmp, path) < 0) {
        vbuf_sprintf(err, "cannot write quarantine file %s: %s", path, strerror(errno));
        if (out >= 0)
            (void)close(out);
        (void)unlink(tmp);
        vbuf_free(head);
        return -1;
    }
    vbuf_free(head);
    vbuf_strcpy(id, name);
    return 0;
}

/* quarantine_single - where a key that appears once at most goes; NULL
 * for the others */
static const char **quarantine_single(QUARANTINE_ENTRY *qe, const char *key)
{
    static const struct {
        const char *key;
        size_t  offset;
    } keys[] = {
        {"sender", offsetof(QUARANTINE_ENTRY, env.sender)},
        {"ret", offsetof(QUARANTINE_ENTRY, env.ret)},
        {"envid", offsetof(QUARANTINE_ENTRY, env.envid)},
        {"body", offsetof(QUARANTINE_ENTRY, env.body)},
        {"client_name", offsetof(QUARANTINE_ENTRY, env.xf_name)},
        {"client_addr", offsetof(QUARANTINE_ENTRY, env.xf_addr)},
        {"helo", offsetof(QUARANTINE_ENTRY, env.xf_helo)},
        {"protocol", offsetof(QUARANTINE_ENTRY, env.xf_proto)},
        {"verdict", offsetof(QUARANTINE_ENTRY, verdict)},
        {"reason", offsetof(QUARANTINE_ENTRY, reason)},
        {"queue_id", offsetof(QUARANTINE_ENTRY, queue_id)},
    };
    size_t  i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i].key) == 0)
            return (const char **)((char *)qe + keys[i].offset);
    return NULL;
}

/* quarantine_parse_lines - the "name: xtext" lines of an envelope block
 * (text is changed), dec for decoding; 0, or -1 with why in err */
static int quarantine_parse_lines(QUARANTINE_ENTRY *qe, char *text, const char *path, VBUF *dec,
                                  VBUF *err)
{
    const char **slot;
    char   *line, *next, *colon, *value;
    int     nalloc = 0, seen_utf8 = 0, seen_time = 0;

    for (line = text; *line; line = next) {
        next = strchr(line, '\n');
        *next++ = 0;
        if ((colon = strstr(line, ": ")) == NULL)
            continue;
        *colon = 0;
        if (xtext_decode(dec, colon + 2, XTEXT_LENIENT) < 0) {
            vbuf_sprintf(err, "%s: \"%s\" is too long", path, line);
            return -1;
        }
        value = mystrdup(vbuf_str(dec));
        if ((slot = quarantine_single(qe, line)) != NULL) {
            if (*slot != NULL)
                goto repeated;
            *slot = value;
        } else if (strcmp(line, "recipient") == 0) {
            if (qe->env.nrcpt == nalloc) {
                nalloc = nalloc ? nalloc * 2 : 8;
                qe->env.rcpt = myrealloc(qe->env.rcpt, (size_t)nalloc * sizeof(SMTP_RCPT));
            }
            memset(&qe->env.rcpt[qe->env.nrcpt], 0, sizeof(SMTP_RCPT));
            qe->env.rcpt[qe->env.nrcpt++].addr = value;
        } else if (strcmp(line, "orcpt") == 0 || strcmp(line, "notify") == 0) {
            /* these belong to the recipient line above them, once each */
            if (qe->env.nrcpt == 0) {
                vbuf_sprintf(err, "%s: \"%s\" before any recipient", path, line);
                myfree(value);
                return -1;
            }
            slot = line[0] == 'o' ? &qe->env.rcpt[qe->env.nrcpt - 1].orcpt
                : &qe->env.rcpt[qe->env.nrcpt - 1].notify;
            if (*slot != NULL)
                goto repeated;
            *slot = value;
        } else if (strcmp(line, "smtputf8") == 0 || strcmp(line, "time") == 0) {
            int    *seen = line[0] == 's' ? &seen_utf8 : &seen_time;

            if ((*seen)++)
                goto repeated;
            myfree(value);
            if (line[0] == 's')
                qe->env.smtputf8 = 1;
        } else {
            /* a key from a later version: not ours to judge */
            myfree(value);
        }
    }
    return 0;

repeated:
    /* We write each key once; a second one is damage or tampering, and
     * picking either value could send the message somewhere else. */
    vbuf_sprintf(err, "%s: \"%s\" appears more than once in the envelope", path, line);
    myfree(value);
    return -1;
}

/* quarantine_parse - the envelope block of an entry (text is changed);
 * 0, or -1 with why in err */
static int quarantine_parse(QUARANTINE_ENTRY *qe, char *text, const char *path, VBUF *err)
{
    VBUF   *dec = vbuf_alloc(QUARANTINE_HEAD_MAX);
    int     rc = quarantine_parse_lines(qe, text, path, dec, err);

    vbuf_free(dec);
    return rc;
}

/* quarantine_open - parse the envelope block of an entry */
int quarantine_open(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err)
{
    char path[4096];
    VBUF *head = vbuf_alloc(QUARANTINE_HEAD_MAX);
    char buf[8192];
    struct stat st;
    ssize_t n;
    off_t off = 0;
    char *end;

    memset(qe, 0, sizeof(*qe));
    qe->fd = -1;
    if (!quarantine_id_ok(id)) {
        vbuf_sprintf(err, "invalid quarantine id \"%.64s\"", id);
        goto fail;
    }
    if (snprintf(path, sizeof(path), "%s/%s", dir, id) >= (int)sizeof(path)) {
        vbuf_sprintf(err, "quarantine directory name too long: %s", dir);
        goto fail;
    }
    /* O_NONBLOCK: opening a FIFO someone put there must not hang us */
    if ((qe->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        vbuf_sprintf(err, "no quarantined message %s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(qe->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        vbuf_sprintf(err, "%s: not a regular file", path);
        goto fail;
    }
    if (fcntl(qe->fd, F_SETFL, fcntl(qe->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        vbuf_sprintf(err, "%s: %s", path, strerror(errno));
        goto fail;
    }
    /* Read until the empty line that ends the envelope block, which is
     * text: a NUL in it is damage (the message after it may hold any byte). */
    while ((end = memmem(head->data, vbuf_len(head), "\n\n", 2)) == NULL) {
        n = pread(qe->fd, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || vbuf_append(head, buf, (size_t)n) < 0) {
            vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
            goto fail;
        }
        off += n;
    }
    if (memchr(head->data, 0, (size_t)(end - head->data)) != NULL) {
        vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
        goto fail;
    }
    end[1] = 0;
    qe->body_offset = (off_t)(end - vbuf_str(head)) + 2;
    if (strncmp(vbuf_str(head), QUARANTINE_MAGIC "\n", strlen(QUARANTINE_MAGIC) + 1) != 0) {
        vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
        goto fail;
    }
    if (quarantine_parse(qe, head->data + strlen(QUARANTINE_MAGIC) + 1, path, err) < 0)
        goto fail;
    if (qe->env.sender == NULL || qe->env.nrcpt == 0) {
        vbuf_sprintf(err, "%s: no sender or no recipients in the envelope", path);
        goto fail;
    }
    vbuf_free(head);
    return 0;

fail:
    vbuf_free(head);
    quarantine_close(qe);
    return -1;
}

/* quarantine_close - release an entry */
void quarantine_close(QUARANTINE_ENTRY *qe)
{
    int i;

    for (i = 0; i < qe->env.nrcpt; i++) {
        myfree_const(qe->env.rcpt[i].addr);
        myfree_const(qe->env.rcpt[i].orcpt);
        myfree_const(qe->env.rcpt[i].notify);
    }
    myfree(qe->env.rcpt);
    myfree_const(qe->env.sender);
    myfree_const(qe->env.ret);
    myfree_const(qe->env.envid);
    myfree_const(qe->env.body);
    myfree_const(qe->env.xf_name);
    myfree_const(qe->env.xf_addr);
    myfree_const(qe->env.xf_helo);
    myfree_const(qe->env.xf_proto);
    myfree_const(qe->verdict);
    myfree_const(qe->reason);
    myfree_const(qe->queue_id);
    if (qe->fd >= 0)
        (void)close(qe->fd);
    memset(qe, 0, sizeof(*qe));
    qe->fd = -1;
}

/* quarantine_remove - delete a released entry */
int quarantine_remove(const char *dir, const char *id, VBUF *err)
{
    char path[4096];

    if (!quarantine_id_ok(id)) {
        vbuf_sprintf(err, "invalid quarantine id \"%.64s\"", id);
        return -1;
    }
    if (snprintf(path, sizeof(path), "%s/%s", dir, id) >= (int)sizeof(path) || unlink(path) < 0) {
        vbuf_sprintf(err, "cannot remove %s/%s: %s", dir, id, strerror(errno));
        return -1;
    }
    return 0;
}

/* quarantine_show - s for a listing line: backslash and control bytes
 * escaped (\\, \xHH), UTF-8 left alone, bounded */
static void quarantine_show(VBUF *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') {
            (void)vbuf_strcat(out, "\\\\");
        } else if (*p < 0x20 || *p == 0x7f) {
            char    esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};

            (void)vbuf_append(out, esc, sizeof(esc));
        } else {
            (void)vbuf_addch(out, *p);
        }
    }
}

/* quarantine_list - one line per entry */
int quarantine_list(const char *dir, FILE *fp, VBUF *err)
{
    DIR    *dp;
    struct dirent *de;
    QUARANTINE_ENTRY qe;
    VBUF   *line = vbuf_alloc(QUARANTINE_HEAD_MAX * 2);
    VBUF   *why = vbuf_alloc(4096);
    int     i, count = 0;

    if ((dp = opendir(dir)) == NULL) {
        vbuf_sprintf(err, "cannot open %s: %s", dir, strerror(errno));
        vbuf_free(line);
        vbuf_free(why);
        return -1;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;                       /* ., .. and entries being written */
        if (quarantine_open(dir, de->d_name, &qe, why) < 0) {
            msg_warn("%s; skipped", vbuf_str(why));
            continue;
        }
        vbuf_reset(line);
        quarantine_show(line, de->d_name);
        (void)vbuf_strcat(line, " from=<");
        quarantine_show(line, qe.env.sender);
        (void)vbuf_strcat(line, "> to=");
        for (i = 0; i < qe.env.nrcpt; i++) {
            (void)vbuf_strcat(line, i ? ",<" : "<");
            quarantine_show(line, qe.env.rcpt[i].addr);
            (void)vbuf_addch(line, '>');
        }
        (void)vbuf_strcat(line, " verdict=");
        quarantine_show(line, qe.verdict ? qe.verdict : "-");
        (void)vbuf_strcat(line, " reason=");
        (void)vbuf_quote_append(line, qe.reason ? qe.reason : "");
        if (vbuf_overflowed(line))
            (void)vbuf_strcat(line, "...");
        fprintf(fp, "%s\n", vbuf_str(line));
        quarantine_close(&qe);
        count++;
    }
    closedir(dp);
    vbuf_free(line);
    vbuf_free(why);
    return count;
}

/* quarantine_header_text - one line of printable text, bounded */
static void quarantine_header_text(VBUF *out, const char *s, size_t max)
{
    size_t  n;

    for (n = 0; *s && n < max; s++, n++)
        (void)vbuf_addch(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
    if (*s)
        (void)vbuf_strcat(out, "...");
}

/* quarantine_release_header - X-Postsift-Released, one line */
void quarantine_release_header(VBUF *out, const char *id, const QUARANTINE_ENTRY *qe)
{
    (void)vbuf_strcat(out, "X-Postsift-Released: ");
    quarantine_header_text(out, id, 64);
    (void)vbuf_strcat(out, " from quarantine (");
    quarantine_header_text(out, qe->verdict ? qe->verdict : "unknown", 64);
    if (qe->reason) {
        (void)vbuf_strcat(out, ": ");
        quarantine_header_text(out, qe->reason, 200);
    }
    (void)vbuf_strcat(out, ")\n");
}
