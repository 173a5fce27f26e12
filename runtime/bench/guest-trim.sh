# malloc_trim in the guest (docs/benchmarks.md): the device nuwad restarted with and
# without NUWA_NO_MALLOC_TRIM, three times each. Runs in the guest:
#   .venv/bin/nuwa exec -- sh -c "$(grep -v "^#" runtime/bench/guest-trim.sh | tr "\n" " ")"
ready() { until nuwactl --json template-status 2>/dev/null | grep -q '"spare_pid":[0-9]'; do sleep 0.2; done; };
mem() { awk '/^Rss/{r=$2}/^Pss:/{p=$2}/^Private_Dirty/{d=$2}END{print "rss=" r " pss=" p " private_dirty=" d}' /proc/$1/smaps_rollup; };
for m in trim notrim trim notrim trim notrim; do
  /etc/init.d/S50nuwad stop >/dev/null 2>&1;
  if [ $m = notrim ]; then export NUWA_NO_MALLOC_TRIM=1; else unset NUWA_NO_MALLOC_TRIM; fi;
  /etc/init.d/S50nuwad start >/dev/null 2>&1; ready; sleep 3;
  st=$(nuwactl --json template-status);
  t=$(echo "$st" | sed 's/.*"pid":\([0-9]*\),"restarts".*/\1/');
  s=$(echo "$st" | sed 's/.*"spare_pid":\([0-9]*\).*/\1/');
  echo "TRIM $m template $(mem $t) spare $(mem $s) $(echo "$st" | sed 's/.*"info":"\([^"]*\)".*/\1/')";
done;
