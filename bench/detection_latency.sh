#!/usr/bin/env bash
# Detection latency: the time from the moment mockmeta makes a notice visible to the moment
# lastcalld starts the first hook, over many notices, each on a fresh instance (so a new notice
# id) and raised at a random phase of the agent's poll cycle. Real mockmeta and real lastcalld on
# loopback. Prints p50/p90/p99/max per set and the goal (p99 <= interval + 20 ms) with the ratio;
# results go in bench/RESULTS.md ("detection latency").
#
#   bench/detection_latency.sh [BUILD_DIR]          (default build/release; needs lastcalld, mockmeta)
#   SETS="aws:100ms:200 alibaba:100ms:200 aws:2s:200" bench/detection_latency.sh build/release
#   PARALLEL=4 JITTER=0 KEEP=/tmp/lat bench/detection_latency.sh   (KEEP: copy the raw samples)
#   STATE_BASE=/dev/shm bench/detection_latency.sh   (lastcalld's state_dir there, e.g. tmpfs)
#
# A set is PROVIDER:INTERVAL:COUNT. Per notice, a worker launches an instance (AWS spot through
# POST /v1/aws/instances, or an Alibaba SpotAsPriceGo instance), starts a lastcalld watching it
# through the path prefix (poll.interval INTERVAL, the default jitter 0.1 unless JITTER is set),
# waits for its first poll in status.json, sleeps a random 0..INTERVAL, and raises the notice:
# AWS `POST .../interrupt {"in":"2m"}` (spot/instance-action), Alibaba `POST .../recycle`
# (instance/spot/termination-time). The notice-visible time is taken with bash's EPOCHREALTIME
# (no fork) just before and just after that call; latencies are counted from the after-time, and
# the call's own duration is reported. The hook-start time is the first thing the only hook does:
# the checkpoint hook is `/usr/bin/date +%s%N` itself (no shell), so its stamp is taken about an
# exec after lastcalld spawns it; lastcalld's own log lines carry no timestamp. Its stdout
# reaches lastcalld's log, where the worker finds it.
#
# lastcalld's state_dir is on the temporary directory's file system unless STATE_BASE is set:
# before the first hook it writes (and fsyncs, file and directory) the new notice's record and
# the phase start, so the disk's fsync latency is part of what this measures (as in production,
# /var/lib/lastcall); STATE_BASE=/dev/shm separates it out.
#
# Sets with an interval under 1 s run one notice at a time; slower sets run PARALLEL (default 10)
# workers, each with its own agent and instance (the agents are idle between polls). Only
# loopback traffic; every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
sets="${SETS:-aws:100ms:200 alibaba:100ms:200 aws:2s:200}"
agent="$build/agent/lastcalld"
mockmeta="$build/mockmeta/mockmeta"
for b in "$agent" "$mockmeta"; do
  [ -x "$b" ] || { echo "detection_latency: $b missing; build targets lastcalld mockmeta" >&2; exit 1; }
done
for tool in jq curl; do
  command -v "$tool" >/dev/null || { echo "detection_latency: $tool missing" >&2; exit 1; }
done
export LC_ALL=C  # EPOCHREALTIME with a '.'

work="$(mktemp -d /tmp/lastcall-latency.XXXXXX)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Agents that workers started (a worker records each pid before it waits on it).
  if [ -f "$work/agent.pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$work/agent.pids"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "detection_latency: $*" >&2; exit 1; }

# Large pools with fixed prices (tests/scenarios/quiet-market.toml): only the bench's own calls
# make notices, nothing moves under the load.
"$mockmeta" --scenario tests/scenarios/quiet-market.toml --seed 11 --imds-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0 --ecs-listen 127.0.0.1:0 \
  --ready-file "$work/ready.json" >/dev/null 2>"$work/mockmeta.err" &
mm=$!
pids+=("$mm")
for _ in $(seq 200); do [ -s "$work/ready.json" ] && break; kill -0 "$mm" || fail "mockmeta exited"; sleep 0.05; done
[ -s "$work/ready.json" ] || fail "mockmeta not ready after 10 s"
control="http://$(jq -r .control "$work/ready.json")"
imds="http://$(jq -r .imds "$work/ready.json")"
mkdir -p "$work/hooks.d"

us() { local t="$1"; echo $(( ${t%.*} * 1000000 + 10#${t#*.} )); }  # EPOCHREALTIME -> microseconds
duration_us() {  # "100ms" / "2s" -> microseconds
  case "$1" in
    *ms) echo $(( ${1%ms} * 1000 )) ;;
    *s) echo $(( ${1%s} * 1000000 )) ;;
    *) fail "interval $1: use ms or s" ;;
  esac
}

# worker PROVIDER INTERVAL COUNT OUT: COUNT notices, one line each in OUT:
#   before_us after_us hook_ns
worker() {
  local provider="$1" interval="$2" count="$3" out="$4" n=0 tries=0
  local iv_us; iv_us="$(duration_us "$interval")"
  local timeout="1s" nap=0.01
  [ "$iv_us" -ge 2000000 ] || timeout="$(( iv_us / 2000 ))ms"
  [ "$iv_us" -lt 1000000 ] || nap=0.05
  while [ "$n" -lt "$count" ]; do
    tries=$((tries + 1))
    [ "$tries" -le $((count * 2 + 10)) ] || { echo "worker: too many failed notices" >&2; return 1; }
    local id raise body
    if [ "$provider" = aws ]; then
      id="$(curl -sf --max-time 5 -XPOST "$control/v1/aws/instances" \
        -d '{"type":"m5.large","zone":"us-east-1a","spot":true}' | jq -r .id)"
      raise="$control/v1/aws/instances/$id/interrupt"
      body='{"in":"2m"}'
    else
      id="$(curl -sf --max-time 5 -XPOST "$control/v1/alibaba/instances" -d '{"zone":"cn-hangzhou-b",
        "type":"ecs.c5.large","spot_strategy":"SpotAsPriceGo","spot_duration":0}' |
        jq -r '.InstanceIdSets.InstanceIdSet[0]')"
      raise="$control/v1/alibaba/instances/$id/recycle"
      body=""
    fi
    [ -n "$id" ] && [ "$id" != null ] || { echo "worker: launch failed" >&2; continue; }
    local d="$work/agents/$id"
    mkdir -p "$d"
    {
      echo "provider = \"$provider\""
      echo "state_dir = \"${STATE_BASE:-$d}/state-$id\""
      echo "runtime_dir = \"$d/run\""
      echo "[poll]"
      echo "interval = \"$interval\""
      echo "request_timeout = \"$timeout\""
      [ -z "${JITTER:-}" ] || echo "jitter = $JITTER"
      echo "[$provider]"
      echo "endpoint = \"$imds/$id\""
      echo "[hooks]"
      echo "dir = \"$work/hooks.d\""
      echo "[[hook]]"
      echo "name = \"stamp\""
      echo "phase = \"checkpoint\""
      echo "command = [\"/usr/bin/date\", \"+%s%N\"]"
    } >"$d/lastcalld.toml"
    JOURNAL_STREAM= "$agent" --config "$d/lastcalld.toml" 2>"$d/agent.log" &
    local apid=$!
    echo "$apid" >>"$work/agent.pids"
    local ok=1 waited=0
    until grep -qs '"polls": [1-9]' "$d/run/status.json"; do
      waited=$((waited + 1))
      if [ "$waited" -gt 1000 ] || ! kill -0 "$apid" 2>/dev/null; then ok=0; break; fi
      sleep 0.01
    done
    if [ "$ok" = 1 ]; then
      local delay=$(( ((RANDOM << 15) | RANDOM) % iv_us ))
      sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
      local t0=$EPOCHREALTIME
      curl -sf --max-time 5 -o /dev/null -XPOST "$raise" ${body:+-d "$body"} || ok=0
      local t1=$EPOCHREALTIME
      local stamp="" limit=$(( (3 * iv_us + 5000000) / 10000 )) i=0
      while [ "$ok" = 1 ] && [ -z "$stamp" ]; do
        stamp="$(sed -nE 's/^<[0-9]>([0-9]{19}) .*HOOK=stamp .*STREAM=stdout.*/\1/p' "$d/agent.log" | head -n1)"
        [ -n "$stamp" ] && break
        i=$((i + 1)); [ "$i" -le "$limit" ] || { echo "worker: no hook for $id" >&2; ok=0; break; }
        sleep "$nap"
      done
      [ "$ok" = 1 ] && echo "$(us "$t0") $(us "$t1") $stamp" >>"$out" && n=$((n + 1))
    fi
    kill "$apid" 2>/dev/null || true
    wait "$apid" 2>/dev/null || true
    [ "$ok" = 1 ] || { echo "worker: notice on $id failed:" >&2; tail -n 5 "$d/agent.log" >&2; }
    [ -n "${KEEP:-}" ] || rm -rf "$d" "${STATE_BASE:-$d}/state-$id"
  done
}

# column FILE EXPR: one derived column (awk expression over $1 $2 $3), sorted ascending.
column() { awk "{ printf \"%.3f\\n\", $2 }" "$1" | sort -g; }
# pct SORTED_FILE Q: nearest-rank percentile.
pct() { awk -v q="$2" '{ v[NR] = $1 } END { k = int(q * NR + 0.999999); if (k < 1) k = 1; print v[k] }' "$1"; }

summary() {  # PROVIDER INTERVAL FILE
  local iv_ms=$(( $(duration_us "$2") / 1000 )) f="$3"
  column "$f" '$3 / 1e6 - $2 / 1e3' >"$f.lat"     # hook start - after the call
  column "$f" '$3 / 1e6 - $1 / 1e3' >"$f.from0"   # hook start - before the call
  column "$f" '($2 - $1) / 1e3' >"$f.call"        # the call's own duration
  local n p99; n="$(wc -l <"$f.lat")"; p99="$(pct "$f.lat" .99)"
  printf '%-8s %-6s %5d %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %9.2f %6.1f %6.1f %6d %7.2fx\n' \
    "$1" "$2" "$n" "$(head -n1 "$f.lat")" "$(pct "$f.lat" .5)" "$(pct "$f.lat" .9)" "$p99" \
    "$(tail -n1 "$f.lat")" "$(pct "$f.from0" .99)" "$(pct "$f.call" .5)" "$(pct "$f.call" .99)" \
    "$(tail -n1 "$f.call")" $((iv_ms + 20)) "$(awk -v a="$p99" -v b=$((iv_ms + 20)) 'BEGIN { print a / b }')"
}

printf 'detection_latency: mockmeta %s, load average %s\n' "$imds" "$(cut -d' ' -f1-3 /proc/loadavg)"
header="$(printf '%-8s %-6s %5s %8s %8s %8s %8s %8s %8s %9s %6s %6s %6s %7s' provider interval n \
  "min ms" "p50 ms" "p90 ms" "p99 ms" "max ms" "p99 t0" "call p50" "p99" "max" "goal" "p99/goal")"
results=()
for set in $sets; do
  IFS=: read -r provider interval count <<<"$set"
  case "$provider" in aws | alibaba) ;; *) fail "set $set: provider aws or alibaba" ;; esac
  par=1
  [ "$(duration_us "$interval")" -lt 1000000 ] || par="${PARALLEL:-10}"
  [ "$par" -le "$count" ] || par="$count"
  echo "detection_latency: $provider at $interval, $count notices, $par at a time ..."
  wpids=()
  for w in $(seq "$par"); do
    c=$(( count / par + (w <= count % par ? 1 : 0) ))
    worker "$provider" "$interval" "$c" "$work/samples.$provider.$interval.$w" &
    wpids+=($!)
    pids+=($!)
  done
  for p in "${wpids[@]}"; do wait "$p" || fail "a worker failed"; done
  cat "$work"/samples."$provider.$interval".* >"$work/set.$provider.$interval"
  [ -z "${KEEP:-}" ] || cp "$work/set.$provider.$interval" "$KEEP.$provider.$interval"
  results+=("$(summary "$provider" "$interval" "$work/set.$provider.$interval")")
  echo "$header"; echo "${results[-1]}"
done

echo
echo "detection latency (ms from the raising call's return to the first hook's start;"
echo "'p99 t0' counts from just before the call; 'call' is the raising call's own duration):"
echo "$header"
printf '%s\n' "${results[@]}"
echo "machine: $(nproc) cpu ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr);" \
  "load average now $(cut -d' ' -f1-3 /proc/loadavg); jitter ${JITTER:-default 0.1};" \
  "state_dir on $(stat -f -c %T "${STATE_BASE:-$work}") (${STATE_BASE:-the temporary directory})"
