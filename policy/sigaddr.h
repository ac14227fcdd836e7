/*
 * sigaddr - signed, expiring addresses
 *
 * A signed address is user+YYYYMMDD.SIG@domain: the delimiter is the
 * first character of policy_recipient_delimiter (any of them is accepted
 * when checking), YYYYMMDD the last day (UTC) the address is good for,
 * and SIG the first policy_signature_length characters of the base32
 * (RFC 4648 alphabet, lowercase) HMAC-SHA256, keyed with the secret of
 * policy_secret_file, of "user|YYYYMMDD|domain" lowercased (ASCII). The
 * address is good until the end of that day (UTC) plus
 * policy_signature_grace, so that a sender's clock a day off or a
 * message in a queue overnight still gets through. Signatures are
 * compared in constant time (CRYPTO_memcmp).
 */
#ifndef POSTSIFT_POLICY_SIGADDR_H
#define POSTSIFT_POLICY_SIGADDR_H

#include <stddef.h>
#include <time.h>

#include "lib/vbuf.h"

#define SIGADDR_MIN_KEY 16              /* bytes of secret at least */
#define SIGADDR_MAX_KEY 4096
#define SIGADDR_MAX_DAYS 3650           /* mint: ten years at most */

typedef struct SIGKEY {
    unsigned char *data;
    size_t  len;
} SIGKEY;

/* sigaddr_check() results */
#define SIGADDR_VALID    0              /* signed, good, not expired */
#define SIGADDR_UNSIGNED 1              /* no +YYYYMMDD. extension */
#define SIGADDR_EXPIRED  2              /* good signature, past its day + grace */
#define SIGADDR_BAD      3              /* signature or date wrong */

extern const char *const sigaddr_names[];

/* sigaddr_key_load - the secret from path: a regular file (not a link),
 * owned by the running user, mode 0600 or stricter, 16 to 4096 bytes
 * (a trailing newline is not part of it); NULL with why in err */
SIGKEY *sigaddr_key_load(const char *path, VBUF *err);
void    sigaddr_key_free(SIGKEY *key);

/* sigaddr_mint - the address signed until days from now (UTC day) into
 * out; -1 with why in err (no '@', already signed, days out of range) */
int     sigaddr_mint(const SIGKEY *key, const char *addr, long days, time_t now,
                     VBUF *out, VBUF *err);

/* sigaddr_check - SIGADDR_*; why says what is wrong (for the log) */
int     sigaddr_check(const SIGKEY *key, const char *addr, time_t now, VBUF *why);

#endif
