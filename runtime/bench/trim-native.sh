#!/bin/sh
# malloc_trim's effect: the template's Rss/Private_Dirty with no spare (nothing
# shares its pages), then the spare's Private_Dirty (KiB). Runs from the
# repository root. usage: runtime/bench/trim-native.sh BUILD_DIR CONFIG RUNS
build=$1 conf=$2 runs=$3
nospare=$(mktemp); sed 's/^spare = 1/spare = 0/' "$conf" > "$nospare"
measure() { # config key
  d=$(mktemp -d)
  $build/nuwad --foreground --config $1 --socket $d/s --state-dir $d >$d/log 2>&1 &
  pid=$!
  until $build/nuwactl --socket $d/s --json template-status 2>/dev/null | grep -q "$2"; do sleep 0.05; done
  sleep 0.3
  st=$($build/nuwactl --socket $d/s --json template-status)
  t=$(echo "$st" | sed 's/.*"pid":\([0-9]*\),"restarts".*/\1/')
  s=$(echo "$st" | sed -n 's/.*"spare_pid":\([0-9]*\).*/\1/p')
  if [ -n "$s" ]; then p=$s; else p=$t; fi
  echo "$(awk '/^Rss/{r=$2}/^Private_Dirty/{d=$2}END{print "rss=" r " private_dirty=" d}' /proc/$p/smaps_rollup)"
  kill $pid; wait $pid 2>/dev/null; rm -rf $d
}
for mode in trim notrim; do
  if [ $mode = notrim ]; then export NUWA_NO_MALLOC_TRIM=1; else unset NUWA_NO_MALLOC_TRIM; fi
  i=0
  while [ $i -lt $runs ]; do
    echo "$mode template $(measure $nospare '"state":"ready"')"
    echo "$mode spare $(measure $conf '"spare_pid":[0-9]')"
    i=$((i+1))
  done
done
rm -f "$nospare"
