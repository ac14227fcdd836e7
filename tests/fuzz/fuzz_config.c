/*
 * fuzz_config - postsift.conf and -o name=value (lib/config.c)
 *
 * Input: a configuration file; when the input holds a NUL byte, what
 * follows the last one is -o overrides, one per line. The settings are
 * reset (config_init), the file loaded, the overrides applied and
 * everything expanded and converted (config_finish): $name, ${name},
 * $(name), $$, continuation lines, times, sizes, booleans, bounds.
 *
 * Check: when all of that succeeds, what config_print() says (as
 * "postsift-filter -n" prints it) is itself a configuration file that
 * loads and finishes without error and prints the same again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/config.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

static char conf_path[4096], print_path[4096];
static VBUF *first, *second, *line;

/* config_free - at exit */
static void config_free(void)
{
    vbuf_free(first);
    vbuf_free(second);
    vbuf_free(line);
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("config");
    fuzz_path(conf_path, sizeof(conf_path), "fuzz.conf");
    fuzz_path(print_path, sizeof(print_path), "printed.conf");
    first = vbuf_alloc(0);
    second = vbuf_alloc(0);
    line = vbuf_alloc(0);
    fuzz_at_exit(config_free);
    return 0;
}

/* write_file - path holds exactly len bytes */
static void write_file(const char *path, const void *data, size_t len)
{
    FILE   *fp = fopen(path, "wb");

    if (fp == NULL || (len && fwrite(data, 1, len, fp) != len) || fclose(fp) != 0)
        fuzz_fail("write %s: %s", path, strerror(errno));
}

/* print_to - config_print(fp, 0) into out, through a file */
static void print_to(VBUF *out)
{
    char    buf[8192];
    size_t  n;
    FILE   *fp = fopen(print_path, "w+");

    if (fp == NULL)
        fuzz_fail("open %s: %s", print_path, strerror(errno));
    config_print(fp, 0);
    rewind(fp);
    vbuf_reset(out);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        vbuf_append(out, buf, n);
    fclose(fp);
}

/* LLVMFuzzerTestOneInput - load, override, finish; print and reload */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size, *nul, *nl;
    VBUF   *err = vbuf_alloc(4096);
    size_t  flen = size;
    int     ok;

    nul = size ? memrchr(p, 0, size) : NULL;
    if (nul)
        flen = (size_t)(nul - p);
    write_file(conf_path, p, flen);
    config_init();
    ok = config_load(conf_path, 1, err) == 0;
    for (p = nul ? nul + 1 : end; ok && p < end; p = nl ? nl + 1 : end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        vbuf_reset(line);
        vbuf_append(line, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
        ok = config_override(vbuf_str(line), err) == 0;
    }
    if (ok && config_finish(err) == 0) {
        print_to(first);
        write_file(conf_path, vbuf_str(first), vbuf_len(first));
        config_init();
        if (config_load(conf_path, 1, err) < 0 || config_finish(err) < 0)
            fuzz_fail("config_print's output does not load: %s", vbuf_str(err));
        print_to(second);
        if (vbuf_len(first) != vbuf_len(second)
            || memcmp(vbuf_str(first), vbuf_str(second), vbuf_len(first)) != 0)
            fuzz_fail("config_print's output prints differently once loaded");
    }
    vbuf_free(err);
    return 0;
}
