/*
 * attr - the attributes rules may name, and the derived ones (attr.h)
 */
#include <ctype.h>
#include <string.h>

#include "lib/vbuf.h"
#include "policy/attr.h"
#include "policy/request.h"

typedef struct ATTR_INFO {
    const char *name;
    int     flags;
} ATTR_INFO;

static const ATTR_INFO attr_table[] = {
    {"request", 0}, {"protocol_state", 0}, {"protocol_name", 0},
    {"helo_name", ATTR_FOLD | ATTR_DOMAIN}, {"queue_id", 0},
    {"sender", ATTR_FOLD}, {"recipient", ATTR_FOLD}, {"recipient_count", 0},
    {"client_address", ATTR_CLIENT}, {"client_name", ATTR_FOLD | ATTR_DOMAIN},
    {"reverse_client_name", ATTR_FOLD | ATTR_DOMAIN}, {"instance", 0},
    {"sasl_method", 0}, {"sasl_username", 0}, {"sasl_sender", ATTR_FOLD},
    {"size", 0}, {"ccert_subject", 0}, {"ccert_issuer", 0},
    {"ccert_fingerprint", ATTR_FOLD}, {"ccert_pubkey_fingerprint", ATTR_FOLD},
    {"encryption_protocol", 0}, {"encryption_cipher", 0}, {"encryption_keysize", 0},
    {"etrn_domain", ATTR_FOLD | ATTR_DOMAIN}, {"stress", 0}, {"client_port", 0},
    {"policy_context", 0}, {"server_address", ATTR_CLIENT}, {"server_port", 0},
    {"compatibility_level", 0}, {"mail_version", 0},
    /* derived */
    {"sender_domain", ATTR_FOLD | ATTR_DOMAIN},
    {"recipient_domain", ATTR_FOLD | ATTR_DOMAIN},
    {"sasl", 0},
    {NULL, 0},
};

/* attr_flags - see attr.h */
int     attr_flags(const char *name)
{
    const ATTR_INFO *ai;

    for (ai = attr_table; ai->name; ai++)
        if (strcmp(ai->name, name) == 0)
            return ai->flags;
    return -1;
}

/* attr_domain_of - the lowercased domain of an address into scratch */
static const char *attr_domain_of(const char *addr, VBUF *scratch)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    size_t  i;

    vbuf_reset(scratch);
    if (at == NULL)
        return "";
    for (i = 1; at[i]; i++)
        vbuf_addch(scratch, tolower((unsigned char)at[i]));
    return vbuf_str(scratch);
}

/* attr_value - see attr.h */
const char *attr_value(const REQUEST *req, const char *name, VBUF *scratch)
{
    const char *v;

    if (strcmp(name, "sender_domain") == 0)
        return attr_domain_of(request_get(req, "sender"), scratch);
    if (strcmp(name, "recipient_domain") == 0)
        return attr_domain_of(request_get(req, "recipient"), scratch);
    if (strcmp(name, "sasl") == 0)
        return (v = request_get(req, "sasl_username")) != NULL && *v ? "yes" : "no";
    return (v = request_get(req, name)) != NULL ? v : "";
}
