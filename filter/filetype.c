/*
 * filetype - libmagic wrapper (see filetype.h)
 *
 * magic_buffer() on the first megabyte rather than magic_descriptor(): the
 * latter reads through the descriptor's offset and may look at more of the
 * file than we want to pay for. What libmagic learns only from a whole
 * ELF file (section details) does not change its MIME type.
 */
#include <errno.h>
#include <magic.h>
#include <string.h>
#include <unistd.h>

#include "filter/filetype.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"

struct FILETYPE {
    magic_t magic;
    char   *buf;            /* FILETYPE_BYTES_MAX, for filetype_fd */
};

/* filetype_setparam - one libmagic bound; failure is only worth a warning */
static void filetype_setparam(magic_t magic, int param, size_t value, const char *name)
{
    if (magic_setparam(magic, param, &value) < 0)
        msg_warn("libmagic: cannot set %s to %zu: %s", name, value,
                 magic_error(magic) ? magic_error(magic) : strerror(errno));
}

/* filetype_open - load the magic database */
FILETYPE *filetype_open(VBUF *err)
{
    FILETYPE *ft;
    magic_t magic;

    magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    if (magic == NULL) {
        vbuf_sprintf(err, "libmagic: magic_open: %s", strerror(errno));
        return NULL;
    }
    if (magic_load(magic, NULL) < 0) {
        vbuf_sprintf(err, "libmagic: cannot load the magic database: %s",
                     magic_error(magic) ? magic_error(magic) : strerror(errno));
        magic_close(magic);
        return NULL;
    }
    filetype_setparam(magic, MAGIC_PARAM_BYTES_MAX, FILETYPE_BYTES_MAX, "bytes_max");
    filetype_setparam(magic, MAGIC_PARAM_INDIR_MAX, 15, "indir_max");
    filetype_setparam(magic, MAGIC_PARAM_NAME_MAX, 30, "name_max");
    filetype_setparam(magic, MAGIC_PARAM_REGEX_MAX, 8192, "regex_max");
    filetype_setparam(magic, MAGIC_PARAM_ENCODING_MAX, 65536, "encoding_max");
    ft = mymalloc(sizeof(*ft));
    ft->magic = magic;
    ft->buf = NULL;
    return ft;
}

/* filetype_buffer - MIME type of bytes in memory */
const char *filetype_buffer(FILETYPE *ft, const void *buf, size_t len)
{
    const char *type;

    if (len > FILETYPE_BYTES_MAX)
        len = FILETYPE_BYTES_MAX;
    type = magic_buffer(ft->magic, buf, len);
    if (type == NULL || *type == 0) {
        msg_warn("libmagic: %s; assuming %s",
                 magic_error(ft->magic) ? magic_error(ft->magic) : "no type",
                 FILETYPE_UNKNOWN);
        return FILETYPE_UNKNOWN;
    }
    return type;
}

/* filetype_fd - MIME type of a file, from offset 0, offset untouched */
const char *filetype_fd(FILETYPE *ft, int fd)
{
    size_t  len = 0;
    ssize_t n;

    if (ft->buf == NULL)
        ft->buf = mymalloc(FILETYPE_BYTES_MAX);
    while (len < FILETYPE_BYTES_MAX) {
        n = pread(fd, ft->buf + len, FILETYPE_BYTES_MAX - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            msg_warn("libmagic: read: %s; assuming %s", strerror(errno), FILETYPE_UNKNOWN);
            return FILETYPE_UNKNOWN;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return filetype_buffer(ft, ft->buf, len);
}

/* filetype_close - release the handle, NULL allowed */
void filetype_close(FILETYPE *ft)
{
    if (ft) {
        magic_close(ft->magic);
        myfree(ft->buf);
        myfree(ft);
    }
}
