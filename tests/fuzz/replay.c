/*
 * replay - run a fuzz target over its seed corpus once, as a unit test
 *
 * Usage: test_fuzz_replay_NAME [FILE | DIR]...
 *
 * Linked with tests/fuzz/fuzz_NAME.c in place of libFuzzer, with the
 * normal compiler (and the sanitizers in the SAN=1 build). Without
 * arguments it reads every file of tests/fuzz/corpus/NAME, found through
 * $TOP (set by tests/run) or else the source tree it was built from, in
 * name order, and hands each to LLVMFuzzerTestOneInput() in a buffer of
 * exactly its size. A target that finds a broken invariant aborts, so a
 * crash names the file in the last "replay:" line of the log. The result
 * line is "test_fuzz_replay_NAME: N passed, N failed" (N files).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

static int replay_pass, replay_fail;

/* replay_file - one input */
static void replay_file(const char *path)
{
    FILE   *fp;
    VBUF   *buf = vbuf_alloc(0);
    char    chunk[65536];
    uint8_t *copy;
    size_t  n;

    if ((fp = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        replay_fail++;
        vbuf_free(buf);
        return;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        vbuf_append(buf, chunk, n);
    if (ferror(fp) || vbuf_overflowed(buf)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        replay_fail++;
        fclose(fp);
        vbuf_free(buf);
        return;
    }
    fclose(fp);
    /* exactly the input's size, so that reading past it is caught */
    copy = mymalloc(vbuf_len(buf) ? vbuf_len(buf) : 1);
    memcpy(copy, vbuf_str(buf), vbuf_len(buf));
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, vbuf_len(buf));
    fflush(stderr);
    LLVMFuzzerTestOneInput(copy, vbuf_len(buf));
    myfree(copy);
    vbuf_free(buf);
    replay_pass++;
}

/* replay_name_cmp - scandir order */
static int replay_name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* replay_path - every regular file in dir (name order), or the file */
static void replay_path(const char *path)
{
    struct dirent **list;
    struct stat st;
    VBUF   *file;
    int     n, i, before = replay_pass + replay_fail;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        replay_fail++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    if ((n = scandir(path, &list, NULL, replay_name_cmp)) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        replay_fail++;
        return;
    }
    file = vbuf_alloc(0);
    for (i = 0; i < n; i++) {
        vbuf_sprintf(file, "%s/%s", path, list[i]->d_name);
        if (list[i]->d_name[0] != '.' && stat(vbuf_str(file), &st) == 0 && S_ISREG(st.st_mode))
            replay_file(vbuf_str(file));
        free(list[i]);
    }
    free(list);
    vbuf_free(file);
    if (replay_pass + replay_fail == before) {
        fprintf(stderr, "replay: no input in %s\n", path);
        replay_fail++;
    }
}

int     main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *name = strncmp(base, "test_fuzz_replay_", 17) == 0 ? base + 17 : base;
    const char *top = getenv("TOP");
    VBUF   *dir = vbuf_alloc(0);
    int     i;

    LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (i = 1; i < argc; i++)
            replay_path(argv[i]);
    } else {
        vbuf_sprintf(dir, "%s/tests/fuzz/corpus/%s", top && *top ? top : FUZZ_TOP, name);
        replay_path(vbuf_str(dir));
    }
    vbuf_free(dir);
    printf("%s: %d passed, %d failed\n", base, replay_pass, replay_fail);
    fflush(stdout);
    exit(replay_fail ? 1 : 0);      /* exit: the cleanup hooks, LeakSanitizer */
}
