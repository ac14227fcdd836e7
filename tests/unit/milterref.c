/*
 * milterref - a reference milter built on libmilter, for test_filter_milter
 *
 * Usage: milterref SOCKET SCANNED_VALUE MARKER REPLY_TEXT
 *
 * Does on a fixed script what postsift's milter does with a message:
 * negotiates the same actions, events and macro lists; at the end of the
 * message, when the body holds MARKER, rejects with "554 5.7.1
 * REPLY_TEXT"; otherwise renames every X-Virus-Scanned and X-Virus-Status
 * header (deleted, the last of each name first, then added back as
 * X-Untrusted-NAME) and adds "X-Virus-Scanned: SCANNED_VALUE". The unit
 * test sends the same packets to both and compares the answers. libmilter
 * is the Sendmail reference implementation (Debian libmilter-dev); this
 * program is test code only and links nothing of postsift.
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REF_FOREIGN_MAX 100
#define REF_BODY_MAX    (1024 * 1024)

static char *scanned_value, *marker, *reply_text;
static char list_connect[] = "{client_addr} {client_name}";
static char list_i[] = "i";
static char ref_name[] = "milterref";
static char hdr_scanned[] = "X-Virus-Scanned";
static char reply_code[] = "554", reply_dsn[] = "5.7.1";

typedef struct REF_MSG {
    char   *name[REF_FOREIGN_MAX];
    char   *value[REF_FOREIGN_MAX];
    int     index[REF_FOREIGN_MAX];
    int     nforeign, nscanned, nstatus;
    char   *body;
    size_t  blen;
} REF_MSG;

/* ref_free - forget the message */
static void ref_free(SMFICTX *ctx)
{
    REF_MSG *m = smfi_getpriv(ctx);
    int     i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nforeign; i++) {
        free(m->name[i]);
        free(m->value[i]);
    }
    free(m->body);
    free(m);
    smfi_setpriv(ctx, NULL);
}

/* ref_msg - the message's state, made at the first need */
static REF_MSG *ref_msg(SMFICTX *ctx)
{
    REF_MSG *m = smfi_getpriv(ctx);

    if (m == NULL) {
        m = calloc(1, sizeof(*m));
        m->body = malloc(REF_BODY_MAX + 1);
        smfi_setpriv(ctx, m);
    }
    return m;
}

/* ref_negotiate - the actions, events and macros postsift asks for */
static sfsistat ref_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                              unsigned long f2, unsigned long f3, unsigned long *pf0,
                              unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)f0;
    (void)f2;
    (void)f3;
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR | SMFIP_NR_CONN
                 | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA
                 | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY);
    *pf2 = 0;
    *pf3 = 0;
    smfi_setsymlist(ctx, SMFIM_CONNECT, list_connect);
    smfi_setsymlist(ctx, SMFIM_ENVFROM, list_i);
    smfi_setsymlist(ctx, SMFIM_EOH, list_i);
    smfi_setsymlist(ctx, SMFIM_EOM, list_i);
    return SMFIS_CONTINUE;
}

/* ref_connect - nothing: no reply */
static sfsistat ref_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)ctx;
    (void)host;
    (void)sa;
    return SMFIS_NOREPLY;
}

/* ref_envfrom - a new message */
static sfsistat ref_envfrom(SMFICTX *ctx, char **argv)
{
    (void)argv;
    ref_free(ctx);
    (void)ref_msg(ctx);
    return SMFIS_NOREPLY;
}

/* ref_envrcpt - nothing */
static sfsistat ref_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_NOREPLY;
}

/* ref_header - note the X-Virus-* headers */
static sfsistat ref_header(SMFICTX *ctx, char *name, char *value)
{
    REF_MSG *m = ref_msg(ctx);
    int     index;

    if (strcasecmp(name, "X-Virus-Scanned") == 0)
        index = ++m->nscanned;
    else if (strcasecmp(name, "X-Virus-Status") == 0)
        index = ++m->nstatus;
    else
        return SMFIS_NOREPLY;
    if (m->nforeign < REF_FOREIGN_MAX) {
        m->name[m->nforeign] = strdup(name);
        m->value[m->nforeign] = strdup(value);
        m->index[m->nforeign++] = index;
    }
    return SMFIS_NOREPLY;
}

/* ref_eoh - nothing */
static sfsistat ref_eoh(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_NOREPLY;
}

/* ref_body - keep the body, for the marker */
static sfsistat ref_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
    REF_MSG *m = ref_msg(ctx);

    if (len > REF_BODY_MAX - m->blen)
        len = REF_BODY_MAX - m->blen;
    memcpy(m->body + m->blen, p, len);
    m->blen += len;
    return SMFIS_NOREPLY;
}

/* ref_eom - reject on the marker, else rename and add */
static sfsistat ref_eom(SMFICTX *ctx)
{
    REF_MSG *m = ref_msg(ctx);
    char    name[300];
    int     i;

    m->body[m->blen] = 0;
    if (strstr(m->body, marker) != NULL) {
        smfi_setreply(ctx, reply_code, reply_dsn, reply_text);
        ref_free(ctx);
        return SMFIS_REJECT;
    }
    for (i = m->nforeign - 1; i >= 0; i--)
        smfi_chgheader(ctx, m->name[i], m->index[i], NULL);
    for (i = 0; i < m->nforeign; i++) {
        snprintf(name, sizeof(name), "X-Untrusted-%s", m->name[i]);
        smfi_addheader(ctx, name, m->value[i]);
    }
    smfi_addheader(ctx, hdr_scanned, scanned_value);
    ref_free(ctx);
    return SMFIS_CONTINUE;
}

/* ref_abort - forget the message */
static sfsistat ref_abort(SMFICTX *ctx)
{
    ref_free(ctx);
    return SMFIS_CONTINUE;
}

/* ref_close - forget everything */
static sfsistat ref_close(SMFICTX *ctx)
{
    ref_free(ctx);
    return SMFIS_CONTINUE;
}

int     main(int argc, char **argv)
{
    struct smfiDesc desc;

    if (argc != 5) {
        fprintf(stderr, "usage: milterref SOCKET SCANNED_VALUE MARKER REPLY_TEXT\n");
        return 2;
    }
    scanned_value = argv[2];
    marker = argv[3];
    reply_text = argv[4];
    memset(&desc, 0, sizeof(desc));
    desc.xxfi_name = ref_name;
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    desc.xxfi_connect = ref_connect;
    desc.xxfi_envfrom = ref_envfrom;
    desc.xxfi_envrcpt = ref_envrcpt;
    desc.xxfi_header = ref_header;
    desc.xxfi_eoh = ref_eoh;
    desc.xxfi_body = ref_body;
    desc.xxfi_eom = ref_eom;
    desc.xxfi_abort = ref_abort;
    desc.xxfi_close = ref_close;
    desc.xxfi_negotiate = ref_negotiate;
    if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
        fprintf(stderr, "milterref: cannot set up %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
