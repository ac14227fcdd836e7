/*
 * attr - the attributes rules may name, and the derived ones
 *
 * Postfix's own (SMTPD_POLICY_README, up to Postfix 3.7) plus three that
 * postsift derives: sender_domain and recipient_domain (after the last
 * '@', lowercased; empty for the null sender) and sasl ("yes" when
 * sasl_username is set, else "no"). A name outside the table is a load
 * error, so that a typo cannot make a rule that never matches. An absent
 * attribute has the empty value.
 */
#ifndef POSTSIFT_POLICY_ATTR_H
#define POSTSIFT_POLICY_ATTR_H

#include "lib/vbuf.h"
#include "policy/request.h"

#define ATTR_FOLD   (1 << 0)            /* compared without case: addresses, names */
#define ATTR_DOMAIN (1 << 1)            /* ".example.org" matches subdomains */
#define ATTR_CLIENT (1 << 2)            /* a numeric address: "in" takes CIDR */

/* attr_flags - ATTR_* of a known name, -1 for an unknown one */
int     attr_flags(const char *name);

/* attr_value - the value of name in req ("" when absent), derived ones
 * computed into scratch */
const char *attr_value(const REQUEST *req, const char *name, VBUF *scratch);

#endif
