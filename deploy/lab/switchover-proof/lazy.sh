#!/bin/bash
# Lab experiment (issue 6): can `criu restore --lazy-pages` with a local `criu lazy-pages` daemon
# take the parent's pages out of the switch-over's downtime? (Run inside the lab VM as root.)
# Pre-copy + incremental dump as proof.sh, then three restores of the same final images (the
# source copy stays stopped throughout; each restored copy is resumed, checked, killed):
#   A plain restore (today's path);
#   B --lazy-pages, images as CRIU wrote them (holes are PE_PARENT only);
#   C --lazy-pages, the holes inside the workload's buffer marked PE_PARENT|PE_LAZY (mark-lazy.py).
# usage: lazy.sh MEMTOUCH_BINARY [SIZE_MIB] [RATE] [ROUNDS]
set -uo pipefail
BIN=$(readlink -f "$1"); SIZE=${2:-64}; RATE=${3:-2000}; ROUNDS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
W=/tmp/ferry-lazy; rm -rf $W; mkdir -p $W
criu check >/dev/null 2>&1 || true
echo "uffd: $(criu check --feature uffd-noncoop 2>&1 | tail -1)"
ms() { date +%s%3N; }
fail() { echo "LAZY-FAIL: $*"; exit 1; }

. "$HERE/workload.sh"
# $1 out, $2 line count before: "OK" after 2 more OK lines, "CORRUPT ..." or "NO-OK" (60 s)
verdict_after() {
  for _ in $(seq 600); do
    c=$(tail -n +$(( $2 + 1 )) "$1" | grep -m1 CORRUPT); [[ -n "$c" ]] && { echo "CORRUPT $c"; return; }
    n=$(tail -n +$(( $2 + 1 )) "$1" | grep -c '^OK' || true); [[ $n -ge 2 ]] && { echo OK; return; }
    sleep 0.1; done
  echo NO-OK
}

OUT=$W/out.log
PID=$(start_workload $OUT)
mkdir -p $W/src/final $W/dst
coproc PC { /usr/bin/python3 "$HERE/precopy.py" "$PID" "$W" "$ROUNDS"; }
while read -r line <&"${PC[0]}"; do echo "$line"; [[ $line == SRC-PARENT-READY* ]] && break; done
[[ ${line:-} == SRC-PARENT-READY* ]] || fail "pre-copy failed"
criu dump -t "$PID" -D $W/src/final --track-mem --prev-images-dir ../parent --leave-stopped -o dump.log \
  || { kill -CONT "$PID"; fail "criu dump failed (source resumed)"; }
echo go >&"${PC[1]}"
read -r line <&"${PC[0]}"; [[ $line == DST-PARENT-READY ]] || fail "destination parent not written: $line"
cp -a $W/src/final $W/dst/final
echo "stats-dump: $(crit show $W/src/final/stats-dump | tr -d ' \n')"
# the workload's buffer: the largest anonymous mapping of the (stopped) source
BUF=$(/usr/bin/python3 -c '
import sys
best = max((l.split() for l in open(sys.argv[1]) if len(l.split()) == 5), key=lambda p: int(p[0].split("-")[1], 16) - int(p[0].split("-")[0], 16))
print(*best[0].split("-"))' /proc/$PID/maps)
BLO=${BUF% *}; BHI=${BUF#* }
echo "buffer $BLO-$BHI"
for mode in A B C; do
  D=$W/dst-$mode; cp -a $W/dst $D
  ARGS=(); LP=""
  if [[ $mode != A ]]; then
    [[ $mode == C ]] && /usr/bin/python3 "$HERE/mark-lazy.py" $D/final/pagemap-1.img "$BLO" "$BHI"
    criu lazy-pages -D $D/final -o lazy.log -v4 & LP=$!
    for _ in $(seq 400); do [[ -S $D/final/lazy-pages.socket ]] && break; sleep 0.05; done
    [[ -S $D/final/lazy-pages.socket ]] || { echo "$mode: no lazy-pages socket"; tail -5 $D/final/lazy.log; continue; }
    ARGS=(--lazy-pages)
  fi
  before=$(wc -l < $OUT)
  t0=$(ms)
  if ! criu restore -D $D/final "${ARGS[@]}" --restore-detached --leave-stopped --pidfile $D/restored.pid -o restore.log -v3; then
    echo "$mode: restore FAILED"; tail -5 $D/final/restore.log; [[ -n $LP ]] && kill $LP; continue
  fi
  t1=$(ms)
  RPID=$(cat $D/restored.pid)
  kill -CONT "$RPID"
  v=$(verdict_after $OUT "$before")
  lp="-"
  if [[ -n $LP ]]; then
    for _ in $(seq 300); do kill -0 $LP 2>/dev/null || break; sleep 0.1; done
    if kill -0 $LP 2>/dev/null; then lp="still running after 30 s"; kill $LP; else wait $LP; lp="exit $?"; fi
  fi
  echo "$mode: restore_ms=$((t1-t0)) $(grep -h 'nr_restored\|nr_lazy' $D/final/restore.log | tr -s ' ' | tr '\n' ' ') stats-restore=$(crit show $D/final/stats-restore | tr -d ' \n') workload=$v lazy-pages=$lp"
  [[ -n $LP ]] && grep -h "UFFD transferred pages\|to be handled by UFFD\|Error" $D/final/lazy.log | tail -4
  kill -KILL "$RPID" 2>/dev/null
done
kill -KILL "$PID"
