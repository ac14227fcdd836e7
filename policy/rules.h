/*
 * rules - the rules file of postsift-policy (policy_rules)
 *
 * One rule per line; a line that starts with white space continues the
 * one before; '#' starts a comment line; blank lines are ignored:
 *
 *     NAME: CONDITION... => ACTION
 *
 * NAME is letters, digits, '_', '-', '.', unique in the file (it names
 * the rule in the logs and its rate counters). The conditions (cond.h)
 * must all hold; none at all matches every request. ACTION is one of
 *
 *     DUNNO, OK, REJECT [text], DEFER [text], DEFER_IF_PERMIT [text],
 *     DEFER_IF_REJECT [text], HOLD [text], DISCARD [text], WARN text,
 *     INFO text, REDIRECT address, 4NN text, 5NN text
 *                              the answer (access(5))
 *     filter TRANSPORT:DEST    FILTER TRANSPORT:DEST
 *     signed_address [required|optional]
 *                              the recipient must be a good signed address
 *                              (sigaddr.h); unsigned ones are refused
 *                              (required) or let through (optional)
 *     rate KEY/N/WINDOW[/ACTION]
 *                              at most N messages per WINDOW (s, m, h, d)
 *                              for each value of the attribute KEY; over
 *                              it, ACTION (DEFER_IF_PERMIT by default)
 *     command PATH ATTR...     run PATH (no shell) with the values of the
 *                              ATTRs (1 to 8) as its arguments: exit 0
 *                              goes on, 1 refuses, else DEFER_IF_PERMIT
 *                              (command.h)
 *
 * Rules are tried in order and the first answer wins. signed_address,
 * rate and command are checks: when they refuse, that is the answer; when they let
 * the request through, the rules after them are tried. No answer: DUNNO.
 * Any error names FILE, line N and the whole file is refused.
 */
#ifndef POSTSIFT_POLICY_RULES_H
#define POSTSIFT_POLICY_RULES_H

#include "lib/vbuf.h"
#include "policy/cond.h"

#define RULES_MAX_LINE  8192            /* a rule with its continuations */
#define RULES_MAX_CONDS 32

typedef enum RULE_KIND {
    RULE_ANSWER,                        /* a fixed answer (FILTER too) */
    RULE_SIGNED,                        /* signed_address */
    RULE_RATE,                          /* rate */
    RULE_COMMAND,                       /* command */
} RULE_KIND;

typedef struct RULE {
    char   *name;
    int     line;
    COND   *conds;
    int     ncond;
    RULE_KIND kind;
    char   *answer;                     /* ANSWER; RATE: when over */
    int     required;                   /* SIGNED: unsigned is refused */
    char   *rate_attr;                  /* RATE: KEY */
    long    rate_limit;                 /* RATE: N */
    long    rate_window;                /* RATE: seconds */
    char   *cmd_path;                   /* COMMAND: the program */
    char  **cmd_attrs;                  /* COMMAND: its arguments' attributes */
    int     cmd_nattr;
} RULE;

typedef struct RULES {
    char   *path;
    RULE   *rules;
    int     count;
    int     uses_signed;                /* some rule is signed_address */
    int     uses_rate;                  /* some rule is rate */
    int     uses_command;               /* some rule is command */
} RULES;

/* rules_load - read and check a rules file; NULL with "FILE, line N: why" */
RULES  *rules_load(const char *path, VBUF *err);

/* rules_parse_line - one rule (for tests); -1 with why in err */
int     rules_parse_line(RULE *rule, const char *text, VBUF *err);

/* rules_match - rule's conditions hold for req */
int     rules_match(const RULE *rule, const REQUEST *req, VBUF *scratch);

void    rules_free(RULES *rules);
void    rules_rule_free(RULE *rule);

#endif
