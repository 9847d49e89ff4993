#!/usr/bin/env bash
# IMDS throughput: wrk against one instance's notice path on mockmeta, and in the same run against
# nginx with one worker serving the same body as a static file with the same Content-Type. Prints
# requests/s for each, the ratio mockmeta/nginx, wrk's latency percentiles, and mockmeta's memory
# under the load (VmRSS sampled every 0.2 s while wrk runs, VmHWM after). Also each server's CPU
# time per request (utime+stime from /proc/PID/stat over the run / requests completed): on a
# shared machine requests/s follow whatever else runs, CPU per request much less. Results go in
# bench/RESULTS.md ("IMDS throughput").
#
#   bench/imds_throughput.sh [BUILD_DIR]            (default build/release; needs mockmeta)
#   CONNS="1 50 200" DURATION=10s THREADS=1 bench/imds_throughput.sh build/release
#   FLAVOR=alibaba bench/imds_throughput.sh         (instance/spot/termination-time instead)
#
# The path is /<id>/latest/meta-data/spot/instance-action of an AWS spot instance with an active
# interruption notice (IMDSv1 allowed, so no token header; the instance-action notice is due in
# 6 h so it stays up for the whole run). Needs wrk and nginx (scripts/install-deps wrk
# nginx-light). nginx runs in the foreground as this script's own process (daemon off,
# master_process off: the single process is the one worker), with its config, pid file and logs
# in a temporary directory; access_log off. Only loopback traffic; every process it starts is
# stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build="${1:-build/release}"
conns="${CONNS:-1 50 200}"
duration="${DURATION:-10s}"
threads="${THREADS:-1}"
flavor="${FLAVOR:-aws}"
mockmeta="$build/mockmeta/mockmeta"
[ -x "$mockmeta" ] || { echo "imds_throughput: $mockmeta missing; build target mockmeta" >&2; exit 1; }
for tool in wrk nginx jq curl; do
  command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin"
  command -v "$tool" >/dev/null ||
    { echo "imds_throughput: $tool missing (scripts/install-deps wrk nginx-light jq)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/lastcall-imds-throughput.XXXXXX)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "imds_throughput: $*" >&2; tail -n 20 "$work"/*.err >&2 2>/dev/null || true; exit 1; }

# Large pools with fixed prices (tests/scenarios/quiet-market.toml): only the bench's own calls
# make notices, nothing moves under the load.
"$mockmeta" --scenario tests/scenarios/quiet-market.toml --seed 7 --imds-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0 --ecs-listen 127.0.0.1:0 \
  --ready-file "$work/ready.json" >/dev/null 2>"$work/mockmeta.err" &
mm=$!
pids+=("$mm")
for _ in $(seq 200); do [ -s "$work/ready.json" ] && break; kill -0 "$mm" || fail "mockmeta exited"; sleep 0.05; done
[ -s "$work/ready.json" ] || fail "mockmeta not ready after 10 s"
control="$(jq -r .control "$work/ready.json")"
imds="$(jq -r .imds "$work/ready.json")"
api() { curl -sf --max-time 5 "$@"; }

if [ "$flavor" = aws ]; then
  id="$(api -XPOST "http://$control/v1/aws/instances" \
    -d '{"type":"m5.large","zone":"us-east-1a","spot":true}' | jq -r .id)"
  api -XPOST "http://$control/v1/aws/instances/$id/interrupt" -d '{"in":"6h"}' >/dev/null ||
    fail "interrupt $id"
  path="/$id/latest/meta-data/spot/instance-action"
else
  id="$(api -XPOST "http://$control/v1/alibaba/instances" -d '{"zone":"cn-hangzhou-b",
    "type":"ecs.c5.large","spot_strategy":"SpotAsPriceGo","spot_duration":0}' |
    jq -r '.InstanceIdSets.InstanceIdSet[0]')"
  api -XPOST "http://$control/v1/alibaba/instances/$id/recycle" >/dev/null || fail "recycle $id"
  path="/$id/latest/meta-data/instance/spot/termination-time"
fi
[ -n "$id" ] && [ "$id" != null ] || fail "could not launch an instance"

# The same body and Content-Type as a static file for nginx.
mkdir -p "$work/www$(dirname "$path")" "$work/nginx"
api -D "$work/headers" -o "$work/www$path" "http://$imds$path" || fail "GET $path"
ctype="$(awk -F': ' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$work/headers")"
[ -n "$ctype" ] || ctype="text/plain"

# A loopback port for nginx: a random one nobody listens on (nginx cannot report a port 0
# bind); start_nginx retries with another port if the bind still fails.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
  fail "no free port"
}
start_nginx() {
  local port
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  types { }
  default_type "$ctype";
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    root $work/www;
  }
}
CONF
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>>"$work/nginx.err" &
    ngx=$!
    for _ in $(seq 100); do
      kill -0 "$ngx" 2>/dev/null || break
      if curl -sf -o /dev/null "http://127.0.0.1:$port$path"; then
        pids+=("$ngx"); nginx_port="$port"; return
      fi
      sleep 0.05
    done
    kill "$ngx" 2>/dev/null || true; wait "$ngx" 2>/dev/null || true
  done
  fail "nginx did not start"
}
start_nginx
cmp -s <(curl -sf "http://$imds$path") <(curl -sf "http://127.0.0.1:$nginx_port$path") ||
  fail "nginx and mockmeta serve different bodies"

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
clk_tck="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime + stime
# wrk NAME URL CONNS PID: runs wrk and prints "rps p50 p90 p99 errors cpu_us_per_request"
# (latencies in ms; CPU of PID, the server, over the run divided by the requests wrk completed).
run_wrk() {
  local name="$1" url="$2" c="$3" pid="$4" out="$work/wrk.$1.$3" t0 t1
  t0="$(cpu_ticks "$pid")"
  wrk -t"$threads" -c"$c" -d"$duration" --latency "$url" >"$out" 2>&1 || fail "wrk failed: $(cat "$out")"
  t1="$(cpu_ticks "$pid")"
  awk -v ticks=$((t1 - t0)) -v hz="$clk_tck" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +90%/ { p90 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { for (i = 4; i <= NF; i += 2) err += $i }
    END { printf "%s %.3f %.3f %.3f %d %.2f\n", rps, p50, p90, p99, err, n ? ticks / hz * 1e6 / n : 0 }' "$out"
}

echo "imds_throughput: $flavor notice path $path ($(wc -c <"$work/www$path") bytes, $ctype)"
echo "imds_throughput: mockmeta on $imds (pid $mm), nginx 1 worker on 127.0.0.1:$nginx_port (pid $ngx)"
echo "imds_throughput: wrk -t$threads -cN -d$duration --latency; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-6s %-9s %12s %9s %9s %9s %7s %11s %10s %10s\n' conns server "req/s" "p50 ms" "p90 ms" "p99 ms" errors \
  "CPU us/req" "VmRSS MiB" "VmHWM MiB"
for c in $conns; do
  # Sample mockmeta's RSS while wrk loads it; keep the highest sample.
  (
    max=0
    while :; do
      r="$(kib "$mm" VmRSS)"; [ "$r" -gt "$max" ] && max="$r"; echo "$max" >"$work/rss.$c"
      sleep 0.2
    done
  ) &
  sampler=$!
  pids+=("$sampler")
  read -r m_rps m50 m90 m99 merr mcpu < <(run_wrk mockmeta "http://$imds$path" "$c" "$mm")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  rss="$(cat "$work/rss.$c")"; hwm="$(kib "$mm" VmHWM)"
  read -r n_rps n50 n90 n99 nerr ncpu < <(run_wrk nginx "http://127.0.0.1:$nginx_port$path" "$c" "$ngx")
  printf '%-6s %-9s %12.0f %9.3f %9.3f %9.3f %7d %11.2f %10.2f %10.2f\n' "$c" mockmeta "$m_rps" "$m50" "$m90" "$m99" \
    "$merr" "$mcpu" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')"
  printf '%-6s %-9s %12.0f %9.3f %9.3f %9.3f %7d %11.2f\n' "$c" nginx "$n_rps" "$n50" "$n90" "$n99" "$nerr" "$ncpu"
  printf '%-6s %-9s %11.2fx   (goal: >= 1.00x; CPU per request nginx/mockmeta %.2fx)\n' "$c" ratio \
    "$(awk -v a="$m_rps" -v b="$n_rps" 'BEGIN { print a / b }')" "$(awk -v a="$ncpu" -v b="$mcpu" 'BEGIN { print b ? a / b : 0 }')"
done
echo
echo "machine: $(nproc) cpu ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr)," \
  "$(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
