/*
 * rules - the rules file of postsift-policy (rules.h)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/action.h"
#include "policy/attr.h"
#include "policy/command.h"
#include "policy/cond.h"
#include "policy/rate.h"
#include "policy/rules.h"

/* rules_rule_free - release what a rule holds */
void    rules_rule_free(RULE *rule)
{
    int     i;

    for (i = 0; i < rule->ncond; i++)
        cond_free(&rule->conds[i]);
    myfree(rule->conds);
    myfree(rule->name);
    myfree(rule->answer);
    myfree(rule->rate_attr);
    myfree(rule->cmd_path);
    for (i = 0; i < rule->cmd_nattr; i++)
        myfree(rule->cmd_attrs[i]);
    myfree(rule->cmd_attrs);
    memset(rule, 0, sizeof(*rule));
}

/* rules_free - release a rule set */
void    rules_free(RULES *rules)
{
    int     i;

    if (rules == NULL)
        return;
    for (i = 0; i < rules->count; i++)
        rules_rule_free(&rules->rules[i]);
    myfree(rules->rules);
    myfree(rules->path);
    myfree(rules);
}

/* rules_signed - "signed_address [required|optional]" */
static int rules_signed(RULE *rule, const char *arg, VBUF *err)
{
    rule->kind = RULE_SIGNED;
    if (*arg == 0 || strcmp(arg, "required") == 0)
        rule->required = 1;
    else if (strcmp(arg, "optional") == 0)
        rule->required = 0;
    else {
        vbuf_sprintf(err, "signed_address takes required or optional, not \"%s\"", arg);
        return -1;
    }
    return 0;
}

/* rules_rate - "rate KEY/N/WINDOW[/ACTION]" */
static int rules_rate(RULE *rule, const char *arg, VBUF *err)
{
    char   *copy = mystrdup(arg), *fields[3], *rest, *end, *cp = copy;
    VBUF   *answer = vbuf_alloc(ACTION_MAX_TEXT + 64);
    int     i, status = -1;

    rule->kind = RULE_RATE;
    for (i = 0; i < 3; i++) {
        fields[i] = cp;
        if (cp && (cp = strchr(cp, '/')) != NULL)
            *cp++ = 0;
    }
    rest = cp;
    if (fields[2] == NULL || strpbrk(fields[0], " \t") != NULL)
        vbuf_sprintf(err, "rate needs KEY/N/WINDOW[/ACTION]");
    else if (attr_flags(fields[0]) < 0)
        vbuf_sprintf(err, "rate: unknown attribute \"%s\"", fields[0]);
    else if ((rule->rate_limit = strtol(fields[1], &end, 10)) <= 0 || *end || !isdigit((unsigned char)*fields[1]))
        vbuf_sprintf(err, "rate: N must be a number above 0, not \"%s\"", fields[1]);
    else if ((rule->rate_window = rate_parse_window(fields[2])) < 0)
        vbuf_sprintf(err, "rate: bad window \"%s\" (a number with s, m, h or d, at most a year)",
                     fields[2]);
    else if (action_parse(rest && *rest ? rest : "DEFER_IF_PERMIT", answer, err) == 0) {
        rule->rate_attr = mystrdup(fields[0]);
        rule->answer = mystrdup(vbuf_str(answer));
        status = 0;
    }
    vbuf_free(answer);
    myfree(copy);
    return status;
}

/* rules_command - "command PATH ATTR..." */
static int rules_command(RULE *rule, const char *arg, VBUF *err)
{
    const char *cp = arg;
    size_t  len;
    char   *word;

    rule->kind = RULE_COMMAND;
    for (;;) {
        while (*cp == ' ' || *cp == '\t')
            cp++;
        if (*cp == 0)
            break;
        len = strcspn(cp, " \t");
        word = mystrndup(cp, len);
        cp += len;
        if (rule->cmd_path == NULL) {
            rule->cmd_path = word;
            if (command_check(word, err) < 0)
                return -1;
            continue;
        }
        if (rule->cmd_nattr >= COMMAND_MAX_ATTRS || attr_flags(word) < 0) {
            if (rule->cmd_nattr >= COMMAND_MAX_ATTRS)
                vbuf_sprintf(err, "command takes at most %d attributes", COMMAND_MAX_ATTRS);
            else
                vbuf_sprintf(err, "command: unknown attribute \"%s\"", word);
            myfree(word);
            return -1;
        }
        rule->cmd_attrs = myrealloc(rule->cmd_attrs, (size_t)(rule->cmd_nattr + 1) * sizeof(char *));
        rule->cmd_attrs[rule->cmd_nattr++] = word;
    }
    if (rule->cmd_nattr == 0) {
        vbuf_sprintf(err, "command needs PATH ATTR... (the attributes passed as arguments)");
        return -1;
    }
    return 0;
}

/* rules_action - what follows "=>" */
static int rules_action(RULE *rule, const char *text, VBUF *err)
{
    size_t  len = strcspn(text, " \t");
    const char *arg = text + len;
    VBUF   *answer;
    int     status;

    while (*arg == ' ' || *arg == '\t')
        arg++;
    if (len == 0) {
        vbuf_sprintf(err, "no action after =>");
        return -1;
    }
    if (len == 14 && strncmp(text, "signed_address", len) == 0)
        return rules_signed(rule, arg, err);
    if (len == 4 && strncmp(text, "rate", len) == 0)
        return rules_rate(rule, arg, err);
    if (len == 7 && strncmp(text, "command", len) == 0)
        return rules_command(rule, arg, err);
    rule->kind = RULE_ANSWER;
    answer = vbuf_alloc(ACTION_MAX_TEXT + 64);
    if ((status = action_parse(text, answer, err)) == 0)
        rule->answer = mystrdup(vbuf_str(answer));
    vbuf_free(answer);
    return status;
}

/* rules_name - "NAME:" at the start of text; the position after it, or
 * NULL with why in err */
static const char *rules_name(RULE *rule, const char *text, VBUF *err)
{
    const char *cp = text;

    while (isalnum((unsigned char)*cp) || *cp == '_' || *cp == '-' || *cp == '.')
        cp++;
    if (cp == text || *cp != ':') {
        vbuf_sprintf(err, "a rule starts with NAME: (letters, digits, _ - .)");
        return NULL;
    }
    rule->name = mystrndup(text, (size_t)(cp - text));
    return cp + 1;
}

/* rules_arrow - "=>" at cp, as a word of its own */
static int rules_arrow(const char *cp)
{
    return cp[0] == '=' && cp[1] == '>' && (cp[2] == 0 || isspace((unsigned char)cp[2]));
}

/* rules_parse_line - see rules.h */
int     rules_parse_line(RULE *rule, const char *text, VBUF *err)
{
    const char *cp;

    memset(rule, 0, sizeof(*rule));
    if ((cp = rules_name(rule, text, err)) == NULL)
        return -1;
    for (;;) {
        while (isspace((unsigned char)*cp))
            cp++;
        if (*cp == 0) {
            vbuf_sprintf(err, "rule %s has no \"=> ACTION\"", rule->name);
            return -1;
        }
        if (rules_arrow(cp))
            break;
        if (rule->ncond >= RULES_MAX_CONDS) {
            vbuf_sprintf(err, "rule %s has more than %d conditions", rule->name, RULES_MAX_CONDS);
            return -1;
        }
        rule->conds = myrealloc(rule->conds, (size_t)(rule->ncond + 1) * sizeof(COND));
        if (cond_parse(&rule->conds[rule->ncond], &cp, err) < 0) {
            cond_free(&rule->conds[rule->ncond]);
            return -1;
        }
        rule->ncond++;
    }
    for (cp += 2; isspace((unsigned char)*cp); cp++)
         /* void */ ;
    return rules_action(rule, cp, err);
}

/* rules_match - see rules.h */
int     rules_match(const RULE *rule, const REQUEST *req, VBUF *scratch)
{
    int     i;

    for (i = 0; i < rule->ncond; i++)
        if (!cond_match(&rule->conds[i], req, scratch))
            return 0;
    return 1;
}

/* rules_add - parse one complete rule into the set; -1 with why */
static int rules_add(RULES *rules, const char *text, int line, VBUF *err)
{
    RULE    rule;
    int     i;

    if (rules_parse_line(&rule, text, err) < 0) {
        rules_rule_free(&rule);
        return -1;
    }
    for (i = 0; i < rules->count; i++)
        if (strcmp(rules->rules[i].name, rule.name) == 0) {
            vbuf_sprintf(err, "rule name %s already used in line %d", rule.name,
                         rules->rules[i].line);
            rules_rule_free(&rule);
            return -1;
        }
    rule.line = line;
    rules->uses_signed |= rule.kind == RULE_SIGNED;
    rules->uses_rate |= rule.kind == RULE_RATE;
    rules->uses_command |= rule.kind == RULE_COMMAND;
    rules->rules = myrealloc(rules->rules, (size_t)(rules->count + 1) * sizeof(RULE));
    rules->rules[rules->count++] = rule;
    return 0;
}

/* rules_flush - the rule gathered so far, if any, into the set */
static int rules_flush(RULES *rules, VBUF *text, int line, VBUF *why, VBUF *err)
{
    int     status = 0;

    if (vbuf_len(text) == 0)
        return 0;
    if (vbuf_overflowed(text)) {
        vbuf_sprintf(why, "rule longer than %d bytes", RULES_MAX_LINE);
        status = -1;
    } else {
        status = rules_add(rules, vbuf_str(text), line, why);
    }
    if (status < 0)
        vbuf_sprintf(err, "%s, line %d: %s", rules->path, line, vbuf_str(why));
    vbuf_reset(text);
    return status;
}

/* rules_read - every rule of fp; -1 with "FILE, line N: why" in err */
static int rules_read(RULES *rules, FILE *fp, VBUF *err)
{
    VBUF   *text = vbuf_alloc(RULES_MAX_LINE), *why = vbuf_alloc(1024);
    char    buf[RULES_MAX_LINE + 2];
    int     lineno = 0, start = 0, status = 0;
    size_t  len;

    while (status == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
        lineno++;
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n')
            buf[--len] = 0;
        else if (!feof(fp)) {
            vbuf_sprintf(err, "%s, line %d: longer than %d bytes", rules->path, lineno, RULES_MAX_LINE);
            status = -1;
            break;
        }
        if (buf[0] == '#' || strspn(buf, " \t\r") == len)
            continue;
        if (isspace((unsigned char)buf[0]) && vbuf_len(text) > 0) {
            vbuf_addch(text, ' ');
            vbuf_strcat(text, buf);
            continue;
        }
        if (isspace((unsigned char)buf[0])) {
            vbuf_sprintf(err, "%s, line %d: continuation line without a rule", rules->path, lineno);
            status = -1;
            break;
        }
        status = rules_flush(rules, text, start, why, err);
        vbuf_strcpy(text, buf);
        start = lineno;
    }
    if (status == 0)
        status = rules_flush(rules, text, start, why, err);
    vbuf_free(text);
    vbuf_free(why);
    return status;
}

/* rules_load - see rules.h */
RULES  *rules_load(const char *path, VBUF *err)
{
    RULES  *rules;
    FILE   *fp;
    int     status;

    if ((fp = fopen(path, "re")) == NULL) {
        vbuf_sprintf(err, "cannot open policy_rules %s: %s", path, strerror(errno));
        return NULL;
    }
    rules = mycalloc(1, sizeof(*rules));
    rules->path = mystrdup(path);
    status = rules_read(rules, fp, err);
    if (status == 0 && ferror(fp)) {
        vbuf_sprintf(err, "cannot read policy_rules %s: %s", path, strerror(errno));
        status = -1;
    }
    fclose(fp);
    if (status < 0) {
        rules_free(rules);
        return NULL;
    }
    return rules;
}
