/*
 * smtpcode - SMTP reply codes and RFC 3463 enhanced status codes
 */
#ifndef POSTSIFT_SMTPCODE_H
#define POSTSIFT_SMTPCODE_H

#include <stddef.h>

/* smtpcode_dsn_len - the length of an enhanced status code "c.sss.ddd"
 * (1 to 3 digits in each of the last two fields) at the start of s,
 * followed by a space or the end of s, whose class is cls (2, 4 or 5;
 * 0: any of them); 0 when there is none */
size_t  smtpcode_dsn_len(const char *s, int cls);

#endif
