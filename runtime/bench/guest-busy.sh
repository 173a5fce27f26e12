# Launch under load in the guest (docs/benchmarks.md "Launch under load"): 20 sample apps
# left running (their periodic work), then 12 timed launches beside them per mode, each
# killed right after; prints every launch_ms. Runs in the guest:
#   .venv/bin/nuwa exec -- sh -c "$(grep -v "^#" runtime/bench/guest-busy.sh | tr "\n" " ")"
# (bench/busy.py is the same measurement inside `nuwa bench`.)
apps="clock notes messages settings gallery music";
ready() { until nuwactl --json template-status 2>/dev/null | grep -q '"spare_pid":[0-9]'; do sleep 0.2; done; };
ms() { sed 's/.*"launch_ms":\([0-9.]*\).*/\1/'; };
pidof_answer() { sed 's/.*"pid":\([0-9]*\).*/\1/'; };
for mode in template exec; do
  ready; n=0;
  while [ $n -lt 20 ]; do for a in $apps; do [ $n -lt 20 ] && { nuwactl --json launch $a --mode $mode >/dev/null; n=$((n+1)); sleep 0.3; }; done; done;
  sleep 2; echo "BUSY $mode running=$(nuwactl --json list | grep -o '"pid"' | wc -l)";
  i=0;
  while [ $i -lt 12 ]; do for a in $apps; do [ $i -lt 12 ] && {
    [ $mode = template ] && { ready; sleep 1.2; };
    ans=$(nuwactl --json launch $a --mode $mode); echo "LAUNCH $mode $a $(echo "$ans" | ms)";
    nuwactl kill $(echo "$ans" | pidof_answer) >/dev/null; i=$((i+1)); }; done; done;
  for p in $(nuwactl --json list | grep -o '"pid":[0-9]*' | cut -d: -f2); do nuwactl kill $p >/dev/null 2>&1; done;
  echo "IDLE $mode running=$(nuwactl --json list | grep -o '"pid"' | wc -l)";
done;
