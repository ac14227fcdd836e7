/*
 * smtpcode - SMTP reply codes and enhanced status codes (see smtpcode.h)
 */
#include <ctype.h>

#include "lib/smtpcode.h"

/* smtpcode_dsn_len - length of "c.sss.ddd" of class cls at s, or 0 */
size_t smtpcode_dsn_len(const char *s, int cls)
{
    const char *p = s;
    int     part, n;

    if (cls == 0 ? (*p != '2' && *p != '4' && *p != '5') : *p != '0' + cls)
        return 0;
    if (p[1] != '.')
        return 0;
    p += 2;
    for (part = 0; part < 2; part++) {
        for (n = 0; isdigit((unsigned char)*p) && n < 4; n++)
            p++;
        if (n == 0 || n > 3 || (part == 0 && *p++ != '.'))
            return 0;
    }
    return (*p == ' ' || *p == 0) ? (size_t)(p - s) : 0;
}
