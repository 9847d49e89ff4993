#!/usr/bin/env bash
# lastcalld footprint: idle memory (VmRSS, VmHWM) and CPU time per 1,000 polls, for the AWS and
# the Alibaba provider (plus PSS and USS from smaps_rollup), against a loopback metadata
# stand-in that answers 404 to every notice path. Prints the figures with the goals and their
# ratios; results go in bench/RESULTS.md.
#
#   bench/agent_footprint.sh [BUILD_DIR]        (default build/release; needs lastcalld, imds_standin)
#   POLLS=1000 INTERVAL=100ms bench/agent_footprint.sh build/release
#   SMAPS_OUT=/tmp/fp bench/agent_footprint.sh    (keeps /proc/PID/smaps as /tmp/fp.<provider>)
#
# CPU is counted between a warm-up poll count and POLLS polls later (utime+stime from
# /proc/PID/stat), so start-up is not in it. Only loopback traffic; every process it starts is
# stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
polls="${POLLS:-1000}"
interval="${INTERVAL:-100ms}"
warmup=20
agent="$build/agent/lastcalld"
standin="$build/bench/imds_standin"
for b in "$agent" "$standin"; do
  [ -x "$b" ] || { echo "agent_footprint: $b missing; build targets lastcalld imds_standin" >&2; exit 1; }
done

work="$(mktemp -d /tmp/lastcall-footprint.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

clk_tck="$(getconf CLK_TCK)"
# Seconds of CPU (utime + stime) used by PID so far.
cpu_seconds() { awk -v t="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"; }
status_polls() { grep -o '"polls": [0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' || echo 0; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# PSS and USS (private clean + private dirty) in KiB, from /proc/PID/smaps_rollup.
pss_kib() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }
uss_kib() { awk '$1 == "Private_Clean:" || $1 == "Private_Dirty:" { s += $2 } END { print s }' "/proc/$1/smaps_rollup"; }
wait_polls() {  # STATUS_FILE N PID: until the daemon reports N polls (bounded)
  local limit=$(( $2 / 5 + 120 )) start=$SECONDS
  while [ "$(status_polls "$1")" -lt "$2" ]; do
    kill -0 "$3" 2>/dev/null || { echo "agent_footprint: lastcalld exited" >&2; exit 1; }
    [ $((SECONDS - start)) -lt "$limit" ] || { echo "agent_footprint: timed out waiting for $2 polls" >&2; exit 1; }
    sleep 0.2
  done
}

printf '%-8s %-18s %10s %10s %8s\n' provider metric value goal ratio
run() {
  local provider="$1" dir="$work/$1"
  mkdir -p "$dir/hooks.d"
  "$standin" --provider "$provider" --url-file "$dir/url" 2>"$dir/standin.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.05; done
  local url; url="$(cat "$dir/url")"
  cat >"$dir/lastcalld.toml" <<TOML
provider = "$provider"
state_dir = "$dir/state"
runtime_dir = "$dir/run"
log_level = "warning"
[poll]
interval = "$interval"
jitter = 0
request_timeout = "50ms"
[aws]
endpoint = "$url"
[alibaba]
endpoint = "$url"
[hooks]
dir = "$dir/hooks.d"
TOML
  JOURNAL_STREAM= "$agent" --config "$dir/lastcalld.toml" 2>"$dir/agent.err" &
  local pid=$!
  pids+=("$pid")
  wait_polls "$dir/run/status.json" "$warmup" "$pid"
  local p0 c0 p1 c1
  p0="$(status_polls "$dir/run/status.json")"; c0="$(cpu_seconds "$pid")"
  wait_polls "$dir/run/status.json" $((p0 + polls)) "$pid"
  p1="$(status_polls "$dir/run/status.json")"; c1="$(cpu_seconds "$pid")"
  local rss hwm threads
  rss="$(kib "$pid" VmRSS)"; hwm="$(kib "$pid" VmHWM)"; threads="$(kib "$pid" Threads)"
  local pss uss; pss="$(pss_kib "$pid")"; uss="$(uss_kib "$pid")"
  [ -z "${SMAPS_OUT:-}" ] || cp "/proc/$pid/smaps" "$SMAPS_OUT.$provider"
  kill "$pid"; wait "$pid" || true
  awk -v p="$provider" -v rss="$rss" -v hwm="$hwm" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
      -v n=$((p1 - p0)) -v th="$threads" -v pss="$pss" -v uss="$uss" 'BEGIN {
    goal_kib = 4096; goal_cpu = 0.5; cpu = c * 1000 / n
    printf "%-8s %-18s %7.2f MiB %6.2f MiB %7.2fx\n", p, "VmRSS (idle)", rss/1024, goal_kib/1024, rss/goal_kib
    printf "%-8s %-18s %7.2f MiB %6.2f MiB %7.2fx\n", p, "VmHWM (peak)", hwm/1024, goal_kib/1024, hwm/goal_kib
    printf "%-8s %-18s %7.2f MiB\n", p, "Pss (idle)", pss/1024
    printf "%-8s %-18s %7.2f MiB\n", p, "USS (private)", uss/1024
    printf "%-8s %-18s %8.3f s  %7.2f s  %7.2fx   (%d polls, %d threads)\n", p, "CPU / 1000 polls", cpu, goal_cpu, cpu/goal_cpu, n, th
  }'
}

for provider in ${PROVIDERS:-aws alibaba}; do run "$provider"; done
echo "machine: $(nproc) cpu ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr), interval $interval"
