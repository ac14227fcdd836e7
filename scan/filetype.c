/*
 * filetype - libmagic wrapper (see filetype.h)
 *
 * magic_buffer() on the first megabyte rather than magic_descriptor(): the
 * latter reads through the descriptor's offset and may look at more of the
 * file than we want to pay for. What libmagic learns only from a whole
 * ELF file (section details) does not change its MIME type.
 *
 * What libmagic cannot see in the first megabyte is looked for here,
 * each check precise enough to be sure (a signature of 8 bytes or more
 * and the fields around it), each with at most two small reads:
 *
 * - A compound file (OLE2) whose root storage has the class of a Windows
 *   Installer package, merge module, patch or transform. libmagic names
 *   a package application/x-msi only when it can read the allocation
 *   tables, the directory and the summary information; in a package
 *   larger than what it is given (most are) these may lie beyond, and it
 *   comes out as application/x-ole-storage, which is also what a large
 *   Word or Excel document is. The class tells them apart: Word and Excel
 *   documents carry their own.
 * - A trailer in the last 512 bytes: "koly" (Apple UDIF, whose start is
 *   compressed or raw disk data) and "conectix" (a fixed VHD, whose start
 *   is the disk). These replace only answers that say "some data" (see
 *   filetype_generic), never a format libmagic recognised, so that a
 *   trailer appended to a program cannot turn it into a disk image.
 * - "vhdxfile" at the start, which libmagic describes without a MIME type.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <magic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/filetype.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"

struct FILETYPE {
    magic_t magic;
    int     text_fast;      /* plain text may skip libmagic */
    unsigned char first[256];   /* filetype_markers by first byte: 1 + index
                                 * of the first one, 0 none (sorted list) */
    char   *buf;            /* FILETYPE_BYTES_MAX, for filetype_fd */
};

/* Where the bytes are: the first len of size bytes in buf, and all of
 * them in fd unless it is -1. */
typedef struct FILETYPE_SRC {
    const unsigned char *buf;
    size_t  len;
    int     fd;
    off_t   size;
} FILETYPE_SRC;

#define FILETYPE_PLAIN      "text/plain"
#define FILETYPE_MSI        "application/x-msi"
#define FILETYPE_UDIF       "application/x-apple-diskimage"
#define FILETYPE_VHD        "application/x-virtualbox-vhd"
#define FILETYPE_VHDX       "application/x-virtualbox-vhdx"

/* libmagic's answers for data it has no name for, or only a compression
 * name (the start of an Apple disk image), or a FAT volume (the start of
 * a fixed VHD): the trailer checks may replace these and only these */
static const char *const filetype_generic[] = {
    FILETYPE_UNKNOWN, "application/zlib", "application/x-bzip2", "application/x-xz",
    "application/x-ima",
};

static const unsigned char filetype_ole_magic[8] = {
    0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1,
};

/* Root storage classes of Windows Installer files, as stored (the GUIDs
 * {000C1084-, {000C1086- and {000C1082-0000-0000-C000-000000000046}) */
#define FILETYPE_MSI_CLASS(b) {b, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, \
                               0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}
static const unsigned char filetype_msi_classes[][16] = {
    FILETYPE_MSI_CLASS(0x84),           /* package (.msi), merge module (.msm) */
    FILETYPE_MSI_CLASS(0x86),           /* patch (.msp) */
    FILETYPE_MSI_CLASS(0x82),           /* transform (.mst) */
};

/* filetype_le16 - a little-endian 16-bit integer */
static unsigned filetype_le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* filetype_le32 - a little-endian 32-bit integer */
static uint32_t filetype_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* filetype_be32 - a big-endian 32-bit integer */
static uint32_t filetype_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* filetype_read - len bytes at off from the buffer or the file; 0, or -1
 * when they are not there */
static int filetype_read(const FILETYPE_SRC *src, off_t off, void *dst, size_t len)
{
    size_t  done = 0;
    ssize_t n;

    if (off < 0 || (off_t)len > src->size || off > src->size - (off_t)len)
        return -1;
    if ((size_t)off + len <= src->len) {
        memcpy(dst, src->buf + off, len);
        return 0;
    }
    if (src->fd < 0)
        return -1;
    while (done < len) {
        n = pread(src->fd, (char *)dst + done, len - done, off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* filetype_msi - a compound file whose root storage has a Windows
 * Installer class (MS-CFB: the header gives the sector size and the first
 * directory sector; the root entry is the directory's first) */
static int filetype_msi(const FILETYPE_SRC *src)
{
    unsigned char hdr[0x34];
    unsigned char root[0x60];
    unsigned shift;
    uint32_t dir;
    size_t  i;

    if (filetype_read(src, 0, hdr, sizeof(hdr)) < 0
        || memcmp(hdr, filetype_ole_magic, sizeof(filetype_ole_magic)) != 0)
        return 0;
    shift = filetype_le16(hdr + 0x1E);
    dir = filetype_le32(hdr + 0x30);
    if ((shift != 9 && shift != 12) || dir > 0xFFFFFFF9)
        return 0;
    if (filetype_read(src, ((off_t)dir + 1) << shift, root, sizeof(root)) < 0
        || root[0x42] != 5)                     /* not the root storage */
        return 0;
    for (i = 0; i < sizeof(filetype_msi_classes) / sizeof(filetype_msi_classes[0]); i++)
        if (memcmp(root + 0x50, filetype_msi_classes[i], 16) == 0)
            return 1;
    return 0;
}

/* filetype_trailer - the type a 512-byte trailer gives, or NULL */
static const char *filetype_trailer(const FILETYPE_SRC *src)
{
    unsigned char t[512];

    if (src->size < (off_t)sizeof(t) || filetype_read(src, src->size - (off_t)sizeof(t), t, sizeof(t)) < 0)
        return NULL;
    /* UDIF: signature, version 4, header size 512 */
    if (memcmp(t, "koly", 4) == 0 && filetype_be32(t + 4) == 4 && filetype_be32(t + 8) == 512)
        return FILETYPE_UDIF;
    /* VHD footer: cookie, format version 1.0, disk type fixed, dynamic or
     * differencing */
    if (memcmp(t, "conectix", 8) == 0 && filetype_be32(t + 12) == 0x00010000
        && filetype_be32(t + 60) >= 2 && filetype_be32(t + 60) <= 4)
        return FILETYPE_VHD;
    return NULL;
}

/* filetype_is_generic - libmagic found no format of its own */
static int filetype_is_generic(const char *type)
{
    size_t  i;

    for (i = 0; i < sizeof(filetype_generic) / sizeof(filetype_generic[0]); i++)
        if (strcmp(type, filetype_generic[i]) == 0)
            return 1;
    return 0;
}

/* filetype_refine - libmagic's answer, or what the checks above find */
static const char *filetype_refine(const FILETYPE_SRC *src, const char *type)
{
    const char *found;

    if (filetype_msi(src))
        return FILETYPE_MSI;
    if (!filetype_is_generic(type))
        return type;
    if ((found = filetype_trailer(src)) != NULL)
        return found;
    if (src->len >= 8 && memcmp(src->buf, "vhdxfile", 8) == 0)
        return FILETYPE_VHDX;
    return type;
}

/* filetype_setparam - one libmagic bound; failure is only worth a warning */
static void filetype_setparam(magic_t magic, int param, size_t value, const char *name)
{
    if (magic_setparam(magic, param, &value) < 0)
        msg_warn("libmagic: cannot set %s to %zu: %s", name, value,
                 magic_error(magic) ? magic_error(magic) : strerror(errno));
}

static void filetype_marker_index(FILETYPE *ft);

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
    ft->text_fast = 0;
    filetype_marker_index(ft);
    ft->buf = NULL;
    return ft;
}

/*
 * Plain text without libmagic. libmagic spends most of its time on short
 * text: every soft-magic test runs, regular expressions included, only
 * to answer text/plain. Its other answers for text come from tests at the
 * start of the data (#!, @echo, REGEDIT4, [Shell], <html, %PDF, From:,
 * BEGIN:VCARD, {\rtf, ...) or from words searched in the first kilobytes
 * (<script, <?xml, #include, function, ...). So a part goes to libmagic
 * unless all of this holds, and is text/plain then:
 * - every byte is printable ASCII, tab, CR, LF or FF, or part of a valid
 *   UTF-8 sequence (no BOM, no NUL, no other control);
 * - the first character that is not white space is a letter or a digit,
 *   and the first line is not a header ("Name:" or "From ");
 * - no marker of a script, markup or program appears anywhere, in any
 *   case (filetype_markers).
 * Anything else, a single odd byte included, goes to libmagic as before.
 */
/* sorted by first byte, lower case (filetype_marker_index) */
static const char *const filetype_markers[] = {
    "#!", "#!/", "#define", "#import", "#include", "$env:", "%!", "%pdf", "+++ ",
    "--- ", "-encodedcommand", "<![cdata", "<!doctype", "<%", "<?", "<body",
    "<component", "<head", "<hta", "<html", "<job", "<meta", "<package", "<script",
    "<scriptlet", "<svg", "<xml", "@@ ", "@echo", "@if", "@rem", "@set", "[shell]",
    "\\begin", "\\document", "\\input", "activexobject", "begin", "begin:v",
    "bitsadmin", "certutil", "class ", "cmd", "const ", "createobject", "cscript",
    "def ", "diff ", "dim ", "document.", "end sub", "eval", "execute", "function",
    "getobject", "http-equiv", "iex", "import ", "invoke-", "javascript", "jscript",
    "module", "msgid", "mshta", "package ", "powershell", "program", "pwsh",
    "regedit", "registry", "regsvr", "require", "rundll", "shell", "sub ", "var ",
    "vbs", "vbscript", "window.", "wscript", "{\\rtf",
};

/* filetype_utf8 - length of a valid UTF-8 sequence (2 to 4 bytes) at p,
 * or 0 */
static size_t filetype_utf8(const unsigned char *p, size_t len)
{
    size_t  n, i;
    unsigned c = p[0];

    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (len < n)
        return 0;
    for (i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* overlong, surrogates, past U+10FFFF; and the BOM */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)
        || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)
        || (c == 0xEF && p[1] == 0xBB && p[2] == 0xBF))
        return 0;
    return n;
}

/* filetype_plain_bytes - all bytes are text (see above) */
static int filetype_plain_bytes(const unsigned char *p, size_t len)
{
    size_t  i = 0, n;

    while (i < len) {
        if ((p[i] >= 0x20 && p[i] < 0x7F) || p[i] == '\t' || p[i] == '\n'
            || p[i] == '\r' || p[i] == '\f') {
            i++;
        } else if (p[i] >= 0x80 && (n = filetype_utf8(p + i, len - i)) > 0) {
            i += n;
        } else {
            return 0;
        }
    }
    return 1;
}

/* filetype_plain_start - starts with a letter or digit, and the first
 * line is no header */
static int filetype_plain_start(const unsigned char *p, size_t len)
{
    size_t  i = 0, j;

    while (i < len && isspace(p[i]))
        i++;
    if (i == len || !isalnum(p[i]))
        return 0;
    if (len - i >= 5 && memcmp(p + i, "From ", 5) == 0)
        return 0;
    for (j = i; j < len && (isalnum(p[j]) || p[j] == '-' || p[j] == '_'); j++)
        ;
    return j == len || p[j] != ':';
}

/* filetype_marker_index - first[] of ft: where each byte's markers start
 * in filetype_markers (sorted by their first byte, see filetype_open) */
static void filetype_marker_index(FILETYPE *ft)
{
    size_t  k;
    unsigned char c;

    memset(ft->first, 0, sizeof(ft->first));
    for (k = sizeof(filetype_markers) / sizeof(filetype_markers[0]); k-- > 0;) {
        c = (unsigned char)filetype_markers[k][0];
        ft->first[c] = (unsigned char)(k + 1);
        ft->first[toupper(c)] = (unsigned char)(k + 1);
    }
}

/* filetype_has_marker - one of filetype_markers, in any case */
static int filetype_has_marker(const FILETYPE *ft, const unsigned char *p, size_t len)
{
    size_t  i, k, mlen;
    const char *m;
    int     c;

    for (i = 0; i < len; i++) {
        if (ft->first[p[i]] == 0)
            continue;
        c = tolower(p[i]);
        for (k = ft->first[p[i]] - 1U; k < sizeof(filetype_markers) / sizeof(filetype_markers[0])
             && (unsigned char)filetype_markers[k][0] == c; k++) {
            m = filetype_markers[k];
            mlen = strlen(m);
            if (len - i >= mlen && strncasecmp((const char *)p + i, m, mlen) == 0)
                return 1;
        }
    }
    return 0;
}

/* filetype_plain_text - text/plain for sure, without libmagic */
static int filetype_plain_text(const FILETYPE *ft, const FILETYPE_SRC *src)
{
    return src->len > 0 && src->size == (off_t)src->len
        && src->len <= FILETYPE_BYTES_MAX
        && filetype_plain_bytes(src->buf, src->len)
        && filetype_plain_start(src->buf, src->len)
        && !filetype_has_marker(ft, src->buf, src->len);
}

/* filetype_text_fast - allow the plain text path unless a banned type
 * could be one libmagic gives to text that the path calls text/plain */
void filetype_text_fast(FILETYPE *ft, const char *banned_types)
{
    static const char *const seen[] = {     /* the path never hides these */
        "text/x-shellscript", "text/x-msdos-batch", "text/x-ms-regedit", "text/x-ms-scf",
    };
    static const char *const probes[] = {   /* what libmagic gives text */
        "text/x-probe", "message/rfc822", "application/json", "application/javascript",
        "application/postscript", "application/pdf", "application/xml", "image/svg+xml",
    };
    char   *copy = mystrdup(banned_types ? banned_types : ""), *cp = copy, *word;
    size_t  i;
    int     risky = 0;

    while (!risky && (word = strsep(&cp, ", \t\r\n")) != NULL) {
        for (i = 0; *word && i < sizeof(seen) / sizeof(seen[0]); i++)
            if (strcasecmp(word, seen[i]) == 0)
                *word = 0;
        for (i = 0; *word && i < sizeof(probes) / sizeof(probes[0]); i++)
            if (fnmatch(word, probes[i], FNM_CASEFOLD) == 0
                || strncasecmp(word, "text/", 5) == 0 || strncasecmp(word, "message/", 8) == 0)
                risky = 1;
    }
    myfree(copy);
    ft->text_fast = !risky;
}

/* filetype_classify - libmagic on the first bytes, then the checks */
static const char *filetype_classify(FILETYPE *ft, const FILETYPE_SRC *src)
{
    const char *type;

    if (ft->text_fast && filetype_plain_text(ft, src))
        return FILETYPE_PLAIN;
    type = magic_buffer(ft->magic, src->buf,
                        src->len > FILETYPE_BYTES_MAX ? FILETYPE_BYTES_MAX : src->len);
    if (type == NULL || *type == 0) {
        msg_warn("libmagic: %s; assuming %s",
                 magic_error(ft->magic) ? magic_error(ft->magic) : "no type",
                 FILETYPE_UNKNOWN);
        type = FILETYPE_UNKNOWN;
    }
    return filetype_refine(src, type);
}

/* filetype_buffer - MIME type of bytes in memory */
const char *filetype_buffer(FILETYPE *ft, const void *buf, size_t len)
{
    FILETYPE_SRC src;

    src.buf = buf;
    src.len = len;
    src.fd = -1;
    src.size = (off_t)len;
    return filetype_classify(ft, &src);
}

/* filetype_fd - MIME type of a file, from offset 0, offset untouched */
const char *filetype_fd(FILETYPE *ft, int fd)
{
    FILETYPE_SRC src;
    struct stat st;
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
    src.buf = (const unsigned char *)ft->buf;
    src.len = len;
    src.fd = fd;
    src.size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)len
        ? st.st_size : (off_t)len;
    return filetype_classify(ft, &src);
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
