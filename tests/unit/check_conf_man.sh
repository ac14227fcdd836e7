#!/bin/sh
# check_conf_man - postsift.conf(5) lists exactly the settings of lib/params.c
#
# Every setting of the table must have an entry in man/postsift.conf.5, a
# line '\fBNAME\fR (default: DEFAULT)' after a .TP, with the same default
# as the table when the table writes it as a string literal ("empty" for
# ""; a default made from a macro must read "see below"). Every such entry
# in the page must be a setting of the table. Prints
# "check_conf_man: N passed, N failed" and exits 1 on any failure.
#
# Usage: tests/unit/check_conf_man.sh [source-tree]

top=${1:-$(dirname "$0")/../..}
params=$top/lib/params.c
page=$top/man/postsift.conf.5
pass=0
fail=0

for f in "$params" "$page"; do
    if [ ! -r "$f" ]; then
        echo "check_conf_man: cannot read $f" >&2
        echo "check_conf_man: 0 passed, 1 failed"
        exit 1
    fi
done

# The table: NAME<TAB>DEFAULT, DEFAULT a literal without its quotes, or
# "@macro" when it is a name.
table=$(sed -n -e 's/^[[:space:]]*{"\([a-z0-9_]*\)", *CFG_[A-Z]*, *"\([^"]*\)",.*/\1	\2/p' \
               -e 's/^[[:space:]]*{"\([a-z0-9_]*\)", *CFG_[A-Z]*, *\([A-Z_][A-Z0-9_]*\),.*/\1	@\2/p' \
               "$params")
# The page: NAME<TAB>DEFAULT from '\fBNAME\fR (default: DEFAULT)' lines,
# roff escapes for "-" and "\" undone.
entries=$(sed -n 's/^\\fB\([a-z0-9_]*\)\\fR (default: \(.*\))$/\1	\2/p' "$page" |
          sed 's/\\-/-/g; s/\\e/\\/g')

if [ -z "$table" ]; then
    echo "check_conf_man: no settings found in $params" >&2
    echo "check_conf_man: 0 passed, 1 failed"
    exit 1
fi

tab=$(printf '\t')
# Every setting in the table has an entry with the right default.
while IFS="$tab" read -r name def; do
    got=$(printf '%s\n' "$entries" | awk -F "$tab" -v n="$name" '$1 == n { print $2; exit }')
    found=$(printf '%s\n' "$entries" | awk -F "$tab" -v n="$name" '$1 == n { c++ } END { print c + 0 }')
    case $def in
    @*) want="see below" ;;
    "") want="empty" ;;
    *) want=$def ;;
    esac
    if [ "$found" -eq 0 ]; then
        echo "check_conf_man: $name: no entry in $page" >&2
        fail=$((fail + 1))
    elif [ "$found" -gt 1 ]; then
        echo "check_conf_man: $name: $found entries in $page" >&2
        fail=$((fail + 1))
    elif [ "$got" != "$want" ]; then
        echo "check_conf_man: $name: default \"$got\" in the page, \"$want\" in the table" >&2
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done <<EOF
$table
EOF

# Every entry in the page is a setting of the table.
while IFS="$tab" read -r name def; do
    [ -n "$name" ] || continue
    if printf '%s\n' "$table" | awk -F "$tab" -v n="$name" '$1 == n { f = 1 } END { exit !f }'; then
        pass=$((pass + 1))
    else
        echo "check_conf_man: $name: in $page but not in $params" >&2
        fail=$((fail + 1))
    fi
done <<EOF
$entries
EOF

# The bounds: NAME<TAB>MIN<TAB>MAX of every number, time and size.
bounds=$(sed -n 's/^[[:space:]]*{"\([a-z0-9_]*\)", *CFG_\(INT\|TIME\|SIZE\), *[^&]*&var_[a-z0-9_]*, *\([0-9-]*\), *\([0-9-]*\),.*/\1	\3	\4/p' \
         "$params")
if [ -z "$bounds" ]; then
    echo "check_conf_man: no bounds found in $params" >&2
    fail=$((fail + 1))
fi

# text NAME - the text of NAME's entry on one line, "\-" undone
text() {
    awk -v n="$1" '
        /^\\fB[a-z0-9_]*\\fR \(default: / { on = (index($0, "\\fB" n "\\fR ") == 1); next }
        /^\.(TP|SH|SS|PP)/ { on = 0 }
        on { printf "%s ", $0 }' "$page" | sed 's/\\-/-/g'
}

# Every bound is in the entry's text.
while IFS="$tab" read -r name min max; do
    [ -n "$name" ] || continue
    t=$(text "$name")
    if [ "$max" -gt 0 ] && ! printf '%s\n' "$t" | grep -Eq -- "to $max([^0-9]|\$)"; then
        echo "check_conf_man: $name: the maximum $max is not in its entry" >&2
        fail=$((fail + 1))
    elif [ "$min" -ge 1 ] && ! printf '%s\n' "$t" | grep -Eq -- "(Minimum $min|(^|[^0-9])$min to )"; then
        echo "check_conf_man: $name: the minimum $min is not in its entry" >&2
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done <<EOF
$bounds
EOF

echo "check_conf_man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
