/*
 * quarantine - store a message with its envelope, and find it again
 * (see quarantine.h)
 *
 * Values in the envelope block are xtext (RFC 3461), so an address can hold
 * any byte without breaking the "name: value" lines. The id names the file
 * and is checked to be alphanumeric before it is used as a path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"
#include "reinject/quarantine.h"

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

/* quarantine_hex - value of one hex digit, -1 if none */
static int quarantine_hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* quarantine_xtext_decode - RFC 3461 xtext to a new string */
static char *quarantine_xtext_decode(const char *s)
{
    char *out = mymalloc(strlen(s) + 1), *p = out;

    for (; *s; s++) {
        int hi, lo;

        if (*s == '+' && (hi = quarantine_hex(s[1])) >= 0 && (lo = quarantine_hex(s[2])) >= 0) {
            *p++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *p++ = *s;
        }
    }
    *p = 0;
    return out;
}

/* quarantine_open - parse the envelope block of an entry */
int quarantine_open(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err)
{
    char path[4096];
    VBUF *head = vbuf_alloc(QUARANTINE_HEAD_MAX);
    char buf[8192];
    ssize_t n;
    off_t off = 0;
    char *line, *next, *end;
    int nalloc = 0;

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
    if ((qe->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        vbuf_sprintf(err, "no quarantined message %s: %s", path, strerror(errno));
        goto fail;
    }
    /* Read until the empty line that ends the envelope block. */
    while ((end = strstr(vbuf_str(head), "\n\n")) == NULL) {
        n = pread(qe->fd, buf, sizeof(buf), off);
        if (n <= 0 || vbuf_append(head, buf, (size_t)n) < 0) {
            vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
            goto fail;
        }
        off += n;
    }
    end[1] = 0;
    qe->body_offset = (off_t)(end - vbuf_str(head)) + 2;
    if (strncmp(vbuf_str(head), QUARANTINE_MAGIC "\n", strlen(QUARANTINE_MAGIC) + 1) != 0) {
        vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
        goto fail;
    }
    qe->env.sender = NULL;
    for (line = head->data + strlen(QUARANTINE_MAGIC) + 1; *line; line = next) {
        char *colon, *value;

        next = strchr(line, '\n');
        *next++ = 0;
        if ((colon = strstr(line, ": ")) == NULL)
            continue;
        *colon = 0;
        value = quarantine_xtext_decode(colon + 2);
        if (strcmp(line, "sender") == 0) {
            qe->env.sender = value;
        } else if (strcmp(line, "recipient") == 0) {
            if (qe->env.nrcpt == nalloc) {
                nalloc = nalloc ? nalloc * 2 : 8;
                qe->env.rcpt = myrealloc(qe->env.rcpt, (size_t)nalloc * sizeof(SMTP_RCPT));
            }
            memset(&qe->env.rcpt[qe->env.nrcpt], 0, sizeof(SMTP_RCPT));
            qe->env.rcpt[qe->env.nrcpt++].addr = value;
        } else if (strcmp(line, "orcpt") == 0 && qe->env.nrcpt > 0) {
            qe->env.rcpt[qe->env.nrcpt - 1].orcpt = value;
        } else if (strcmp(line, "notify") == 0 && qe->env.nrcpt > 0) {
            qe->env.rcpt[qe->env.nrcpt - 1].notify = value;
        } else if (strcmp(line, "ret") == 0) {
            qe->env.ret = value;
        } else if (strcmp(line, "envid") == 0) {
            qe->env.envid = value;
        } else if (strcmp(line, "body") == 0) {
            qe->env.body = value;
        } else if (strcmp(line, "smtputf8") == 0) {
            qe->env.smtputf8 = 1;
            myfree(value);
        } else if (strcmp(line, "client_name") == 0) {
            qe->env.xf_name = value;
        } else if (strcmp(line, "client_addr") == 0) {
            qe->env.xf_addr = value;
        } else if (strcmp(line, "helo") == 0) {
            qe->env.xf_helo = value;
        } else if (strcmp(line, "protocol") == 0) {
            qe->env.xf_proto = value;
        } else if (strcmp(line, "verdict") == 0) {
            qe->verdict = value;
        } else if (strcmp(line, "reason") == 0) {
            qe->reason = value;
        } else if (strcmp(line, "queue_id") == 0) {
            qe->queue_id = value;
        } else {
            myfree(value);
        }
    }
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
    myfree(qe->verdict);
    myfree(qe->reason);
    myfree(qe->queue_id);
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
