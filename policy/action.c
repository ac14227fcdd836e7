/*
 * action - the answers a policy server may give (action.h)
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/vbuf.h"
#include "policy/action.h"

#define TEXT_NONE     0                 /* nothing may follow the verb */
#define TEXT_OPTIONAL 1
#define TEXT_REQUIRED 2

 /*
  * The verbs postsift-policy answers with (access(5)): what may follow.
  */
typedef struct ACTION_VERB {
    const char *name;
    int     text;
} ACTION_VERB;

static const ACTION_VERB action_verbs[] = {
    {"OK", TEXT_NONE},
    {"DUNNO", TEXT_NONE},
    {"REJECT", TEXT_OPTIONAL},
    {"DEFER", TEXT_OPTIONAL},
    {"DEFER_IF_PERMIT", TEXT_OPTIONAL},
    {"DEFER_IF_REJECT", TEXT_OPTIONAL},
    {"HOLD", TEXT_OPTIONAL},
    {"DISCARD", TEXT_OPTIONAL},
    {"WARN", TEXT_REQUIRED},
    {"INFO", TEXT_REQUIRED},
    {"FILTER", TEXT_REQUIRED},          /* transport:destination */
    {"REDIRECT", TEXT_REQUIRED},        /* user@domain */
    {NULL, 0},
};

/* action_text_ok - printable ASCII, one line */
static int action_text_ok(const char *text)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *)text; *cp; cp++)
        if (*cp < 0x20 || *cp >= 0x7f)
            return 0;
    return 1;
}

/* action_numeric - "4NN text" or "5NN text": Postfix's own reply code */
static int action_numeric(const char *verb, size_t len)
{
    return len == 3 && (verb[0] == '4' || verb[0] == '5')
        && isdigit((unsigned char)verb[1]) && isdigit((unsigned char)verb[2]);
}

/* action_filter_ok - FILTER's transport:destination, one word */
static int action_filter_ok(const char *arg)
{
    const char *colon = strchr(arg, ':');

    return colon && colon > arg && colon[1] != 0 && strpbrk(arg, " \t") == NULL;
}

/* action_parse - see action.h */
int     action_parse(const char *text, VBUF *out, VBUF *err)
{
    const ACTION_VERB *av;
    const char *arg;
    size_t  len;
    int     i;

    while (*text == ' ' || *text == '\t')
        text++;
    len = strcspn(text, " \t");
    for (arg = text + len; *arg == ' ' || *arg == '\t'; arg++)
         /* void */ ;
    if (!action_text_ok(text) || strlen(text) > ACTION_MAX_TEXT) {
        vbuf_sprintf(err, "action is not printable ASCII of at most %d bytes", ACTION_MAX_TEXT);
        return -1;
    }
    for (av = action_verbs; av->name; av++)
        if (strlen(av->name) == len && strncasecmp(av->name, text, len) == 0)
            break;
    if (av->name == NULL && !action_numeric(text, len)) {
        vbuf_sprintf(err, "unknown action \"%.*s\"", (int)(len > 64 ? 64 : len), text);
        return -1;
    }
    if (av->name && av->text == TEXT_NONE && *arg) {
        vbuf_sprintf(err, "action %s takes no text", av->name);
        return -1;
    }
    if ((av->name == NULL || av->text == TEXT_REQUIRED) && *arg == 0) {
        vbuf_sprintf(err, "action %.*s needs an argument", (int)len, text);
        return -1;
    }
    if (av->name && strcmp(av->name, "FILTER") == 0 && !action_filter_ok(arg)) {
        vbuf_sprintf(err, "filter needs transport:destination, as in smtp:[127.0.0.1]:10025");
        return -1;
    }
    vbuf_reset(out);
    for (i = 0; i < (int)len; i++)
        vbuf_addch(out, toupper((unsigned char)text[i]));
    if (*arg)
        vbuf_sprintf_append(out, " %s", arg);
    return 0;
}
