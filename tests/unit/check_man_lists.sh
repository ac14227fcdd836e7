#!/bin/sh
# check_man_lists - the lists the man pages give are the code's lists
#
# check_man_options.sh covers options and log keys; this one covers what
# a page enumerates:
#   - every metric name of lib/metrics.c (postsift_NAME) and every label
#     value (designs, tempfail causes, reinjection results, verdicts,
#     actions) is in postsift-filter(8);
#   - every exit status a program's sources use (the EXIT_* constants of
#     lib/exitpolicy.h, all three where exit_status_for_code() is called,
#     the SCANMODE_* ones of filter/scanmode.h, the
#     "exit N" of scripts/postsift-postfix) is a tag of its page's EXIT
#     STATUS section;
#   - every design of "postsift-postfix install" (its dispatch) and every
#     mode (install, remove, check) is in the SYNOPSIS of postsift-postfix(8);
#   - every rule id of check/rules.c is in man/postsift-postfix.8 (the
#     generated page: a stale page fails here; run make man).
# Prints "check_man_lists: N passed, N failed" and exits 1 on any failure.
#
# Usage: tests/unit/check_man_lists.sh [source-tree]

top=${1:-$(dirname "$0")/../..}
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# block FILE - the man page block of a C source (/*++ to --*/) or of a
# shell script (#++ to #--, "# " taken off)
block() {
    case $1 in
    *.c) sed -n '/^\/\*++$/,/^--\*\/$/p' "$1" ;;
    *) sed -n '/^#++$/,/^#--$/p' "$1" | sed 's/^# \{0,1\}//' ;;
    esac
}

# section NAME - from stdin, the lines of section NAME of a block (to the
# next line at the left margin)
section() {
    awk -v s="$1" '/^[^ \t]/ { on = ($0 == s); next } on'
}

# has TEXT WORD - WORD occurs in TEXT
has() { printf '%s\n' "$1" | grep -Fq -- "$2"; }

# strings FILE ARRAY - the string literals of the initializer of ARRAY
strings() {
    sed -n "/$2\[[A-Z_]*\] *= *{/,/};/p" "$1" | grep -o '"[^"]*"' | tr -d '"'
}

for f in lib/metrics.c filter/postsift-filter.c scan/verdict.c lib/exitpolicy.h \
    filter/scanmode.h scripts/postsift-postfix check/rules.c man/postsift-postfix.8; do
    [ -r "$top/$f" ] || { bad "cannot read $f"; echo "check_man_lists: $pass passed, $fail failed"; exit 1; }
done

# --- metrics on postsift-filter(8)
fpage=$(block "$top/filter/postsift-filter.c")
names=$(sed -n 's/.*metrics_head(out, "\([a-z_]*\)".*/\1/p' "$top/lib/metrics.c" | sort -u)
[ -n "$names" ] || bad "lib/metrics.c: no metric names found"
for n in $names; do
    if has "$fpage" "postsift_$n"; then ok; else bad "metric postsift_$n is not in postsift-filter(8)"; fi
done
labels=$( (strings "$top/lib/metrics.c" metrics_design_names | grep -v '^none$'
           strings "$top/lib/metrics.c" metrics_cause_names
           strings "$top/lib/metrics.c" metrics_relay_names
           strings "$top/scan/verdict.c" verdict_names
           strings "$top/scan/verdict.c" action_names) | sort -u)
[ -n "$labels" ] || bad "no metric label values found"
counters=$(printf '%s\n' "$fpage" | section COUNTERS)
for l in $labels; do
    if printf '%s\n' "$counters" | grep -Eq -- "(^|[^a-z_])$l([^a-z_]|\$)"; then ok; else
        bad "label value $l is not in COUNTERS of postsift-filter(8)"; fi
done

# --- exit statuses
# value NAME FILE - the number a #define gives NAME
value() { sed -n "s/^#define $1 *\([0-9][0-9]*\).*/\1/p" "$2"; }

# check_exits SRC VALUES... - each value is a tag of EXIT STATUS of SRC's page
check_exits() {
    _src=$1
    shift
    _tags=$(block "$top/$_src" | section "EXIT STATUS" | sed -n 's/^    \([0-9][0-9]*\)$/\1/p')
    for _v in "$@"; do
        if printf '%s\n' "$_tags" | grep -qx -- "$_v"; then ok; else
            bad "$_src: exit status $_v is not in EXIT STATUS"; fi
    done
}

for src in filter/postsift-filter.c reinject/postsift-reinject.c \
    smtpcli/postsift-smtpcli.c policy/postsift-policy.c; do
    dir=$(dirname "$src")
    vals=
    # exit_status_for_code() gives any of the three
    consts=$(grep -rhoE '\bEXIT_[A-Z]+\b' "$top/$dir" --include='*.c')
    grep -rqs 'exit_status_for_code(' "$top/$dir" --include='*.c' &&
        consts="$consts EXIT_DONE EXIT_REFUSED EXIT_TEMPFAIL"
    # shellcheck disable=SC2086 # word splitting wanted
    for c in $(printf '%s\n' $consts | sort -u); do
        v=$(value "$c" "$top/lib/exitpolicy.h")
        [ -n "$v" ] && vals="$vals $v"
    done
    if [ "$dir" = filter ]; then
        for c in $(grep -rhoE '\bSCANMODE_(CLEAN|FOUND|ERROR)\b' "$top/$dir" --include='*.c' | sort -u); do
            vals="$vals $(value "$c" "$top/filter/scanmode.h")"
        done
    fi
    [ -n "$vals" ] || bad "$src: no exit statuses found"
    # shellcheck disable=SC2046,SC2086 # word splitting wanted
    check_exits "$src" $(printf '%s\n' $vals | sort -un)
done
svals=$(grep -v '^[[:space:]]*#' "$top/scripts/postsift-postfix" | sed -n 's/.*\bexit \([0-9][0-9]*\).*/\1/p' | sort -un)
[ -n "$svals" ] || bad "scripts/postsift-postfix: no exit statuses found"
# shellcheck disable=SC2086 # word splitting wanted
check_exits scripts/postsift-postfix $svals

# --- postsift-postfix: modes and designs in the SYNOPSIS
ppage=$(block "$top/scripts/postsift-postfix")
synopsis=$(printf '%s\n' "$ppage" | section SYNOPSIS)
designs=$(sed -n '/^case \${1:-} in$/,/^esac$/p' "$top/scripts/postsift-postfix" |
          sed -n '/^install)$/,/^	esac ;;$/p' | sed -n 's/^	\([a-z| -]*\)) .*/\1/p' | tr '|' ' ')
[ -n "$designs" ] || bad "scripts/postsift-postfix: no install designs found"
for d in $designs; do
    if printf '%s\n' "$synopsis" | grep -Eq -- "postsift-postfix install $d([^a-z-]|\$)"; then ok; else
        bad "install $d is not in the SYNOPSIS of postsift-postfix(8)"; fi
done
modes=$(sed -n '/^case \${1:-} in$/,/^esac$/p' "$top/scripts/postsift-postfix" |
        sed -n 's/^\([a-z][a-z -]*\)) *$/\1/p; s/^\([a-z][a-z -]*\) | --version)$/\1/p')
[ -n "$modes" ] || bad "scripts/postsift-postfix: no modes found"
for m in $modes; do
    if printf '%s\n' "$synopsis" | grep -Eq -- "postsift-postfix $m([^a-z-]|\$)"; then ok; else
        bad "mode $m is not in the SYNOPSIS of postsift-postfix(8)"; fi
done

# --- postsift-postfix(8): every check rule id (the page escapes "-")
rules=$(sed -n 's/^    {"\([a-z0-9-]*\)", rl_.*/\1/p' "$top/check/rules.c")
[ -n "$rules" ] || bad "check/rules.c: no rule ids found"
man=$(sed 's/\\-/-/g' "$top/man/postsift-postfix.8")
for r in $rules; do
    if has "$man" "$r"; then ok; else
        bad "check rule $r is not in man/postsift-postfix.8 (run make man)"; fi
done

echo "check_man_lists: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
