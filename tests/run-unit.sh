#!/bin/sh
# Runs each unit-test binary given on the command line; fails if any fails.
# cmocka prints its own per-test lines; this adds a one-line summary.
failed=""
for t in "$@"; do
    echo "== $t"
    if ! "$t"; then
        failed="$failed ${t##*/}"
    fi
done
if [ -n "$failed" ]; then
    echo "unit tests FAILED:$failed"
    exit 1
fi
echo "unit tests: all $# binaries passed"
