/*
 * tables - access tables and restriction lists: the FILTER actions a
 * table can return, read from its source file (for an indexed map, the
 * file postmap was given; with --snapshot, under the snapshot's maps/),
 * else listed with "postmap -s"; and the check_*_access and
 * check_policy_service items of a service's smtpd_*_restrictions, with
 * restriction classes expanded one level.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check/check.h"

/* the restriction lists of smtpd that can return FILTER */
const char *const ck_restriction_lists[] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", NULL,
};

/* the table types whose source is a file that we can read */
static const char *const tb_types[] = {
    "hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash", "regexp", "pcre", "cidr", NULL,
};

/* ck_list_split - the items of a Postfix list: separated by commas or
   white space, except inside { } */
void    ck_list_split(CK *ck, CK_LIST *list, const char *text)
{
    const char *cp = text, *start;
    int     depth;

    for (;;) {
        cp += strspn(cp, ", \t\r\n");
        if (*cp == 0)
            return;
        for (start = cp, depth = 0; *cp; cp++) {
            if (*cp == '{')
                depth++;
            else if (*cp == '}' && depth > 0)
                depth--;
            else if (depth == 0 && strchr(", \t\r\n", *cp))
                break;
        }
        ck_list_add(ck, list, ck_strn(ck, start, (size_t)(cp - start)));
    }
}

/* tb_scan - append the FILTER results of text: the word after each
   white space, "FILTER" (any case), white space; comment lines skipped */
static void tb_scan(CK *ck, const char *text, CK_LIST *out)
{
    const char *line, *end, *cp;
    size_t  len;

    for (line = text; *line; line = *end ? end + 1 : end) {
        end = line + strcspn(line, "\n");
        if (line[strspn(line, " \t")] == '#')
            continue;
        for (cp = line; cp + 7 < end; cp++) {
            if (!isspace((unsigned char)cp[0]) || strncasecmp(cp + 1, "filter", 6) != 0
                || !isspace((unsigned char)cp[7]) || cp + 7 >= end)
                continue;
            cp += 7;
            cp += strspn(cp, " \t\r");
            len = strcspn(cp, " \t\r\n");
            if (len == 0 || cp >= end)
                break;
            if (!ck_list_has(out, ck_strn(ck, cp, len)))
                ck_list_add(ck, out, ck_strn(ck, cp, len));
            cp += len - 1;
        }
    }
}

/* tb_source - the readable file that holds a table's entries, or NULL */
static const char *tb_source(CK *ck, const char *type, const char *path)
{
    const char *file;
    int     i;

    for (i = 0; tb_types[i]; i++) {
        if (strcmp(type, tb_types[i]) != 0)
            continue;
        file = ck->opts->snapshot ? postconf_snap_path(ck, ck_fmt(ck, "maps%s%s",
                                                   *path == '/' ? "" : "/", path)) : path;
        return access(file, R_OK) == 0 ? file : NULL;
    }
    return NULL;
}

/* tb_read - the FILTER results of one table into out; -1: unreadable */
static int tb_read(CK *ck, const char *table, CK_LIST *out)
{
    const char *t = strncmp(table, "proxy:", 6) == 0 ? table + 6 : table;
    const char *colon = strchr(t, ':'), *file, *type;
    CK_LIST inner = {0};
    VBUF   *text;
    FILE   *fp;
    size_t  i, n;
    char    buf[8192];
    int     ret = -1;

    if (colon == NULL)
        return -1;
    type = ck_strn(ck, t, (size_t)(colon - t));
    if ((strcmp(type, "pipemap") == 0 || strcmp(type, "unionmap") == 0)
        && colon[1] == '{' && t[strlen(t) - 1] == '}') {
        ck_list_split(ck, &inner, ck_strn(ck, colon + 2, strlen(colon + 2) - 1));
        for (i = 0; i < inner.n; i++)
            if (tb_read(ck, inner.v[i], out) < 0)
                return -1;
        return 0;
    }
    text = vbuf_alloc(64 * 1024 * 1024);
    if ((file = tb_source(ck, type, colon + 1)) != NULL && (fp = fopen(file, "r")) != NULL) {
        while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 && vbuf_append(text, buf, n) == 0)
             /* more */ ;
        ret = ferror(fp) ? -1 : 0;
        fclose(fp);
    } else if (postconf_postmap_s(ck, t, text) == 0) {
        ret = 0;
    }
    if (ret == 0)
        tb_scan(ck, vbuf_str(text), out);
    vbuf_free(text);
    return ret;
}

/* ck_table_filters - the FILTER results of a table (a list of strings),
   NULL when it cannot be read; each table is read once */
const CK_LIST *ck_table_filters(CK *ck, const char *table)
{
    CK_LIST *found;
    size_t  i;

    for (i = 0; i + 1 < ck->table_cache.n; i += 2)
        if (strcmp(ck->table_cache.v[i], table) == 0)
            return ck->table_cache.v[i + 1];
    found = ck_alloc(ck, sizeof(*found));
    if (tb_read(ck, table, found) < 0)
        found = NULL;
    ck_list_add(ck, &ck->table_cache, ck_str(ck, table));
    ck_list_add(ck, &ck->table_cache, found);
    return found;
}

/* tb_is_lookup - check_*_access or check_policy_service */
static int tb_is_lookup(const char *w)
{
    size_t  len = strlen(w);

    return strcmp(w, "check_policy_service") == 0
        || (strncmp(w, "check_", 6) == 0 && len > 13 && strcmp(w + len - 7, "_access") == 0);
}

/* ck_restrictions - the table lookups (CK_ITEM) of the service's
   restriction lists, restriction classes expanded one level */
void    ck_restrictions(CK *ck, const CK_SERVICE *svc, CK_LIST *items)
{
    CK_LIST classes = {0};
    size_t  i, n;
    int     p;

    ck_list_split(ck, &classes, ck_sv(ck, svc, "smtpd_restriction_classes"));
    for (p = 0; ck_restriction_lists[p]; p++) {
        CK_LIST list = {0};

        ck_list_split(ck, &list, ck_sv(ck, svc, ck_restriction_lists[p]));
        for (i = 0, n = list.n; i < n; i++)
            if (ck_list_has(&classes, list.v[i]))
                ck_list_split(ck, &list, ck_sv(ck, svc, list.v[i]));
        for (i = 1; i < list.n; i++) {
            CK_ITEM *it;

            if (!tb_is_lookup(list.v[i - 1]))
                continue;
            it = ck_alloc(ck, sizeof(*it));
            it->param = ck_restriction_lists[p];
            it->restriction = list.v[i - 1];
            it->table = list.v[i];
            ck_list_add(ck, items, it);
        }
    }
}

/* ck_entry_addr - an entry's address: itself, or the first word in { } */
const char *ck_entry_addr(CK *ck, const char *entry)
{
    const char *cp = entry;

    if (*cp != '{')
        return entry;
    cp += 1 + strspn(cp + 1, " \t\r\n");
    return ck_strn(ck, cp, strcspn(cp, ", \t\r\n}"));
}

/* ck_entry_opt - a per-milter (or per-policy-service) setting name =
   value of a braced entry, NULL when it has none */
const char *ck_entry_opt(CK *ck, const char *entry, const char *name)
{
    const char *cp, *end;
    size_t  len = strlen(name), vlen;

    if (*entry != '{')
        return NULL;
    for (cp = entry + 1; (cp = strstr(cp, name)) != NULL; cp += len) {
        if (!strchr("{, \t", cp[-1]))
            continue;
        end = cp + len + strspn(cp + len, " \t");
        if (*end != '=')
            continue;
        end += 1 + strspn(end + 1, " \t");
        vlen = strcspn(end, ",}");
        while (vlen > 0 && strchr(" \t", end[vlen - 1]))
            vlen--;
        return ck_strn(ck, end, vlen);
    }
    return NULL;
}
