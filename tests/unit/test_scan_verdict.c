/*
 * test_scan_verdict - verdict and action names, *_action settings,
 * severity order
 */
#include "scan/verdict.h"
#include "lib/config.h"
#include "lib/params.h"
#include "tests/unit/unittest.h"

/* set - apply name=value as -o would, and finish */
static int set(const char *nameval)
{
    VBUF   *err = vbuf_alloc(1024);
    int     ret;

    ret = config_override(nameval, err) == 0 && config_finish(err) == 0 ? 0 : -1;
    UT_CHECK(ret == 0, "set %s: %s", nameval, vbuf_str(err));
    vbuf_free(err);
    return ret;
}

/* check_errors - one bad setting at a time, with the exact error text */
static void check_errors(void)
{
    static const struct {
        const char *nameval;
        const char *want;
    } table[] = {
        {"virus_action=quarantin",
         "virus_action: unknown action \"quarantin\" (use pass, tag, reject, discard, quarantine or defer)"},
        {"banned_action=bounce",
         "banned_action: unknown action \"bounce\" (use pass, tag, reject, discard, quarantine or defer)"},
        {"unchecked_action=",
         "unchecked_action: unknown action \"\" (use pass, tag, reject, discard, quarantine or defer)"},
        {"error_action=tempfail",
         "error_action: unknown action \"tempfail\" (use pass, tag, reject, discard, quarantine or defer)"},
        {"oversize_action=skip",
         "oversize_action: unknown action \"skip\" (use pass, tag, reject, discard, quarantine or defer)"},
        {"rejected_action=refuse",
         "rejected_action: unknown action \"refuse\" (use pass, tag, reject, discard, quarantine or defer)"},
    };
    VBUF   *err = vbuf_alloc(1024);
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        config_init();
        vbuf_reset(err);
        if (set(table[i].nameval) < 0)
            continue;
        UT_EQ_INT(action_check(err), -1, table[i].nameval);
        UT_EQ_STR(vbuf_str(err), table[i].want, table[i].nameval);
    }
    vbuf_free(err);
}

int     main(void)
{
    static const ACTION defaults[VERDICT_COUNT] = {
        [VERDICT_CLEAN] = ACTION_PASS, [VERDICT_UNCHECKED] = ACTION_TAG,
        [VERDICT_REJECTED] = ACTION_REJECT, [VERDICT_BANNED] = ACTION_REJECT,
        [VERDICT_INFECTED] = ACTION_QUARANTINE, [VERDICT_ERROR] = ACTION_DEFER,
    };
    static const ACTION overridden[VERDICT_COUNT] = {
        [VERDICT_CLEAN] = ACTION_PASS, [VERDICT_UNCHECKED] = ACTION_REJECT,
        [VERDICT_REJECTED] = ACTION_DISCARD, [VERDICT_BANNED] = ACTION_QUARANTINE,
        [VERDICT_INFECTED] = ACTION_DISCARD, [VERDICT_ERROR] = ACTION_TAG,
    };
    static const char *const names[] = {"pass", "tag", "reject", "discard", "quarantine", "defer"};
    VBUF   *err = vbuf_alloc(1024);
    ACTION  action;
    int     v, w;

    UT_BEGIN("test_scan_verdict");
    msg_init("test_scan_verdict", MSG_STDERR);
    config_init();

    /* Names. */
    for (v = 0; v < ACTION_COUNT; v++) {
        UT_EQ_STR(action_names[v], names[v], "action name");
        UT_EQ_INT(action_parse(names[v], &action), 0, names[v]);
        UT_EQ_INT(action, v, names[v]);
    }
    UT_EQ_INT(action_parse("QUARANTINE", &action), 0, "case-insensitive");
    UT_EQ_INT(action, ACTION_QUARANTINE, "QUARANTINE");
    UT_EQ_INT(action_parse("quarantin", &action), -1, "unknown");
    UT_EQ_INT(action_parse("", &action), -1, "empty");
    UT_EQ_INT(action_parse(NULL, &action), -1, "null");
    UT_EQ_STR(verdict_names[VERDICT_CLEAN], "clean", "verdict name");
    UT_EQ_STR(verdict_names[VERDICT_INFECTED], "infected", "verdict name");
    UT_EQ_STR(verdict_names[VERDICT_ERROR], "error", "verdict name");
    UT_EQ_STR(verdict_titles[VERDICT_UNCHECKED], "Unchecked", "verdict title");
    UT_EQ_STR(verdict_titles[VERDICT_BANNED], "Banned", "verdict title");

    /* Defaults (docs/DESIGN.md, Contracts). */
    UT_EQ_INT(action_check(err), 0, "defaults are valid");
    for (v = 0; v < VERDICT_COUNT; v++)
        UT_EQ_INT(action_for((VERDICT)v), defaults[v], verdict_names[v]);
    UT_EQ_INT(action_for_oversize(), ACTION_TAG, "oversize default");

    /* Overridden. */
    set("virus_action=discard");
    set("banned_action=quarantine");
    set("unchecked_action=reject");
    set("error_action=tag");
    set("rejected_action=discard");
    set("oversize_action=defer");
    UT_EQ_INT(action_check(err), 0, "overrides are valid");
    for (v = 0; v < VERDICT_COUNT; v++)
        UT_EQ_INT(action_for((VERDICT)v), overridden[v], verdict_names[v]);
    UT_EQ_INT(action_for_oversize(), ACTION_DEFER, "oversize overridden");

    check_errors();

    /* Severity: error > infected > banned > rejected > unchecked > clean. */
    for (v = 0; v < VERDICT_COUNT; v++)
        for (w = 0; w < VERDICT_COUNT; w++)
            UT_EQ_INT(verdict_worse((VERDICT)v, (VERDICT)w), v > w ? v : w, "verdict_worse");
    UT_EQ_INT(verdict_worse(VERDICT_INFECTED, VERDICT_ERROR), VERDICT_ERROR, "error wins");
    UT_EQ_INT(verdict_worse(VERDICT_BANNED, VERDICT_INFECTED), VERDICT_INFECTED, "infected > banned");
    UT_EQ_INT(verdict_worse(VERDICT_BANNED, VERDICT_REJECTED), VERDICT_BANNED, "banned > rejected");
    UT_EQ_INT(verdict_worse(VERDICT_UNCHECKED, VERDICT_REJECTED), VERDICT_REJECTED, "rejected > unchecked");
    UT_EQ_INT(verdict_worse(VERDICT_CLEAN, VERDICT_UNCHECKED), VERDICT_UNCHECKED, "unchecked > clean");

    vbuf_free(err);
    return ut_done();
}
