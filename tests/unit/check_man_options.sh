#!/bin/sh
# check_man_options - every option a program parses is on its man page,
# and every key of the log line is documented
#
# For each C program: the letters of its getopt() string and the names of
# its struct option table, read from the main source file, must each
# appear in the man page block at the top of that file (the text that
# scripts/mkman turns into man/NAME.8 or .1), as "-L" or "--name". The
# keys of the per-message log line ("KEY=" in the string literals of
# scan/logline.c) must appear in postsift-filter(8) and in README.md.
# A new option or log key without documentation fails here. Prints
# "check_man_options: N passed, N failed" and exits 1 on any failure.
#
# Usage: tests/unit/check_man_options.sh [source-tree]

top=${1:-$(dirname "$0")/../..}
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# block FILE - the man page block of a C source (/*++ to --*/)
block() { sed -n '/^\/\*++$/,/^--\*\/$/p' "$1"; }

# short_opts FILE - the option letters of its getopt()/getopt_long() calls
short_opts() {
    sed -n 's/.*getopt\(_long\)\{0,1\}([^"]*"\([^"]*\)".*/\2/p' "$1" |
        tr -d ':' | fold -w 1 | sort -u
}

# long_opts FILE - the names in its struct option tables
long_opts() {
    sed -n '/struct option/,/{ *NULL/p' "$1" | sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)",.*/\1/p' | sort -u
}

# postsift-check is run by "postsift-postfix check", whose page
# documents it; it has no page of its own.
for src in filter/postsift-filter.c reinject/postsift-reinject.c \
    smtpcli/postsift-smtpcli.c policy/postsift-policy.c; do
    f=$top/$src
    [ -r "$f" ] || { bad "cannot read $src"; continue; }
    page=$(block "$f")
    [ -n "$page" ] || { bad "$src: no man page block"; continue; }
    letters=$(short_opts "$f")
    [ -n "$letters" ] || bad "$src: no getopt() string found"
    for l in $letters; do
        if printf '%s\n' "$page" | grep -Eq -- "(^|[^A-Za-z0-9-])-$l([^A-Za-z0-9]|\$)"; then
            ok
        else
            bad "$src: option -$l is not on the man page"
        fi
    done
    for name in $(long_opts "$f"); do
        if printf '%s\n' "$page" | grep -Fq -- "--$name"; then
            ok
        else
            bad "$src: option --$name is not on the man page"
        fi
    done
done

keys=$(grep -o '"[^"]*"' "$top/scan/logline.c" | grep -o '[a-z_][a-z_]*=' | sort -u)
[ -n "$keys" ] || bad "scan/logline.c: no log keys found"
fpage=$(block "$top/filter/postsift-filter.c")
for k in $keys; do
    if printf '%s\n' "$fpage" | grep -Fq -- "$k"; then ok; else
        bad "log key $k is not in postsift-filter(8)"; fi
    if grep -Fq -- "$k" "$top/README.md"; then ok; else
        bad "log key $k is not in README.md"; fi
done

echo "check_man_options: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
