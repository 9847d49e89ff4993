#!/usr/bin/env bash
# lastcalld footprint: idle memory after POLLS polls (VmRSS and VmHWM from /proc/PID/status;
# Pss, Private_Clean and Private_Dirty from /proc/PID/smaps_rollup), what each library costs
# (Rss and Private_Dirty per mapped file, from /proc/PID/smaps), and CPU time per 1,000 polls,
# for the AWS and the Alibaba provider, against a loopback metadata stand-in that answers 404
# to every notice path. Prints the figures with the goals (VmRSS <= 12 MiB, Private_Dirty
# <= 2 MiB, CPU <= 0.5 s per 1,000 polls) and their ratios; results go in bench/RESULTS.md.
#
#   bench/agent_footprint.sh [BUILD_DIR]        (default build/release; needs lastcalld, imds_standin)
#   POLLS=1000 INTERVAL=100ms bench/agent_footprint.sh build/release
#   PROVIDERS=aws LIBS=0 bench/agent_footprint.sh  (one provider, no per-library table)
#   SMAPS_OUT=/tmp/fp bench/agent_footprint.sh    (keeps /proc/PID/smaps as /tmp/fp.<provider>)
#   AGENT=/tmp/lastcalld-variant bench/agent_footprint.sh   (measure another build of the binary)
#   UNIT_ENV=0 bench/agent_footprint.sh           (without the unit's Environment= settings)
#
# lastcalld runs with the Environment= settings of packaging/systemd/lastcalld.service, as the
# service does (GNUTLS_NO_IMPLICIT_INIT=1; docs/lastcalld.md "Footprint" says why).
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
agent="${AGENT:-$build/agent/lastcalld}"
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

unit_env=""
[ "${UNIT_ENV:-1}" = 0 ] || unit_env="$(sed -n 's/^Environment=//p' packaging/systemd/lastcalld.service)"
clk_tck="$(getconf CLK_TCK)"
# Seconds of CPU (utime + stime) used by PID so far.
cpu_seconds() { awk -v t="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"; }
status_polls() { grep -o '"polls": [0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' || echo 0; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# A field of /proc/PID/smaps_rollup in KiB (Pss, Private_Clean, Private_Dirty).
rollup_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }
# Rss and Private_Dirty per mapped file (anonymous, heap and stacks by their names), largest
# first: what each library costs the process.
library_table() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anonymous]" : $6; sub(/.*\//, "", name); next }
    $1 == "Rss:" { rss[name] += $2 }
    $1 == "Private_Dirty:" { pd[name] += $2 }
    END { for (n in rss) if (rss[n] > 0) printf "%8d %8d  %s\n", rss[n], pd[n], n }
  ' "/proc/$1/smaps" | sort -rn | awk -v p="$2" '
    BEGIN { printf "%-8s %-32s %10s %14s\n", p, "mapping", "Rss KiB", "Priv.Dirty KiB" }
    { printf "%-8s %-32s %10d %14d\n", p, $3, $1, $2; r += $1; d += $2 }
    END { printf "%-8s %-32s %10d %14d\n", p, "total", r, d }'
}
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
  env $unit_env JOURNAL_STREAM= "$agent" --config "$dir/lastcalld.toml" 2>"$dir/agent.err" &
  local pid=$!
  pids+=("$pid")
  wait_polls "$dir/run/status.json" "$warmup" "$pid"
  local p0 c0 p1 c1
  p0="$(status_polls "$dir/run/status.json")"; c0="$(cpu_seconds "$pid")"
  wait_polls "$dir/run/status.json" $((p0 + polls)) "$pid"
  p1="$(status_polls "$dir/run/status.json")"; c1="$(cpu_seconds "$pid")"
  local rss hwm threads
  rss="$(kib "$pid" VmRSS)"; hwm="$(kib "$pid" VmHWM)"; threads="$(kib "$pid" Threads)"
  local pss pclean pdirty
  pss="$(rollup_kib "$pid" Pss)"; pclean="$(rollup_kib "$pid" Private_Clean)"
  pdirty="$(rollup_kib "$pid" Private_Dirty)"
  [ -z "${SMAPS_OUT:-}" ] || cp "/proc/$pid/smaps" "$SMAPS_OUT.$provider"
  [ "${LIBS:-1}" = 0 ] || library_table "$pid" "$provider" >"$work/libs.$provider"
  kill "$pid"; wait "$pid" || true
  awk -v p="$provider" -v rss="$rss" -v hwm="$hwm" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
      -v n=$((p1 - p0)) -v th="$threads" -v pss="$pss" -v pc="$pclean" -v pd="$pdirty" 'BEGIN {
    goal_rss = 12 * 1024; goal_pd = 2 * 1024; goal_cpu = 0.5; cpu = c * 1000 / n
    printf "%-8s %-18s %7.2f MiB %6.2f MiB %7.2fx\n", p, "VmRSS (idle)", rss/1024, goal_rss/1024, rss/goal_rss
    printf "%-8s %-18s %7.2f MiB\n", p, "VmHWM (peak)", hwm/1024
    printf "%-8s %-18s %7.2f MiB\n", p, "Pss (idle)", pss/1024
    printf "%-8s %-18s %7.2f MiB\n", p, "Private_Clean", pc/1024
    printf "%-8s %-18s %7.2f MiB %6.2f MiB %7.2fx\n", p, "Private_Dirty", pd/1024, goal_pd/1024, pd/goal_pd
    printf "%-8s %-18s %8.3f s  %7.2f s  %7.2fx   (%d polls, %d threads)\n", p, "CPU / 1000 polls", cpu, goal_cpu, cpu/goal_cpu, n, th
  }'
}

for provider in ${PROVIDERS:-aws alibaba}; do run "$provider"; done
for provider in ${PROVIDERS:-aws alibaba}; do
  [ ! -s "$work/libs.$provider" ] || { echo; cat "$work/libs.$provider"; }
done
echo "environment: ${unit_env:-(none)}"
echo "machine: $(nproc) cpu ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr), interval $interval"
