#!/bin/sh
# Native runtime benchmark: a private nuwad on runtime/examples/host.conf,
# then nuwa-bench-native against it. Run from anywhere:
#   runtime/bench/run-native.sh [RUNS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/runtime/build/host
runs=${1:-101}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$top"
"$build/nuwad" --foreground --config runtime/examples/host.conf \
    --socket "$work/nuwad.sock" --state-dir "$work" >"$work/log" 2>&1 &
pid=$!
i=0
until "$build/nuwactl" --socket "$work/nuwad.sock" --json template-status 2>/dev/null \
        | grep -q '"spare_pid":[0-9]'; do
    i=$((i + 1))
    [ $i -lt 200 ] || { cat "$work/log"; exit 1; }
    sleep 0.05
done
# host.conf refills the spare 200 ms after a launch is ready.
"$build/nuwa-bench-native" --socket "$work/nuwad.sock" --runs "$runs" --spare-wait-ms 400 \
    --exec-host "$build/nuwa-exec-host"
