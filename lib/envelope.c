/*
 * envelope - the envelope options of the command line (see envelope.h)
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "lib/envelope.h"

 /*
  * The XFORWARD attributes an -X option may set, and where each goes.
  */
typedef struct ENVELOPE_XF {
    const char *name;
    size_t  offset;             /* of the const char * in SMTP_ENVELOPE */
} ENVELOPE_XF;

static const ENVELOPE_XF envelope_xf_table[] = {
    {"addr", offsetof(SMTP_ENVELOPE, xf_addr)},
    {"name", offsetof(SMTP_ENVELOPE, xf_name)},
    {"helo", offsetof(SMTP_ENVELOPE, xf_helo)},
    {"proto", offsetof(SMTP_ENVELOPE, xf_proto)},
    {"port", offsetof(SMTP_ENVELOPE, xf_port)},
    {"source", offsetof(SMTP_ENVELOPE, xf_source)},
    {"ident", offsetof(SMTP_ENVELOPE, xf_ident)},
    {NULL, 0},
};

/* envelope_xforward_option - one -X attr=value */
int envelope_xforward_option(SMTP_ENVELOPE *env, const char *arg, int flags, VBUF *err)
{
    const char *eq = strchr(arg, '=');
    const ENVELOPE_XF *xf;
    size_t  len;

    if (eq == NULL) {
        vbuf_strcpy(err, "-X needs attr=value");
        return -1;
    }
    len = (size_t)(eq - arg);
    for (xf = envelope_xf_table; xf->name; xf++)
        if (strlen(xf->name) == len && strncasecmp(arg, xf->name, len) == 0)
            break;
    if (xf->name == NULL) {
        vbuf_strcpy(err, "-X: unknown attribute (use addr, name, helo, proto, port, source "
                    "or ident)");
        return -1;
    }
    if (eq[1] != 0 || (flags & ENVELOPE_EMPTY_UNAVAILABLE))
        *(const char **)((char *)env + xf->offset) = eq + 1;
    return 0;
}

/* envelope_orcpt_option - one -O orcpt for recipient i */
int envelope_orcpt_option(SMTP_ENVELOPE *env, int i, const char *arg, VBUF *err)
{
    const char *value = arg + (*arg == '=');

    if (i < 0 || i >= env->nrcpt) {
        vbuf_strcpy(err, "-O: no recipient for this original recipient");
        return -1;
    }
    if (strlen(value) > SMTP_ADDRESS_MAX) {
        vbuf_sprintf(err, "original recipient too long (%zu bytes, at most %d)",
                     strlen(value), SMTP_ADDRESS_MAX);
        return -1;
    }
    env->rcpt[i].orcpt = *value ? value : NULL;
    return 0;
}
