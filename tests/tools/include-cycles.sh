#!/bin/sh
# Fails when the include graph of a source folder has a cycle. A file and its header are one
# node (conn.c and conn.h are "conn"), so a cycle is two parts of the server that each need
# the other, not merely two headers that include each other. Prints the graph's edges with
# -v. Usage: include-cycles.sh [-v] DIR
set -eu
verbose=0
if [ "${1:-}" = "-v" ]; then verbose=1; shift; fi
dir=${1:?usage: include-cycles.sh [-v] DIR}
edges=$(
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        from=$(basename "$f"); from=${from%.*}
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"/]*\)\.h".*/\1/p' "$f" |
            while read -r to; do
                # Only the folder's own headers; protocol headers and libraries are below it.
                [ -e "$dir/$to.h" ] || continue
                [ "$to" = "$from" ] && to=$from # a file including its own header: a node
                echo "$from $to"
            done
    done | sort -u
)
[ "$verbose" = 1 ] && printf '%s\n' "$edges"
# tsort orders the graph (each "a b" an edge a -> b) and reports every loop it breaks.
if ! out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null); then
    echo "include cycle in $dir:"
    printf '%s\n' "$out"
    exit 1
fi
if [ -n "$out" ]; then
    echo "include cycle in $dir:"
    printf '%s\n' "$out"
    exit 1
fi
echo "no include cycle in $dir ($(printf '%s\n' "$edges" | wc -l) edges)"
