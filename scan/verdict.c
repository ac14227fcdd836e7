/*
 * verdict - verdict and action names, the *_action settings (see verdict.h)
 *
 * The severity order (docs/DESIGN.md, Contracts) is the order of the VERDICT enum, so
 * verdict_worse() is a comparison. The *_action settings are strings in
 * params.c; action_check() validates them all once at start-up, after
 * which action_for() cannot meet an unknown name (and panics if it does).
 */
#include <string.h>
#include <strings.h>

#include "scan/verdict.h"
#include "lib/msg.h"
#include "lib/params.h"

const char *const verdict_names[VERDICT_COUNT] = {
    "clean", "unchecked", "rejected", "banned", "infected", "error",
};

const char *const verdict_titles[VERDICT_COUNT] = {
    "Clean", "Unchecked", "Rejected", "Banned", "Infected", "Error",
};

const char *const action_names[ACTION_COUNT] = {
    "pass", "tag", "reject", "discard", "quarantine", "defer",
};

/* The setting behind each verdict's action; oversize is separate. */
typedef struct ACTION_SETTING {
    const char *name;       /* setting name, for error texts */
    char      **value;      /* the var_* string */
} ACTION_SETTING;

static const ACTION_SETTING action_settings[VERDICT_COUNT] = {
    [VERDICT_CLEAN] = {NULL, NULL},
    [VERDICT_UNCHECKED] = {"unchecked_action", &var_unchecked_action},
    [VERDICT_REJECTED] = {"rejected_action", &var_rejected_action},
    [VERDICT_BANNED] = {"banned_action", &var_banned_action},
    [VERDICT_INFECTED] = {"virus_action", &var_virus_action},
    [VERDICT_ERROR] = {"error_action", &var_error_action},
};

static const ACTION_SETTING oversize_setting = {"oversize_action", &var_oversize_action};

/* action_parse - name to ACTION; -1 when unknown */
int action_parse(const char *name, ACTION *action)
{
    int i;

    if (name == NULL)
        return -1;
    for (i = 0; i < ACTION_COUNT; i++) {
        if (strcasecmp(name, action_names[i]) == 0) {
            *action = (ACTION)i;
            return 0;
        }
    }
    return -1;
}

/* action_check_one - validate one setting; -1 with why in err */
static int action_check_one(const ACTION_SETTING *set, VBUF *err)
{
    const char *value = *set->value ? *set->value : "";
    char    printable[128];
    ACTION  action;

    if (action_parse(value, &action) == 0)
        return 0;
    vbuf_sprintf(err, "%s: unknown action \"%s\" (use pass, tag, reject, discard, "
                 "quarantine or defer)", set->name,
                 msg_printable(printable, sizeof(printable), value));
    return -1;
}

/* action_check - validate every *_action setting; -1 with why in err */
int action_check(VBUF *err)
{
    int v;

    for (v = 0; v < VERDICT_COUNT; v++)
        if (action_settings[v].value && action_check_one(action_settings + v, err) < 0)
            return -1;
    return action_check_one(&oversize_setting, err);
}

/* action_lookup - the action of a validated setting */
static ACTION action_lookup(const ACTION_SETTING *set)
{
    ACTION  action;

    if (action_parse(*set->value, &action) < 0)
        msg_panic("%s: unknown action \"%s\" (action_check not called?)",
                  set->name, *set->value ? *set->value : "");
    return action;
}

/* action_for - the configured action for a verdict */
ACTION action_for(VERDICT verdict)
{
    if ((int)verdict < 0 || verdict >= VERDICT_COUNT)
        msg_panic("action_for: bad verdict %d", (int)verdict);
    if (verdict == VERDICT_CLEAN)
        return ACTION_PASS;
    return action_lookup(action_settings + verdict);
}

/* action_for_oversize - the action for a message over message_size_limit */
ACTION action_for_oversize(void)
{
    return action_lookup(&oversize_setting);
}

/* verdict_worse - the more severe of two */
VERDICT verdict_worse(VERDICT a, VERDICT b)
{
    return a > b ? a : b;
}
