#!/bin/bash
# End to end with a real Slurm: munged, slurmctld and slurmd (Debian's slurm-wlm) run in the
# foreground with a config in a temporary directory (one node, one partition), a long job runs
# on the node, and the real lastcalld watches an instance of the real mockmeta with the shipped
# hooks drain/slurm and resume/slurm. Checked, in order:
#   1. an administrator's drain ("admin: bad DIMM") keeps its reason through a maintenance
#      notice and that notice's withdrawal (the resume hook leaves it alone);
#   2. a withdrawn notice returns the node to service (lastcall's drain, then resume);
#   3. the spot interruption drains the node with lastcall's reason: the running job keeps
#      running, a job submitted afterwards stays pending;
#   4. the agent's metrics pass `promtool check metrics`.
# The node's NodeName (lc-node1) is not the host name: the hooks find it by NodeHostname. The
# hooks get SLURM_CONF from their settings file (lastcalld clears the environment).
#
# Everything runs in a private network and pid namespace (unshare): Slurm listens on its fixed
# ports without meeting anything else on the machine, and no process outlives the test. Every
# process is still stopped by pid, jobs by scancel. Needs root (slurmd runs jobs as root; the
# namespaces) and `scripts/install-deps slurm`; where Slurm cannot be started the test FAILS
# with the reason, it does not skip. About 25 s.
#
# Usage: slurm_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1
BUILD=$2

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "${T:-/nonexistent}"/*.log; do
    [ -f "$log" ] && { echo "--- $(basename "$log") (last 25 lines)" >&2; tail -n 25 "$log" >&2; }
  done
  exit 1
}

if [ -z "${LASTCALL_SLURM_TEST_NS:-}" ]; then
  [ "$(id -u)" -eq 0 ] || fail "Slurm cannot be started here: the test needs root (slurmd runs jobs as root), running as uid $(id -u)"
  for tool in munged slurmctld slurmd scontrol sbatch squeue scancel unshare ip promtool; do
    command -v "$tool" >/dev/null ||
      fail "Slurm cannot be started here: $tool is missing; run scripts/install-deps slurm metrics"
  done
  for bin in "$BUILD/agent/lastcalld" "$BUILD/mockmeta/mockmeta"; do
    [ -x "$bin" ] || fail "$bin is not built"
  done
  LASTCALL_SLURM_TEST_NS=1 exec unshare --net --pid --fork --mount-proc bash "$0" "$@" ||
    fail "Slurm cannot be started here: unshare --net --pid failed"
fi

start=$SECONDS
ip link set lo up || fail "cannot bring up loopback in the test's network namespace"
T=$(mktemp -d "${TMPDIR:-/tmp}/lastcall-slurm-test.XXXXXX")
chmod 755 "$T"
PIDS=()
export SLURM_CONF=$T/slurm.conf
cleanup() {
  local status=$? pid i
  # Jobs first (their slurmstepd belongs to no one of ours), while slurmctld still answers.
  if [ -s "$T/slurmctld.started" ]; then
    scancel --full --quiet --user root 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ "$status" -ne 0 ] || rm -rf "$T"
  [ "$status" -eq 0 ] || echo "(kept $T)" >&2
}
trap cleanup EXIT

# wait_for WHAT SECONDS CMD...: polls CMD (every 0.1 s) until it succeeds; fails after SECONDS.
wait_for() {
  local what=$1 limit=$2 from=$SECONDS pid
  shift 2
  until "$@"; do
    [ $((SECONDS - from)) -lt "$limit" ] || fail "timed out after ${limit}s waiting for $what"
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || fail "process $pid ended while waiting for $what"
    done
    sleep 0.1
  done
}
step() { echo "== [$((SECONDS - start))s] $*"; }

# --- Slurm -------------------------------------------------------------------------------------
step "munged, slurmctld, slurmd"
mkdir -p "$T/munge" "$T/ctld" "$T/spool"
chmod 755 "$T/munge"
head -c 1024 /dev/urandom >"$T/munge.key"
chmod 600 "$T/munge.key"
munged --foreground --force --socket="$T/munge/socket" --key-file="$T/munge.key" \
  --log-file="$T/munged.log" --pid-file="$T/munge/pid" --seed-file="$T/munge/seed" \
  2>>"$T/munged.log" &
PIDS+=($!)
wait_for munged 10 test -S "$T/munge/socket"
host=$(hostname -s)
# CommunicationParameters=EnableIPv6: with IPv4 alone Slurm resolves with AI_ADDRCONFIG, which
# finds nothing in a namespace whose only interface is loopback.
cat >"$T/slurm.conf" <<EOF
ClusterName=lastcall-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
CommunicationParameters=EnableIPv6
AuthType=auth/munge
AuthInfo=socket=$T/munge/socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/ctld
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=lc-node1 NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=batch Nodes=lc-node1 Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i 2>>"$T/slurmctld.log" &
PIDS+=($!)
echo yes >"$T/slurmctld.started"
slurmd -D -N lc-node1 2>>"$T/slurmd.log" &
PIDS+=($!)

node_field() {  # FIELD: its value in `scontrol show node lc-node1`
  scontrol show node lc-node1 2>/dev/null | sed -nE "s/^.*[[:space:]]$1=([^ ]*).*$/\\1/p" | head -1
}
node_reason() {
  scontrol show node lc-node1 2>/dev/null | sed -nE 's/^ *Reason=(.*) \[[^]]*\]$/\1/p'
}
node_state_is() { [[ "$(node_field State)" =~ $1 ]]; }
wait_for "node lc-node1 to come up idle" 30 node_state_is '^IDLE$'

job_state() { squeue -h -j "$1" -o %T 2>/dev/null; }
job_is() { [ "$(job_state "$1")" = "$2" ]; }
step "a long job"
long=$(sbatch --parsable -o /dev/null --wrap 'sleep 600') || fail "sbatch failed"
wait_for "job $long to run" 30 job_is "$long" RUNNING

# --- mockmeta and lastcalld --------------------------------------------------------------------
step "mockmeta, an AWS spot instance, lastcalld with the shipped Slurm hooks"
"$BUILD/mockmeta/mockmeta" --imds-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0 --ecs-listen 127.0.0.1:0 \
  --clock manual --ready-file "$T/ready.json" >/dev/null 2>"$T/mockmeta.log" &
PIDS+=($!)
wait_for mockmeta 10 test -s "$T/ready.json"
control=$(jq -r .control "$T/ready.json")
imds=$(jq -r .imds "$T/ready.json")
api() {  # METHOD PATH [BODY]
  curl -sSf --max-time 5 -X "$1" "http://$control$2" ${3:+-d "$3"} || fail "mockmeta $1 $2 failed"
}
id=$(api POST /v1/aws/instances '{"type":"m5.large","zone":"us-east-1a","name":"slurm-node"}' | jq -r .id)
[ -n "$id" ] && [ "$id" != null ] || fail "no instance"

mkdir -p "$T/agent" "$T/hooks.conf.d"
for phase in checkpoint drain notify resume; do mkdir -p "$T/hooks.d/$phase"; done
# The settings file, as an operator writes it: a Slurm config outside the default path.
printf 'SLURM_CONF=%s\nSLURM_TIMEOUT=10\n' "$SLURM_CONF" >"$T/hooks.conf.d/slurm.conf"
chmod 644 "$T/hooks.conf.d/slurm.conf"
cat >"$T/agent/lastcalld.toml" <<EOF
provider = "aws"
state_dir = "$T/agent/state"
runtime_dir = "$T/agent/run"
[poll]
interval = "200ms"
request_timeout = "150ms"
jitter = 0
clock_skew_threshold = "2s"
[aws]
endpoint = "http://$imds/$id"
[hooks]
dir = "$T/hooks.d"
allowed_owner = "root"
[[hook]]
name = "slurm-drain"
phase = "drain"
command = ["$SRC/hooks/drain/slurm"]
env = { HOOKS_CONF_DIR = "$T/hooks.conf.d" }
[[hook]]
name = "slurm-resume"
phase = "resume"
command = ["$SRC/hooks/resume/slurm"]
env = { HOOKS_CONF_DIR = "$T/hooks.conf.d" }
[metrics]
textfile = "$T/agent/lastcall.prom"
write_interval = "1s"
EOF
# No SLURM_CONF for the agent: the hooks must get it from their settings file.
env -u SLURM_CONF JOURNAL_STREAM= "$BUILD/agent/lastcalld" --config "$T/agent/lastcalld.toml" \
  2>"$T/lastcalld.log" &
PIDS+=($!)
wait_for "lastcalld's first polls" 10 grep -qs '"polls": [1-9]' "$T/agent/run/status.json"

ended() {  # PHASE N: the phase has ended ok N times (the agent's log)
  [ "$(grep -c "phase $1 ended: ok" "$T/lastcalld.log" || true)" -ge "$2" ]
}
virtual_now() { api GET /v1/clock | jq -r .now_unix_ms; }
maintenance() {  # schedules a system-reboot in 5 virtual minutes (inside the 10 min lead)
  local at
  at=$(date -u -d "@$(($(virtual_now) / 1000 + 300))" +%Y-%m-%dT%H:%M:%SZ)
  api POST "/v1/aws/instances/$id/scheduled-events" "{\"code\":\"system-reboot\",\"not_before\":\"$at\"}" |
    jq -r .event_id
}

# --- 1. an administrator's drain survives a notice and its withdrawal ----------------------------
step "1. admin drain kept through a maintenance notice and its withdrawal"
scontrol update NodeName=lc-node1 State=DRAIN Reason="admin: bad DIMM" || fail "admin drain"
event=$(maintenance)
wait_for "the drain hook (maintenance 1)" 20 ended drain 1
grep -q "already drained (MIXED+DRAIN, reason: admin: bad DIMM); keeping that drain" "$T/lastcalld.log" ||
  fail "drain/slurm did not keep the admin's drain"
[ "$(node_reason)" = "admin: bad DIMM" ] || fail "the admin's reason became: $(node_reason)"
api POST "/v1/aws/instances/$id/scheduled-events/$event/cancel" >/dev/null
wait_for "the resume hook (maintenance 1)" 20 ended resume 1
node_state_is 'DRAIN' || fail "resume undid the admin's drain: $(node_field State)"
[ "$(node_reason)" = "admin: bad DIMM" ] || fail "the admin's reason became: $(node_reason)"
grep -q "was drained by someone else (reason: admin: bad DIMM); leaving it drained" "$T/lastcalld.log" ||
  fail "resume/slurm did not say why it left the node drained"
scontrol update NodeName=lc-node1 State=RESUME || fail "admin resume"
wait_for "the admin's resume" 30 node_state_is '^MIXED$'

# --- 2. a withdrawn notice returns the node to service ------------------------------------------
step "2. lastcall's drain, undone when the notice is withdrawn"
event=$(maintenance)
wait_for "the drain hook (maintenance 2)" 20 ended drain 2
node_state_is 'DRAIN' || fail "not drained by the maintenance notice: $(node_field State)"
[[ "$(node_reason)" == "lastcall: aws maintenance system-reboot by "* ]] ||
  fail "drain reason is not lastcall's: $(node_reason)"
api POST "/v1/aws/instances/$id/scheduled-events/$event/cancel" >/dev/null
wait_for "the resume hook (maintenance 2)" 20 ended resume 2
node_state_is DRAIN && fail "the node is not back in service: $(node_field State)"
# After RESUME Slurm flags the node NOT_RESPONDING until its next ping of slurmd.
wait_for "lc-node1 to answer after its resume" 30 node_state_is '^MIXED$'
job_is "$long" RUNNING || fail "job $long is $(job_state "$long"), not RUNNING"

# --- 3. the interruption drains; the running job runs on, a new job waits ----------------------
step "3. spot interruption"
api POST "/v1/aws/instances/$id/interrupt" '{"action":"terminate","in":"2m"}' >/dev/null
wait_for "the drain hook (interruption)" 20 ended drain 3
node_state_is '^MIXED\+DRAIN$' || fail "not drained by the interruption: $(node_field State)"
[[ "$(node_reason)" == "lastcall: aws interruption terminate by "* ]] ||
  fail "drain reason is not lastcall's: $(node_reason)"
job_is "$long" RUNNING || fail "job $long is $(job_state "$long") after the drain, not RUNNING"
new=$(sbatch --parsable -o /dev/null --wrap 'sleep 600') || fail "sbatch failed"
pending_reason() { squeue -h -j "$new" -o '%T %r' 2>/dev/null; }
# Slurm gives a pending job its reason once the scheduler has looked at it.
wait_for "job $new to be considered" 20 eval '[[ "$(pending_reason)" == PENDING\ ReqNodeNotAvail* ]]'
job_is "$long" RUNNING || fail "job $long is $(job_state "$long"), not RUNNING"

# --- 4. metrics --------------------------------------------------------------------------------
step "4. promtool check metrics"
wait_for "the metrics textfile" 10 grep -qs 'lastcall_hook_runs_total{phase="drain",result="ok"} 3' \
  "$T/agent/lastcall.prom"
promtool check metrics <"$T/agent/lastcall.prom" >"$T/promtool.log" 2>&1 ||
  fail "promtool check metrics: $(cat "$T/promtool.log")"
grep -q 'lastcall_hook_duration_seconds_bucket{phase="drain",le="+Inf"} 3' "$T/agent/lastcall.prom" ||
  fail "no drain duration histogram: $(grep hook_duration "$T/agent/lastcall.prom")"

bad=$(grep -E 'phase [a-z]+ ended: ' "$T/lastcalld.log" | grep -v 'ended: ok' || true)
[ -z "$bad" ] || fail "a phase did not end ok: $bad"
step "ok"
echo "PASS in $((SECONDS - start))s"
