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
#include <sys/file.h>
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

/* quarantine_write_error - why a store failed, in words an administrator
 * acts on */
static void quarantine_write_error(VBUF *err, const char *path, int why)
{
    if (why == ENOSPC || why == EDQUOT)
        vbuf_sprintf(err, "cannot write quarantine file %s: %s (the file system of "
                     "quarantine_dir is full; free space or run postsift-reinject --expire)",
                     path, strerror(why));
    else
        vbuf_sprintf(err, "cannot write quarantine file %s: %s", path, strerror(why));
}

/* quarantine_sync_dir - fsync a directory */
int quarantine_sync_dir(const char *dir, VBUF *err)
{
    int     fd, rc = 0;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
        vbuf_sprintf(err, "cannot sync quarantine directory %s: %s", dir, strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        (void)close(fd);
    return rc;
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
    /* Write under a temporary name, then rename: a listed entry is whole.
     * Both the file and the directory are on disk before we return, so
     * that the caller may acknowledge the message. */
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0
        || spool_write_all(out, vbuf_str(head), vbuf_len(head)) < 0
        || spool_copy_fd(fd, out) < 0
        || fsync(out) < 0
        || close(out) < 0
        || (out = -1, rename(tmp, path) < 0)) {
        quarantine_write_error(err, path, errno);
        if (out >= 0)
            (void)close(out);
        (void)unlink(tmp);
        vbuf_free(head);
        return -1;
    }
    vbuf_free(head);
    if (quarantine_sync_dir(dir, err) < 0) {
        (void)unlink(path);
        return -1;
    }
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

/* quarantine_path - dir/id, or dir/id.releasing, in path; -1 with why */
static int quarantine_path(char *path, size_t len, const char *dir, const char *id,
                           int releasing, VBUF *err)
{
    if (!quarantine_id_ok(id)) {
        vbuf_sprintf(err, "invalid quarantine id \"%.64s\"", id);
        return -1;
    }
    if (snprintf(path, len, "%s/%s%s", dir, id, releasing ? QUARANTINE_RELEASING : "")
        >= (int)len) {
        vbuf_sprintf(err, "quarantine directory name too long: %s", dir);
        return -1;
    }
    return 0;
}

/* quarantine_head - read the envelope block of qe->fd into head; 0, or -1 */
static int quarantine_head(QUARANTINE_ENTRY *qe, VBUF *head)
{
    char    buf[8192], *end;
    ssize_t n;
    off_t   off = 0;

    /* Read until the empty line that ends the envelope block, which is
     * text: a NUL in it is damage (the message after it may hold any byte). */
    while ((end = memmem(head->data, vbuf_len(head), "\n\n", 2)) == NULL) {
        n = pread(qe->fd, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || vbuf_append(head, buf, (size_t)n) < 0)
            return -1;
        off += n;
    }
    if (memchr(head->data, 0, (size_t)(end - head->data)) != NULL)
        return -1;
    end[1] = 0;
    qe->body_offset = (off_t)(end - vbuf_str(head)) + 2;
    return strncmp(vbuf_str(head), QUARANTINE_MAGIC "\n", strlen(QUARANTINE_MAGIC) + 1) == 0 ? 0 : -1;
}

/* quarantine_read - open and parse the entry at path; -1 with why in err,
 * and errno ENOENT when there is no such file */
static int quarantine_read(const char *path, QUARANTINE_ENTRY *qe, VBUF *err)
{
    VBUF   *head = vbuf_alloc(QUARANTINE_HEAD_MAX);
    struct stat st;
    int     saved = 0;

    memset(qe, 0, sizeof(*qe));
    /* O_NONBLOCK: opening a FIFO someone put there must not hang us */
    if ((qe->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        saved = errno;
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
    if (quarantine_head(qe, head) < 0) {
        vbuf_sprintf(err, "%s: not a postsift quarantine file", path);
        goto fail;
    }
    if (quarantine_parse(qe, head->data + strlen(QUARANTINE_MAGIC) + 1, path, err) < 0)
        goto fail;
    if (qe->env.sender == NULL || qe->env.nrcpt == 0) {
        vbuf_sprintf(err, "%s: no sender or no recipients in the envelope", path);
        goto fail;
    }
    qe->mtime = st.st_mtime;
    qe->ctime = st.st_ctime;
    qe->size = st.st_size - qe->body_offset;
    vbuf_free(head);
    return 0;

fail:
    vbuf_free(head);
    quarantine_close(qe);
    errno = saved;
    return -1;
}

/* quarantine_open - parse the envelope block of an entry */
int quarantine_open(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err)
{
    char    path[4096];

    memset(qe, 0, sizeof(*qe));
    qe->fd = -1;
    if (quarantine_path(path, sizeof(path), dir, id, 0, err) < 0)
        return -1;
    return quarantine_read(path, qe, err);
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
    char    path[4096];

    if (quarantine_path(path, sizeof(path), dir, id, 0, err) < 0)
        return -1;
    if (unlink(path) < 0) {
        vbuf_sprintf(err, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return quarantine_sync_dir(dir, err);
}

/* quarantine_show - s for a listing line: backslash and control bytes
 * escaped (\\, \xHH), UTF-8 left alone, bounded */
static void quarantine_escape(VBUF *out, const char *s)
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

/* quarantine_iso_time - t as ISO 8601 local time with its offset */
static void quarantine_iso_time(VBUF *out, time_t t)
{
    struct tm tm;
    char    buf[64];
    size_t  n;

    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
    if (n > 2) {
        /* +0100 -> +01:00 */
        (void)vbuf_append(out, buf, n - 2);
        (void)vbuf_addch(out, ':');
        (void)vbuf_strcat(out, buf + n - 2);
    }
}

/* QUARANTINE_LIST_RCPT - recipients a listing line names before it shortens */
#define QUARANTINE_LIST_RCPT 3

/* quarantine_rcpt_list - the recipients for a listing line */
static void quarantine_rcpt_list(VBUF *line, const QUARANTINE_ENTRY *qe)
{
    VBUF   *text;
    int     i;

    if (qe->env.nrcpt <= QUARANTINE_LIST_RCPT) {
        for (i = 0; i < qe->env.nrcpt; i++) {
            (void)vbuf_strcat(line, i ? ",<" : "<");
            quarantine_escape(line, qe->env.rcpt[i].addr);
            (void)vbuf_addch(line, '>');
        }
        return;
    }
    text = vbuf_alloc(QUARANTINE_HEAD_MAX);
    vbuf_sprintf(text, "%d recipients: ", qe->env.nrcpt);
    for (i = 0; i < QUARANTINE_LIST_RCPT; i++)
        vbuf_sprintf_append(text, "<%s>, ", qe->env.rcpt[i].addr);
    (void)vbuf_strcat(text, "...");
    (void)vbuf_quote_append(line, vbuf_str(text));
    vbuf_free(text);
}

/* quarantine_line - the listing line of an entry */
void quarantine_line(VBUF *line, const char *id, const QUARANTINE_ENTRY *qe)
{
    quarantine_escape(line, id);
    (void)vbuf_strcat(line, " from=<");
    quarantine_escape(line, qe->env.sender);
    (void)vbuf_strcat(line, "> to=");
    quarantine_rcpt_list(line, qe);
    (void)vbuf_strcat(line, " verdict=");
    quarantine_escape(line, qe->verdict ? qe->verdict : "-");
    (void)vbuf_strcat(line, " detail=");
    (void)vbuf_quote_append(line, qe->reason ? qe->reason : "");
    (void)vbuf_strcat(line, " time=");
    quarantine_iso_time(line, qe->mtime);
    vbuf_sprintf_append(line, " size=%lld queue_id=", (long long)qe->size);
    quarantine_escape(line, qe->queue_id ? qe->queue_id : "-");
    if (vbuf_overflowed(line))
        (void)vbuf_strcat(line, "...");
}

/* quarantine_json_str - s as a JSON string: '"', '\\' and control bytes
 * escaped; other bytes as they are */
static void quarantine_json_str(VBUF *out, const char *s)
{
    const unsigned char *p;

    if (s == NULL) {
        (void)vbuf_strcat(out, "null");
        return;
    }
    (void)vbuf_addch(out, '"');
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            vbuf_sprintf_append(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            vbuf_sprintf_append(out, "\\u%04x", *p);
        else
            (void)vbuf_addch(out, *p);
    }
    (void)vbuf_addch(out, '"');
}

/* quarantine_json - the listing of an entry as one JSON object */
static void quarantine_json(VBUF *out, const char *id, const QUARANTINE_ENTRY *qe,
                            const char *state)
{
    int     i;

    (void)vbuf_strcat(out, "{\"id\":");
    quarantine_json_str(out, id);
    (void)vbuf_strcat(out, ",\"state\":");
    quarantine_json_str(out, state);
    (void)vbuf_strcat(out, ",\"time\":\"");
    quarantine_iso_time(out, qe->mtime);
    vbuf_sprintf_append(out, "\",\"unixtime\":%lld,\"size\":%lld,\"verdict\":",
                        (long long)qe->mtime, (long long)qe->size);
    quarantine_json_str(out, qe->verdict);
    (void)vbuf_strcat(out, ",\"detail\":");
    quarantine_json_str(out, qe->reason);
    (void)vbuf_strcat(out, ",\"queue_id\":");
    quarantine_json_str(out, qe->queue_id);
    (void)vbuf_strcat(out, ",\"sender\":");
    quarantine_json_str(out, qe->env.sender);
    (void)vbuf_strcat(out, ",\"recipients\":[");
    for (i = 0; i < qe->env.nrcpt; i++) {
        if (i)
            (void)vbuf_addch(out, ',');
        quarantine_json_str(out, qe->env.rcpt[i].addr);
    }
    (void)vbuf_strcat(out, "]}");
}

/* quarantine_names - the entries of dir (ids, and ids with .releasing),
 * read before anything is renamed in it; NULL-terminated, or NULL with
 * why in err */
static char **quarantine_names(const char *dir, VBUF *err)
{
    DIR    *dp;
    struct dirent *de;
    char  **names = NULL;
    size_t  n = 0, nalloc = 0;

    if ((dp = opendir(dir)) == NULL) {
        vbuf_sprintf(err, "cannot open %s: %s", dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;                       /* ., .. and entries being written */
        if (n + 1 >= nalloc) {
            nalloc = nalloc ? 2 * nalloc : 64;
            names = myrealloc(names, nalloc * sizeof(char *));
        }
        names[n++] = mystrdup(de->d_name);
    }
    closedir(dp);
    if (names == NULL)
        names = mycalloc(1, sizeof(char *));
    names[n] = NULL;
    return names;
}

/* quarantine_names_free - what quarantine_names() returned */
static void quarantine_names_free(char **names)
{
    char  **np;

    for (np = names; *np; np++)
        myfree(*np);
    myfree(names);
}

/* quarantine_split - name as id (changed in place) and releasing flag */
static int quarantine_split(char *name)
{
    size_t  n = strlen(name), k = strlen(QUARANTINE_RELEASING);

    if (n > k && strcmp(name + n - k, QUARANTINE_RELEASING) == 0) {
        name[n - k] = 0;
        return 1;
    }
    return 0;
}

/* quarantine_state - "releasing" when a live process holds the entry,
 * "stale" when nobody does (a crash midway), "" for a stored entry */
static const char *quarantine_state(QUARANTINE_ENTRY *qe)
{
    if (!qe->releasing)
        return "";
    if (flock(qe->fd, LOCK_SH | LOCK_NB) < 0)
        return "releasing";
    (void)flock(qe->fd, LOCK_UN);
    return "stale";
}

/* quarantine_list_one - list entry name of dir; 1 listed, 0 skipped */
static int quarantine_list_one(const char *dir, char *name, FILE *fp, int flags, VBUF *line)
{
    QUARANTINE_ENTRY qe;
    VBUF   *why = vbuf_alloc(4096);
    char    path[4096];
    const char *state;
    int     releasing = quarantine_split(name);

    if (quarantine_path(path, sizeof(path), dir, name, releasing, why) < 0
        || quarantine_read(path, &qe, why) < 0) {
        msg_warn("%s; skipped", vbuf_str(why));
        vbuf_free(why);
        return 0;
    }
    qe.releasing = releasing;
    state = quarantine_state(&qe);
    vbuf_reset(line);
    if (flags & QUARANTINE_LIST_JSON) {
        quarantine_json(line, name, &qe, *state ? state : "stored");
    } else {
        quarantine_line(line, name, &qe);
        if (*state)
            vbuf_sprintf_append(line, " state=%s", state);
    }
    fprintf(fp, "%s\n", vbuf_str(line));
    quarantine_close(&qe);
    vbuf_free(why);
    return 1;
}

/* quarantine_list - one line per entry */
int quarantine_list(const char *dir, FILE *fp, int flags, VBUF *err)
{
    VBUF   *line;
    char  **names, **np;
    int     count = 0;

    if ((names = quarantine_names(dir, err)) == NULL)
        return -1;
    line = vbuf_alloc(QUARANTINE_HEAD_MAX * 2);
    for (np = names; *np; np++)
        count += quarantine_list_one(dir, *np, fp, flags, line);
    vbuf_free(line);
    quarantine_names_free(names);
    return count;
}

/* quarantine_header_end - where the message header in text ends (after
 * its last line end), or NULL when it has not ended yet */
static const char *quarantine_header_end(const VBUF *text)
{
    const char *lf = memmem(text->data, vbuf_len(text), "\n\n", 2);
    const char *crlf = memmem(text->data, vbuf_len(text), "\n\r\n", 3);

    if (lf == NULL || (crlf != NULL && crlf < lf))
        lf = crlf;
    return lf ? lf + 1 : NULL;
}

/* quarantine_show_header - the message header of qe, escaped, on fp */
static int quarantine_show_header(FILE *fp, const QUARANTINE_ENTRY *qe)
{
    VBUF   *text = vbuf_alloc(QUARANTINE_HEAD_MAX);
    char    buf[8192];
    const char *end;
    off_t   off = qe->body_offset;
    ssize_t n;
    size_t  i, len;
    int     rc = 0;

    while ((end = quarantine_header_end(text)) == NULL) {
        if ((n = pread(qe->fd, buf, sizeof(buf), off)) < 0 && errno == EINTR)
            continue;
        if (n <= 0 || vbuf_append(text, buf, (size_t)n) < 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        off += n;
    }
    len = end ? (size_t)(end - vbuf_str(text)) : vbuf_len(text);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text->data[i];

        if (c == '\r' && i + 1 < len && text->data[i + 1] == '\n')
            continue;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
            putc(c, fp);
        else
            fprintf(fp, "\\x%02X", c);
    }
    vbuf_free(text);
    return rc;
}

/* quarantine_show_field - one "name: value" line, value escaped */
static void quarantine_show_field(FILE *fp, VBUF *tmp, const char *name, const char *value)
{
    if (value == NULL)
        return;
    vbuf_reset(tmp);
    quarantine_escape(tmp, value);
    fprintf(fp, "%s: %s\n", name, vbuf_str(tmp));
}

/* quarantine_show_body - the whole stored message on fp, unchanged */
static int quarantine_show_body(FILE *fp, const QUARANTINE_ENTRY *qe)
{
    char    buf[8192];
    off_t   off = qe->body_offset;
    ssize_t n;

    while ((n = pread(qe->fd, buf, sizeof(buf), off)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        fwrite(buf, 1, (size_t)n, fp);
        off += n;
    }
    return 0;
}

/* quarantine_show - envelope, then header or whole message */
int quarantine_show(FILE *fp, const char *id, const QUARANTINE_ENTRY *qe, int full)
{
    VBUF   *tmp = vbuf_alloc(QUARANTINE_HEAD_MAX * 2);
    int     i, rc;

    quarantine_show_field(fp, tmp, "id", id);
    vbuf_reset(tmp);
    quarantine_iso_time(tmp, qe->mtime);
    fprintf(fp, "time: %s\nsize: %lld\n", vbuf_str(tmp), (long long)qe->size);
    quarantine_show_field(fp, tmp, "verdict", qe->verdict);
    quarantine_show_field(fp, tmp, "detail", qe->reason);
    quarantine_show_field(fp, tmp, "queue_id", qe->queue_id);
    quarantine_show_field(fp, tmp, "sender", qe->env.sender);
    for (i = 0; i < qe->env.nrcpt; i++) {
        quarantine_show_field(fp, tmp, "recipient", qe->env.rcpt[i].addr);
        quarantine_show_field(fp, tmp, "orcpt", qe->env.rcpt[i].orcpt);
        quarantine_show_field(fp, tmp, "notify", qe->env.rcpt[i].notify);
    }
    quarantine_show_field(fp, tmp, "ret", qe->env.ret);
    quarantine_show_field(fp, tmp, "envid", qe->env.envid);
    quarantine_show_field(fp, tmp, "client_name", qe->env.xf_name);
    quarantine_show_field(fp, tmp, "client_addr", qe->env.xf_addr);
    quarantine_show_field(fp, tmp, "helo", qe->env.xf_helo);
    quarantine_show_field(fp, tmp, "protocol", qe->env.xf_proto);
    putc('\n', fp);
    rc = full ? quarantine_show_body(fp, qe) : quarantine_show_header(fp, qe);
    vbuf_free(tmp);
    return rc;
}

/* quarantine_lock - lock the open entry qe and check that path still
 * names it (an earlier holder may have moved or deleted it between our
 * open and our lock); QUARANTINE_CLAIMED, or an error with qe closed */
static int quarantine_lock(const char *path, QUARANTINE_ENTRY *qe, VBUF *err)
{
    struct stat st, fst;

    if (flock(qe->fd, LOCK_EX | LOCK_NB) < 0) {
        int     busy = (errno == EWOULDBLOCK);

        if (busy)
            vbuf_sprintf(err, "%s is being released or deleted by another process", path);
        else
            vbuf_sprintf(err, "cannot lock %s: %s", path, strerror(errno));
        quarantine_close(qe);
        return busy ? QUARANTINE_BUSY : QUARANTINE_ERROR;
    }
    if (stat(path, &st) < 0 || fstat(qe->fd, &fst) < 0
        || st.st_dev != fst.st_dev || st.st_ino != fst.st_ino) {
        vbuf_sprintf(err, "%s was released or deleted meanwhile", path);
        quarantine_close(qe);
        return QUARANTINE_ERROR;
    }
    return QUARANTINE_CLAIMED;
}

/* quarantine_claim_stale - take over dir/id.releasing at busy: only when
 * nobody holds it, and with force */
static int quarantine_claim_stale(const char *busy, const char *id, int force,
                                  QUARANTINE_ENTRY *qe, VBUF *err)
{
    VBUF   *when;
    int     rc;

    if ((rc = quarantine_lock(busy, qe, err)) != QUARANTINE_CLAIMED)
        return rc;
    qe->releasing = 1;
    if (force)
        return QUARANTINE_CLAIMED;
    when = vbuf_alloc(64);
    quarantine_iso_time(when, qe->ctime);
    vbuf_sprintf(err, "a release of %s stopped midway at %s and may have reached Postfix: "
                 "look for \"release %s\" in postsift's log; --force releases it again",
                 id, vbuf_str(when), id);
    vbuf_free(when);
    quarantine_close(qe);
    return QUARANTINE_STALE;
}

/* quarantine_claim - lock, then rename to ID.releasing */
int quarantine_claim(const char *dir, const char *id, int force, QUARANTINE_ENTRY *qe,
                     VBUF *err)
{
    char    path[4096], busy[4096];
    int     rc;

    memset(qe, 0, sizeof(*qe));
    qe->fd = -1;
    if (quarantine_path(path, sizeof(path), dir, id, 0, err) < 0
        || quarantine_path(busy, sizeof(busy), dir, id, 1, err) < 0)
        return QUARANTINE_ERROR;
    if (quarantine_read(path, qe, err) == 0) {
        if ((rc = quarantine_lock(path, qe, err)) != QUARANTINE_CLAIMED)
            return rc;
        if (rename(path, busy) < 0) {
            vbuf_sprintf(err, "cannot rename %s: %s", path, strerror(errno));
            quarantine_close(qe);
            return QUARANTINE_ERROR;
        }
        qe->releasing = 1;
        return QUARANTINE_CLAIMED;
    }
    if (errno != ENOENT)
        return QUARANTINE_ERROR;
    if (quarantine_read(busy, qe, err) < 0) {
        if (errno == ENOENT)
            vbuf_sprintf(err, "no quarantined message %s in %s", id, dir);
        return QUARANTINE_ERROR;
    }
    return quarantine_claim_stale(busy, id, force, qe, err);
}

/* quarantine_unclaim - rename ID.releasing back to ID */
int quarantine_unclaim(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err)
{
    char    path[4096], busy[4096];
    int     rc = 0;

    if (quarantine_path(path, sizeof(path), dir, id, 0, err) < 0
        || quarantine_path(busy, sizeof(busy), dir, id, 1, err) < 0) {
        rc = -1;
    } else if (rename(busy, path) < 0) {
        vbuf_sprintf(err, "cannot rename %s back: %s", busy, strerror(errno));
        rc = -1;
    }
    quarantine_close(qe);
    return rc;
}

/* quarantine_finish - unlink ID.releasing */
int quarantine_finish(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err)
{
    char    busy[4096];
    int     rc = 0;

    if (quarantine_path(busy, sizeof(busy), dir, id, 1, err) < 0) {
        rc = -1;
    } else if (unlink(busy) < 0) {
        vbuf_sprintf(err, "cannot remove %s: %s", busy, strerror(errno));
        rc = -1;
    } else {
        rc = quarantine_sync_dir(dir, err);
    }
    quarantine_close(qe);
    return rc;
}

/* quarantine_delete - claim, taking over a stale release, and delete */
int quarantine_delete(const char *dir, const char *id, VBUF *err)
{
    QUARANTINE_ENTRY qe;

    if (quarantine_claim(dir, id, 1, &qe, err) != QUARANTINE_CLAIMED)
        return -1;
    return quarantine_finish(dir, id, &qe, err);
}

/* quarantine_expire_one - delete entry name of dir when stored before
 * "before"; 1 deleted, 0 not */
static int quarantine_expire_one(const char *dir, char *name, time_t before, FILE *fp,
                                 VBUF *line)
{
    QUARANTINE_ENTRY qe;
    VBUF   *why = vbuf_alloc(4096);
    char    path[4096];
    struct stat st;
    int     releasing = quarantine_split(name), done = 0;

    if (quarantine_path(path, sizeof(path), dir, name, releasing, why) < 0
        || lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mtime >= before) {
        vbuf_free(why);
        return 0;
    }
    if (quarantine_claim(dir, name, 1, &qe, why) != QUARANTINE_CLAIMED) {
        msg_warn("expire: %s; skipped", vbuf_str(why));
    } else if (qe.mtime >= before) {
        (void)quarantine_unclaim(dir, name, &qe, why);
    } else {
        vbuf_reset(line);
        quarantine_line(line, name, &qe);
        if (quarantine_finish(dir, name, &qe, why) < 0) {
            msg_warn("expire: %s", vbuf_str(why));
        } else {
            fprintf(fp, "expired %s\n", vbuf_str(line));
            done = 1;
        }
    }
    vbuf_free(why);
    return done;
}

/* quarantine_expire - delete what was stored before "before" */
int quarantine_expire(const char *dir, time_t before, FILE *fp, VBUF *err)
{
    VBUF   *line;
    char  **names, **np;
    int     count = 0;

    if ((names = quarantine_names(dir, err)) == NULL)
        return -1;
    line = vbuf_alloc(QUARANTINE_HEAD_MAX * 2);
    for (np = names; *np; np++)
        count += quarantine_expire_one(dir, *np, before, fp, line);
    vbuf_free(line);
    quarantine_names_free(names);
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
