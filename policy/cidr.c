/*
 * cidr - network blocks for client_address conditions (cidr.h)
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/cidr.h"

/* cidr_addr - a numeric address into family and bytes; -1 when it is none */
static int cidr_addr(const char *text, int *family, unsigned char *addr)
{
    char    buf[64];
    size_t  len = strlen(text);

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

/* cidr_parse - see cidr.h */
int     cidr_parse(CIDR *c, const char *text, VBUF *err)
{
    char    buf[80], *slash, *end;
    int     max, i;
    long    bits;

    if (strlen(text) >= sizeof(buf)) {
        vbuf_sprintf(err, "bad network block (too long)");
        return -1;
    }
    memcpy(buf, text, strlen(text) + 1);
    memset(c->addr, 0, sizeof(c->addr));
    if ((slash = strchr(buf, '/')) != NULL)
        *slash++ = 0;
    if (cidr_addr(buf, &c->family, c->addr) < 0) {
        vbuf_sprintf(err, "bad network block \"%s\": not a numeric address", text);
        return -1;
    }
    max = c->family == AF_INET ? 32 : 128;
    bits = max;
    if (slash) {
        bits = strtol(slash, &end, 10);
        if (*slash == 0 || *end != 0 || bits < 0 || bits > max) {
            vbuf_sprintf(err, "bad network block \"%s\": bad prefix length", text);
            return -1;
        }
    }
    c->bits = (int)bits;
    for (i = c->bits; i < max; i++)
        if (c->addr[i / 8] & (0x80 >> (i % 8))) {
            vbuf_sprintf(err, "bad network block \"%s\": host bits set", text);
            return -1;
        }
    return 0;
}

/* cidr_match - see cidr.h */
int     cidr_match(const CIDR *c, const char *addr)
{
    unsigned char a[16];
    int     family, full, rest;

    if (addr == NULL || cidr_addr(addr, &family, a) < 0 || family != c->family)
        return 0;
    full = c->bits / 8;
    rest = c->bits % 8;
    if (memcmp(a, c->addr, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[full] ^ c->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}
