/*
 * request - one policy-delegation request, read with bounds
 *
 * A request is "name=value" lines ended by an empty line
 * (SMTPD_POLICY_README). Everything is bounded: REQUEST_MAX_ATTRS
 * attributes, REQUEST_MAX_NAME bytes of name, REQUEST_MAX_VALUE bytes of
 * value, REQUEST_MAX_TOTAL bytes in all, and the caller's deadline (lib/
 * netio). A request that breaks a rule (too many or duplicate attributes,
 * a name or value too long, a NUL or control byte, a line without '=',
 * no "request=smtpd_access_policy") is read on to its empty line, so the
 * stream stays in step, and reported as bad; when the empty line never
 * comes (end of file, time-out, REQUEST_MAX_DISCARD bytes) the stream is
 * lost and the connection must end.
 */
#ifndef POSTSIFT_POLICY_REQUEST_H
#define POSTSIFT_POLICY_REQUEST_H

#include <stddef.h>

#include "lib/netio.h"
#include "lib/vbuf.h"

#define REQUEST_MAX_ATTRS   128                 /* Postfix 3.7 sends about 40 */
#define REQUEST_MAX_NAME    64
#define REQUEST_MAX_VALUE   16384               /* an address may be long */
#define REQUEST_MAX_TOTAL   (64 * 1024)
#define REQUEST_MAX_DISCARD (16 * 1024 * 1024)  /* read to resynchronise */

typedef struct REQUEST_ATTR {
    char   *name;
    char   *value;
} REQUEST_ATTR;

typedef struct REQUEST {
    REQUEST_ATTR attrs[REQUEST_MAX_ATTRS];
    int     count;
    size_t  total;                      /* bytes of the request */
} REQUEST;

/* request_read() results */
#define REQUEST_OK      0               /* a good request */
#define REQUEST_END     1               /* clean end of file before a request */
#define REQUEST_BAD     2               /* malformed, read to its end: answer, go on */
#define REQUEST_LOST    3               /* malformed and out of step: answer, close */

/* request_names - "REQUEST_OK"... for the logs */
extern const char *const request_status_names[];

void    request_init(REQUEST *req);
/* request_reset - forget the attributes (storage freed) */
void    request_reset(REQUEST *req);

/* request_read - the next request from io: REQUEST_OK, or REQUEST_END,
 * or REQUEST_BAD/REQUEST_LOST with why in err. The first line may take
 * idle seconds; from then on the whole request must arrive within
 * timeout seconds. */
int     request_read(NETIO *io, REQUEST *req, int idle, int timeout, VBUF *err);

/* request_parse - the same from a memory buffer (tests, fuzzing): one
 * request, data must hold it whole */
int     request_parse(REQUEST *req, const char *data, size_t len, VBUF *err);

/* request_get - an attribute's value, NULL when it is absent */
const char *request_get(const REQUEST *req, const char *name);

/* request_add - add name=value (tests); -1 when full */
int     request_add(REQUEST *req, const char *name, const char *value);

#endif
