# nuwad restart time after kill -9 (docs/benchmarks.md). Runs in the guest:
#   .venv/bin/nuwa exec -- sh -c "$(grep -v "^#" runtime/bench/guest-restart.sh | tr "\n" " ")"
ready() { until nuwactl --json template-status 2>/dev/null | grep -q '"spare_pid":[0-9]'; do sleep 0.2; done; };
unset NUWA_NO_MALLOC_TRIM; /etc/init.d/S50nuwad restart >/dev/null 2>&1; ready;
for i in 1 2 3 4 5 6 7 8 9 10; do
  ready; sleep 1;
  n=$(nuwactl --json stats | sed 's/.*"nuwad":{"pid":\([0-9]*\).*/\1/');
  a=$(cut -d" " -f1 /proc/uptime); kill -9 $n;
  while ! nuwactl ping >/dev/null 2>&1; do sleep 0.02; done;
  b=$(cut -d" " -f1 /proc/uptime);
  echo "RESTART $i $(awk "BEGIN{print $b - $a}")";
done;
nuwactl stats | grep -E "restarts|last_exit"
