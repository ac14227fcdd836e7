/*
 * command - the "command PATH ATTR..." rule (command.h)
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spawn.h"
#include "lib/vbuf.h"
#include "policy/attr.h"
#include "policy/command.h"
#include "policy/request.h"

typedef struct COMMAND_SLOT {
    unsigned char key[SHA256_DIGEST_LENGTH];
    time_t  expires;                    /* 0: empty */
    int     result;                     /* COMMAND_PASS or COMMAND_REJECT */
    char    answer[COMMAND_TEXT_MAX + 16];
} COMMAND_SLOT;

struct COMMAND_CACHE {
    COMMAND_SLOT slots[COMMAND_CACHE_SLOTS];
};

static char command_path_env[] = "PATH=/usr/bin:/bin";
static char *const command_env[] = {command_path_env, NULL};

/* command_cache_create - an empty cache */
COMMAND_CACHE *command_cache_create(void)
{
    return mycalloc(1, sizeof(COMMAND_CACHE));
}

/* command_cache_free - release */
void    command_cache_free(COMMAND_CACHE *cache)
{
    myfree(cache);
}

/* command_check - see command.h */
int     command_check(const char *path, VBUF *err)
{
    struct stat st;

    if (path[0] != '/')
        vbuf_sprintf(err, "command needs an absolute path, not \"%s\"", path);
    else if (stat(path, &st) < 0)
        vbuf_sprintf(err, "command %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        vbuf_sprintf(err, "command %s is not a regular file", path);
    else if (access(path, X_OK) < 0)
        vbuf_sprintf(err, "command %s: not executable: %s", path, strerror(errno));
    else
        return 0;
    return -1;
}

/* command_reject - "REJECT text" from the first line of out, when sane */
static void command_reject(const VBUF *out, VBUF *answer)
{
    const char *text = vbuf_str(out);
    size_t  len = strcspn(text, "\n"), i;

    if (len > 0 && text[len - 1] == '\r')
        len--;
    vbuf_strcpy(answer, "REJECT");
    if (len == 0 || len > COMMAND_TEXT_MAX || text[0] == ' ')
        return;
    for (i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
            return;
    if (isdigit((unsigned char)text[0]) && text[0] != '5')
        return;                         /* a 4.x.x code would be a lie */
    vbuf_addch(answer, ' ');
    vbuf_append(answer, text, len);
}

/* command_run - run it now: COMMAND_* */
static int command_run(char **argv, VBUF *answer, VBUF *detail)
{
    SPAWN_REQUEST sreq;
    SPAWN_RESULT res;
    int     result;

    spawn_request_init(&sreq);
    sreq.argv = argv;
    sreq.envp = command_env;
    sreq.output_max = 4096;
    sreq.timeout = (double)var_policy_command_timeout;
    spawn_result_init(&res);
    spawn_run(&sreq, &res);
    vbuf_reset(detail);
    spawn_describe(&sreq, &res, detail);
    if (res.status == SPAWN_EXITED && res.code == 0) {
        result = COMMAND_PASS;
    } else if (res.status == SPAWN_EXITED && res.code == 1) {
        command_reject(res.out, answer);
        result = COMMAND_REJECT;
    } else {
        result = COMMAND_FAIL;
    }
    spawn_result_free(&res);
    return result;
}

/* command_key - the SHA-256 of argv, each argument with its NUL */
static void command_key(char **argv, unsigned char *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int     i, ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (i = 0; ok && argv[i]; i++)
        ok = EVP_DigestUpdate(ctx, argv[i], strlen(argv[i]) + 1) == 1;
    if (!ok || EVP_DigestFinal_ex(ctx, md, NULL) != 1)
        msg_fatal("command: SHA-256 failed");
    EVP_MD_CTX_free(ctx);
}

/* command_decide - see command.h */
int     command_decide(COMMAND_CACHE *cache, const char *path, char *const *attrs, int nattr,
                       const REQUEST *req, time_t now, VBUF *answer, VBUF *detail)
{
    char   *argv[COMMAND_MAX_ATTRS + 2];
    VBUF   *scratch[COMMAND_MAX_ATTRS];
    unsigned char md[SHA256_DIGEST_LENGTH];
    COMMAND_SLOT *slot;
    int     i, result;

    argv[0] = (char *)(uintptr_t)path;   /* execve does not write argv */
    for (i = 0; i < nattr && i < COMMAND_MAX_ATTRS; i++) {
        scratch[i] = vbuf_alloc(REQUEST_MAX_VALUE + 64);
        argv[i + 1] = (char *)(uintptr_t)attr_value(req, attrs[i], scratch[i]);
    }
    argv[i + 1] = NULL;
    command_key(argv, md);
    slot = &cache->slots[(md[0] | md[1] << 8) % COMMAND_CACHE_SLOTS];
    if (slot->expires > now && memcmp(slot->key, md, sizeof(md)) == 0) {
        result = slot->result;
        vbuf_strcpy(answer, slot->answer);
        vbuf_sprintf(detail, "cached: %s", result == COMMAND_PASS ? "exit 0" : "exit 1");
    } else if ((result = command_run(argv, answer, detail)) != COMMAND_FAIL
               && var_policy_command_cache_ttl > 0) {
        memcpy(slot->key, md, sizeof(md));
        slot->expires = now + var_policy_command_cache_ttl;
        slot->result = result;
        snprintf(slot->answer, sizeof(slot->answer), "%s",
                 result == COMMAND_REJECT ? vbuf_str(answer) : "");
    }
    for (i = 0; i < nattr && i < COMMAND_MAX_ATTRS; i++)
        vbuf_free(scratch[i]);
    return result;
}
