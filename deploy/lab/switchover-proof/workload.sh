# Sourced by proof.sh and lazy.sh (lab experiments, inside the VM): the memtouch workload as the
# init of its own pid namespace, as Ferry migrates it. Needs BIN, SIZE, RATE and a fail function.

start_workload() { # $1 = out file; prints the outer pid of the namespace init once it verified
  unshare -p -f setsid "$BIN" --size-mib "$SIZE" --rate "$RATE" --verify-ms 1500 --out "$1" </dev/null >/dev/null 2>&1 &
  local u=$! c=""
  for _ in $(seq 200); do c=$(cat /proc/$u/task/$u/children 2>/dev/null | awk '{print $1}'); [[ -n "$c" ]] && break; sleep 0.05; done
  [[ -n "$c" ]] || fail "no namespace init under unshare $u"
  for _ in $(seq 1200); do grep -q '^OK' "$1" 2>/dev/null && break; sleep 0.1; done
  grep -q '^OK' "$1" || fail "workload never verified"
  echo "$c"
}
