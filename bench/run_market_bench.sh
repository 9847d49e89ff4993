#!/usr/bin/env bash
# Builds market_bench (Release with debug info, no sanitizers) and runs it at several fleet
# sizes; prints each run's report and a summary table for bench/RESULTS.md.
# Usage: bench/run_market_bench.sh [build-dir] [sizes...]   (default: build/bench 2500 5000 10000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(2500 5000 10000 20000)
days=${DAYS:-30}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLASTCALL_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target market_bench >/dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
for n in "${sizes[@]}"; do
  out=$("$build/bench/market_bench" --instances "$n" --days "$days")
  echo "$out"
  summary+=("$(echo "$out" | grep '^RESULT')")
done
echo
echo "| instances | wall s | cpu s | cpu / 10 s goal | steps/s (cpu) | events | events/s (cpu) | peak RSS MiB | RSS KiB / launched |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for line in "${summary[@]}"; do
  eval "$(echo "$line" | sed 's/^RESULT //')"
  awk -v n="$instances" -v w="$wall_s" -v c="$cpu_s" -v st="$steps" -v ev="$events" -v r="$rss_kib" -v l="$launched" \
    'BEGIN { printf "| %d | %.2f | %.2f | %.2fx | %.0f | %d | %.0f | %.1f | %.2f |\n", n, w, c, c/10, st/c, ev, ev/c, r/1024, r/l }'
done
