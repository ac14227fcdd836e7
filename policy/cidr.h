/*
 * cidr - network blocks for client_address conditions
 *
 * "192.0.2.0/24", "2001:db8::/32", "[2001:db8::]/32" or a bare address
 * (a /32 or /128). Host bits that are set in a block are an error, as in
 * Postfix's cidr tables, so that a typo does not widen a rule silently.
 */
#ifndef POSTSIFT_POLICY_CIDR_H
#define POSTSIFT_POLICY_CIDR_H

#include "lib/vbuf.h"

typedef struct CIDR {
    int     family;                     /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int     bits;
} CIDR;

/* cidr_parse - one block; -1 with why in err */
int     cidr_parse(CIDR *c, const char *text, VBUF *err);

/* cidr_match - the numeric address text lies in the block (an
 * IPv4-mapped IPv6 address counts as its IPv4 address) */
int     cidr_match(const CIDR *c, const char *addr);

#endif
