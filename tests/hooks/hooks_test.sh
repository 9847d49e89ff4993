#!/bin/bash
# End-to-end tests of the shipped hooks (hooks/<phase>/<name>): each case runs a hook as a real
# process, with an empty environment except the LASTCALL_* contract variables, and a PATH made of
# stand-in executables (kubectl, nomad, scontrol, systemctl, curl, ...) that record their
# arguments, plus only the basic tools the hooks need. So a real kubectl on the build machine
# is never reached, and "tool missing" is tested by leaving a stand-in out.
#
# Usage: hooks_test.sh SOURCE_DIR CASE   (ctest registers one test per case; `list` prints them)
# Every process a case starts is killed by pid on exit, also when the case fails.
set -euo pipefail

SRC=$1
CASE=$2
HOOKS=$SRC/hooks

T=$(mktemp -d "${TMPDIR:-/tmp}/lastcall-hooks-test.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL [$CASE]: $*" >&2
  echo "--- hook stdout:" >&2
  cat "$T/out" >&2 2>/dev/null || true
  echo "--- hook stderr:" >&2
  cat "$T/err" >&2 2>/dev/null || true
  echo "--- calls:" >&2
  cat "$T/calls" >&2 2>/dev/null || true
  exit 1
}

mkdir -p "$T/stubs" "$T/tools" "$T/conf" "$T/stub"
# Stand-ins run with the hook's PATH, so they name the tools they use by absolute path.
GREP=$(command -v grep)
SORT=$(command -v sort)
TAIL=$(command -v tail)
: >"$T/calls"
# The only real programs a hook may use besides its stand-ins.
for tool in bash env timeout date stat readlink dirname hostname sleep tr head cat sed cp \
  mkdir touch rm; do
  ln -s "$(command -v "$tool")" "$T/tools/$tool"
done

# stub NAME: a stand-in that appends "NAME arg..." (args %q-quoted) to $T/calls, saves its stdin
# to $T/stub/NAME.stdin.N when $T/stub/NAME.read-stdin exists, prints $T/stub/NAME.out.N (its
# Nth call) or else $T/stub/NAME.out, and
# exits with the next code of $T/stub/NAME.codes (one per line; the last one repeats; default 0).
# A code "sleep:N" sleeps N seconds first (a tool that hangs).
stub() {
  local name=$1
  cat >"$T/stubs/$name" <<EOF
#!/bin/bash
d=$T/stub
n=\$(( \$(cat "\$d/$name.count" 2>/dev/null || echo 0) + 1 ))
echo "\$n" >"\$d/$name.count"
{ printf '%s' "$name"; printf ' %q' "\$@"; echo; } >>"$T/calls"
env | $GREP -E '^(NOMAD_|KUBECONFIG|SLURM_)' | $SORT >"\$d/$name.env.\$n" || true
[ ! -e "\$d/$name.read-stdin" ] || cat >"\$d/$name.stdin.\$n"
code=0
if [ -e "\$d/$name.codes" ]; then
  code=\$(sed -n "\${n}p" "\$d/$name.codes")
  [ -n "\$code" ] || code=\$($TAIL -n1 "\$d/$name.codes")
fi
case "\$code" in sleep:*) sleep "\${code#sleep:}"; code=0 ;; esac
if [ -e "\$d/$name.out.\$n" ]; then cat "\$d/$name.out.\$n"
elif [ -e "\$d/$name.out" ]; then cat "\$d/$name.out"; fi
exit "\$code"
EOF
  chmod 755 "$T/stubs/$name"
}
# curl stand-in: prints the next HTTP status of $T/stub/curl.http (like -w '%{http_code}'),
# exits with the next code of $T/stub/curl.codes.
stub_curl() {
  stub curl
  touch "$T/stub/curl.read-stdin"
  sed -i -e '/^elif \[ -e "\$d\/curl.out" \]/d' \
    -e 's|^if \[ -e "\$d/curl.out.*$|s=$(sed -n "${n}p" "$d/curl.http"); [ -n "$s" ] \|\| s=$('"$TAIL"' -n1 "$d/curl.http"); printf "%s" "$s"|' \
    "$T/stubs/curl"
}

# run_hook PHASE NAME [VAR=VALUE...]: runs the hook, stdin from $T/stdin (or empty), 30s at most.
# Sets RC; output in $T/out and $T/err.
NOTICE_ENV=(
  LASTCALL_PHASE=drain LASTCALL_PROVIDER=aws LASTCALL_NOTICE_ID=aws-i-0abc-instance-action-1
  LASTCALL_NOTICE_KIND=interruption LASTCALL_ACTION=terminate
  LASTCALL_DEADLINE=2026-11-23T18:00:00Z LASTCALL_DEADLINE_UNIX=1795543200
  LASTCALL_SECONDS_LEFT=120 LASTCALL_INSTANCE_ID=i-0abc LASTCALL_INSTANCE_TYPE=m5.large
  LASTCALL_ZONE=us-east-1a LASTCALL_REGION=us-east-1
)
run_hook() {
  local phase=$1 name=$2
  shift 2
  [ -e "$T/stdin" ] || : >"$T/stdin"
  RC=0
  env -i PATH="$T/stubs:$T/tools" HOOKS_CONF_DIR="$T/conf" "${NOTICE_ENV[@]}" \
    LASTCALL_PHASE="$phase" "$@" \
    "$T/tools/timeout" 30 "$HOOKS/$phase/$name" <"$T/stdin" >"$T/out" 2>"$T/err" || RC=$?
}

expect_rc() { [ "$RC" -eq "$1" ] || fail "exit code $RC, expected $1"; }
# expect_calls LINE...: the recorded calls are exactly these lines. "~N~" in a line matches N,
# N-1 or N-2: a budget computed after a tool ran may have lost a second or two on a busy machine.
expect_calls() {
  local -a got
  mapfile -t got <"$T/calls"
  [ ${#got[@]} -eq $# ] || fail "${#got[@]} calls, expected $#: $(printf '\n  %s' "$@")"
  local i=0 want re
  for want in "$@"; do
    re=$(printf '%s' "$want" | sed -E 's/[][\.*^$+?(){}|/]/\\&/g')
    while [[ "$re" =~ ~([0-9]+)~ ]]; do
      re=${re/"${BASH_REMATCH[0]}"/"(${BASH_REMATCH[1]}|$((BASH_REMATCH[1] - 1))|$((BASH_REMATCH[1] - 2)))"}
    done
    [[ "${got[i]}" =~ ^${re}$ ]] || fail "call $((i + 1)) is not: $want"
    i=$((i + 1))
  done
}
# json_check FILE EXPR: FILE is valid JSON and the Python expression EXPR (over j) holds.
json_check() {
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}
expect_no_calls() { [ ! -s "$T/calls" ] || fail "expected no tool calls"; }
expect_out() { grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"; }
expect_err() { grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"; }

# A workload: a bash process that handles SIGUSR1 by touching $1 (when given) and SIGTERM by
# exiting; with "ignore" it ignores both. Its pid goes to $T/workload.pid.
start_workload() {
  local mode=$1 marker=${2:-}
  case "$mode" in
    marker) bash -c "trap 'touch \"$marker\"' USR1; trap 'exit 0' TERM; while :; do sleep 0.1; done" & ;;
    exit) bash -c "trap 'exit 0' USR1 TERM; while :; do sleep 0.1; done" & ;;
    ignore) bash -c "trap '' USR1 TERM; while :; do sleep 0.1; done" & ;;
  esac
  PIDS+=($!)
  disown $!
  echo $! >"$T/workload.pid"
  WORKLOAD_PID=$!
  # Wait (bounded) until the traps are installed: the shell has started its loop.
  local i
  for ((i = 0; i < 100; i++)); do
    [ -n "$(pgrep -P "$WORKLOAD_PID" 2>/dev/null || true)" ] && return 0
    sleep 0.05
  done
  fail "workload did not start"
}

# ---------------------------------------------------------------------------------------------
case_kubernetes_drain_cordons_then_drains_within_time_left() {
  stub kubectl
  run_hook drain kubernetes K8S_NODE=node-a K8S_POD_GRACE=300 LASTCALL_SECONDS_LEFT=100
  expect_rc 0
  # budget = min(100 - 6 reserve, 60 - 1 timeout) = 59; pod grace cut below it.
  expect_calls "kubectl cordon -- node-a" \
    "kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=~59~s --grace-period=~58~ -- node-a"
  expect_out "node node-a cordoned and drained"
}

case_kubernetes_budget_follows_seconds_left() {
  stub kubectl
  run_hook drain kubernetes K8S_NODE=node-a LASTCALL_SECONDS_LEFT=20 LASTCALL_TIMEOUT=300
  expect_rc 0
  expect_calls "kubectl cordon -- node-a" \
    "kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=~14~s -- node-a"
}

case_kubernetes_settings_file_and_env_precedence() {
  stub kubectl
  cat >"$T/conf/kubernetes.conf" <<'EOF'
# settings
K8S_NODE=from-file   # the node
K8S_KUBECONFIG="/etc/kubernetes/admin.conf"
K8S_DRAIN_ARGS=--ignore-daemonsets --force
EOF
  run_hook drain kubernetes K8S_NODE=from-env
  expect_rc 0
  expect_calls "kubectl --kubeconfig /etc/kubernetes/admin.conf cordon -- from-env" \
    "kubectl --kubeconfig /etc/kubernetes/admin.conf drain --ignore-daemonsets --force --timeout=~59~s -- from-env"
}

case_kubernetes_node_defaults_to_hostname() {
  stub kubectl
  run_hook drain kubernetes
  expect_rc 0
  expect_calls "kubectl cordon -- $(hostname)" \
    "kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=~59~s -- $(hostname)"
}

case_kubernetes_missing_kubectl_does_nothing() {
  run_hook drain kubernetes K8S_NODE=node-a
  expect_rc 3
  expect_err "kubectl not found on PATH"
  expect_err "nothing was done"
  expect_no_calls
}

case_kubernetes_drain_failure_is_reported() {
  stub kubectl
  printf '0\n1\n' >"$T/stub/kubectl.codes"
  run_hook drain kubernetes K8S_NODE=node-a
  expect_rc 1
  expect_err "kubectl drain node-a exited 1 (node stays cordoned)"
}

case_kubernetes_hung_kubectl_is_cut_at_the_budget() {
  stub kubectl
  printf '0\nsleep:20\n' >"$T/stub/kubectl.codes"
  local start=$SECONDS
  run_hook drain kubernetes K8S_NODE=node-a LASTCALL_SECONDS_LEFT=8
  expect_rc 4
  expect_err "did not finish within 2s"
  [ $((SECONDS - start)) -lt 10 ] || fail "the hook ran $((SECONDS - start))s, its budget was 2s"
}

case_kubernetes_resume_uncordons() {
  stub kubectl
  run_hook resume kubernetes K8S_NODE=node-a LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "kubectl uncordon -- node-a"
}

case_settings_unknown_key_names_file_and_line() {
  stub kubectl
  printf 'K8S_NODE=a\n\nK8S_NDOE=b\n' >"$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 2
  expect_err "$T/conf/kubernetes.conf:3: unknown key K8S_NDOE"
  expect_no_calls
}

case_settings_bad_line_and_open_quote() {
  stub kubectl
  printf 'export K8S_NODE=a\n' >"$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 2
  expect_err "kubernetes.conf:1: expected KEY=VALUE"
  printf "K8S_NODE='a\n" >"$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 2
  expect_err "kubernetes.conf:1: the value of K8S_NODE opens a quote"
  printf 'K8S_TIMEOUT=soon\n' >"$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 2
  expect_err "K8S_TIMEOUT must be a whole number of seconds, got: soon"
  expect_no_calls
}

case_settings_file_writable_by_others_is_refused() {
  stub kubectl
  printf 'K8S_NODE=a\n' >"$T/conf/kubernetes.conf"
  chmod 666 "$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 2
  expect_err "$T/conf/kubernetes.conf: writable by group or others (mode 666); refusing it"
  expect_no_calls
}

case_settings_are_not_executed() {
  stub kubectl
  # shellcheck disable=SC2016
  printf 'K8S_NODE=$(touch %s/pwned)`touch %s/pwned2`\n' "$T" "$T" >"$T/conf/kubernetes.conf"
  run_hook drain kubernetes
  expect_rc 0
  [ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ] || fail "a settings value was executed"
  grep -qF 'cordon -- \$\(touch' "$T/calls" || fail "the value was not passed literally"
}

case_out_of_time_does_nothing() {
  stub kubectl
  run_hook drain kubernetes K8S_NODE=node-a LASTCALL_SECONDS_LEFT=5
  expect_rc 4
  expect_err "out of time"
  expect_no_calls
}

case_dry_run_prints_and_runs_nothing() {
  stub kubectl
  run_hook drain kubernetes K8S_NODE=node-a HOOK_DRY_RUN=yes
  expect_rc 0
  expect_out "dry run, not running (max 59s): kubectl cordon -- node-a"
  expect_no_calls
}

case_nomad_drain_with_deadline_and_settings() {
  stub nomad
  printf 'NOMAD_ADDR=https://127.0.0.1:4646\nNOMAD_DRAIN_ARGS=-ignore-system\n' >"$T/conf/nomad.conf"
  run_hook drain nomad LASTCALL_SECONDS_LEFT=40
  expect_rc 0
  expect_calls "nomad node drain -self -enable -yes -deadline 33s -ignore-system"
  grep -qx 'NOMAD_ADDR=https://127.0.0.1:4646' "$T/stub/nomad.env.1" || fail "NOMAD_ADDR not exported"
}

case_nomad_missing_does_nothing() {
  run_hook drain nomad
  expect_rc 3
  expect_err "nomad not found on PATH"
}

case_nomad_resume_only_disables_the_drain() {
  # `drain -disable` already makes the node eligible: no second `eligibility -enable` call.
  stub nomad
  run_hook resume nomad LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "nomad node drain -self -disable -yes"
}

case_nomad_drain_force_or_no_deadline_gets_no_deadline() {
  # nomad refuses -deadline together with -force or -no-deadline.
  stub nomad
  run_hook drain nomad LASTCALL_SECONDS_LEFT=40 NOMAD_DRAIN_ARGS="-force -ignore-system"
  expect_rc 0
  expect_calls "nomad node drain -self -enable -yes -force -ignore-system"
  : >"$T/calls"
  run_hook drain nomad LASTCALL_SECONDS_LEFT=40 NOMAD_DRAIN_ARGS=-no-deadline
  expect_rc 0
  expect_calls "nomad node drain -self -enable -yes -no-deadline"
}

case_kubernetes_dry_run_does_not_claim_a_drain() {
  stub kubectl
  run_hook drain kubernetes K8S_NODE=node-a HOOK_DRY_RUN=yes
  expect_rc 0
  expect_no_calls
  grep -qF "cordoned and drained" "$T/out" && fail "a dry run says it drained"
  expect_out "kubernetes-drain: dry run: nothing was changed"
}

# slurm_node NAME STATE [REASON]: `scontrol show node NAME` as Slurm 22.05 prints it.
slurm_node() {
  printf 'NodeName=%s Arch=x86_64 CoresPerSocket=1 \n   CPUAlloc=0 CPUEfctv=2 CPUTot=2 CPULoad=0.01\n' "$1"
  printf '   NodeAddr=127.0.0.1 NodeHostName=%s Version=22.05.8\n' "$(hostname -s)"
  printf '   State=%s ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A\n' "$2"
  printf '   Partitions=batch \n   BootTime=2026-12-02T05:00:00 SlurmdStartTime=2026-12-02T05:00:01\n'
  [ -z "${3:-}" ] || printf '   Reason=%s [root@2026-12-02T05:30:00]\n' "$3"
}

case_slurm_drain_and_resume() {
  stub scontrol
  slurm_node node017 IDLE >"$T/stub/scontrol.out.1"
  slurm_node node017 IDLE+DRAIN "lastcall: aws interruption terminate by 2026-11-23T18:00:00Z" \
    >"$T/stub/scontrol.out.3"
  run_hook drain slurm SLURM_NODE=node017
  expect_rc 0
  expect_calls "scontrol show node node017" \
    "scontrol update NodeName=node017 State=DRAIN Reason=lastcall:\\ aws\\ interruption\\ terminate\\ by\\ 2026-11-23T18:00:00Z"
  expect_out "slurm node node017 set to DRAIN"
  : >"$T/calls"
  run_hook resume slurm SLURM_NODE=node017 LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "scontrol show node node017" "scontrol update NodeName=node017 State=RESUME"
}

case_slurm_failure_and_missing() {
  stub scontrol
  printf '0\n1\n' >"$T/stub/scontrol.codes"
  slurm_node n1 MIXED >"$T/stub/scontrol.out"
  run_hook drain slurm SLURM_NODE=n1
  expect_rc 1
  expect_err "scontrol could not drain n1"
  rm "$T/stubs/scontrol"
  run_hook drain slurm SLURM_NODE=n1
  expect_rc 3
}

case_slurm_settings_file_passes_slurm_conf_and_path() {
  # lastcalld clears the environment: a Slurm whose config is not at the default path needs
  # SLURM_CONF, and a scontrol off the default PATH needs PATH, both from slurm.conf.
  mkdir -p "$T/slurm-bin"
  stub scontrol
  mv "$T/stubs/scontrol" "$T/slurm-bin/scontrol"
  slurm_node n1 IDLE >"$T/stub/scontrol.out"
  printf 'SLURM_CONF=/opt/slurm/etc/slurm.conf\nPATH=%s\n' "$T/slurm-bin:$T/tools" \
    >"$T/conf/slurm.conf"
  RC=0
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOOKS_CONF_DIR="$T/conf" "${NOTICE_ENV[@]}" SLURM_NODE=n1 \
    "$T/tools/timeout" 30 "$HOOKS/drain/slurm" </dev/null >"$T/out" 2>"$T/err" || RC=$?
  expect_rc 0
  expect_calls "scontrol show node n1" \
    "scontrol update NodeName=n1 State=DRAIN Reason=lastcall:\\ aws\\ interruption\\ terminate\\ by\\ 2026-11-23T18:00:00Z"
  grep -qx 'SLURM_CONF=/opt/slurm/etc/slurm.conf' "$T/stub/scontrol.env.2" ||
    fail "SLURM_CONF not exported to scontrol"
  # A PATH the [[hook]] env sets wins over the file's.
  mv "$T/slurm-bin/scontrol" "$T/stubs/scontrol"
  : >"$T/calls"
  printf 'PATH=/nonexistent\n' >"$T/conf/slurm.conf"
  run_hook resume slurm SLURM_NODE=n1 LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "scontrol show node n1"
}

case_slurm_resume_of_a_node_not_drained_succeeds() {
  # Hooks are idempotent: resuming a node in service is not an error ("Invalid node state").
  stub scontrol
  printf '0\n1\n' >"$T/stub/scontrol.codes"  # scontrol update State=RESUME would fail
  slurm_node n1 ALLOCATED >"$T/stub/scontrol.out"
  run_hook resume slurm SLURM_NODE=n1 LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "scontrol show node n1"
  expect_out "slurm node n1 is not drained (ALLOCATED); nothing to resume"
}

case_slurm_admin_drain_is_kept_through_drain_and_resume() {
  stub scontrol
  slurm_node n1 MIXED+DRAIN "admin: bad DIMM" >"$T/stub/scontrol.out"
  run_hook drain slurm SLURM_NODE=n1
  expect_rc 0
  expect_calls "scontrol show node n1"
  expect_out "keeping that drain and its reason"
  : >"$T/calls"
  run_hook resume slurm SLURM_NODE=n1 LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "scontrol show node n1"
  expect_out "was drained by someone else (reason: admin: bad DIMM); leaving it drained"
}

case_slurm_drain_twice_drains_once() {
  stub scontrol
  slurm_node n1 IDLE+DRAIN "lastcall: aws interruption terminate by 2026-11-23T18:00:00Z" \
    >"$T/stub/scontrol.out"
  run_hook drain slurm SLURM_NODE=n1
  expect_rc 0
  expect_calls "scontrol show node n1"
  expect_out "already drained by lastcall"
}

case_slurm_node_name_is_asked_from_slurm() {
  # NodeName need not be the host name: the node whose NodeHostName is this host is drained.
  stub scontrol
  printf 'NodeName=cn-1 Arch=x86_64 NodeAddr=10.0.0.1 NodeHostName=other-host Version=22.05.8 State=IDLE\nNodeName=cn-7 Arch=x86_64 NodeAddr=10.0.0.7 NodeHostName=%s Version=22.05.8 State=IDLE\n' \
    "$(hostname -s)" >"$T/stub/scontrol.out.1"
  slurm_node cn-7 IDLE >"$T/stub/scontrol.out.2"
  run_hook drain slurm
  expect_rc 0
  expect_calls "scontrol show node -o" "scontrol show node cn-7" \
    "scontrol update NodeName=cn-7 State=DRAIN Reason=lastcall:\\ aws\\ interruption\\ terminate\\ by\\ 2026-11-23T18:00:00Z"
  # No node at this host: a settings error naming what to set, nothing changed.
  : >"$T/calls"
  rm "$T/stub/scontrol.count"
  printf 'NodeName=cn-1 NodeAddr=10.0.0.1 NodeHostName=other-host State=IDLE\n' >"$T/stub/scontrol.out.1"
  run_hook drain slurm
  expect_rc 2
  expect_err "no Slurm node has NodeHostname or NodeAddr $(hostname -s)"
  expect_err "set SLURM_NODE"
  expect_calls "scontrol show node -o"
}

case_slurm_out_of_time_exits_4() {
  # Like the Kubernetes and Nomad hooks: a scontrol cut at the budget is "out of time" (4).
  stub scontrol
  printf '0\nsleep:20\n' >"$T/stub/scontrol.codes"
  slurm_node n1 IDLE >"$T/stub/scontrol.out"
  local start=$SECONDS
  run_hook drain slurm SLURM_NODE=n1 LASTCALL_SECONDS_LEFT=8
  expect_rc 4
  expect_err "scontrol could not drain n1 within 2s"
  [ $((SECONDS - start)) -lt 10 ] || fail "the hook ran $((SECONDS - start))s, its budget was 2s"
}

case_stop_units_in_order_and_reports_failures() {
  stub systemctl
  printf '0\n5\n0\n' >"$T/stub/systemctl.codes"
  run_hook drain stop-units UNITS="web.service worker.service cache.service"
  expect_rc 1
  expect_calls "systemctl stop -- web.service" "systemctl stop -- worker.service" \
    "systemctl stop -- cache.service"
  expect_err "could not stop: worker.service (systemctl exited 5)"
}

case_start_units_in_reverse_order() {
  stub systemctl
  printf 'UNITS=web.service worker.service\n' >"$T/conf/units.conf"
  run_hook resume start-units LASTCALL_SECONDS_LEFT=
  expect_rc 0
  expect_calls "systemctl start -- worker.service" "systemctl start -- web.service"
}

case_stop_units_needs_units() {
  stub systemctl
  run_hook drain stop-units
  expect_rc 2
  expect_err "UNITS is not set"
  expect_no_calls
}

case_signal_workload_pidfile_waits_for_marker() {
  start_workload marker "$T/marker"
  run_hook checkpoint signal-workload WORKLOAD_PIDFILE="$T/workload.pid" WORKLOAD_WAIT=marker \
    WORKLOAD_MARKER="$T/marker"
  expect_rc 0
  expect_out "sending SIGUSR1 to pid $WORKLOAD_PID"
  expect_out "checkpoint done: $T/marker written"
  kill -0 "$WORKLOAD_PID" || fail "the workload should still run after a marker checkpoint"
}

case_signal_workload_unit_waits_for_exit() {
  start_workload exit
  stub systemctl
  echo "$WORKLOAD_PID" >"$T/stub/systemctl.out"
  run_hook checkpoint signal-workload WORKLOAD_UNIT=render.service
  expect_rc 0
  expect_calls "systemctl show --property=MainPID --value -- render.service"
  expect_out "checkpoint done: pid $WORKLOAD_PID exited"
}

case_signal_workload_gives_up_at_the_budget() {
  start_workload ignore
  local start=$SECONDS
  run_hook checkpoint signal-workload WORKLOAD_PIDFILE="$T/workload.pid" LASTCALL_SECONDS_LEFT=9
  expect_rc 4
  expect_err "gave up after 3s waiting for the workload (exit)"
  [ $((SECONDS - start)) -lt 8 ] || fail "ran $((SECONDS - start))s for a 3s budget"
}

case_signal_workload_no_process_does_nothing() {
  echo 999999 >"$T/dead.pid"
  run_hook checkpoint signal-workload WORKLOAD_PIDFILE="$T/dead.pid"
  expect_rc 1
  expect_err "process 999999 (pid file $T/dead.pid) is not running; nothing was done"
  stub systemctl
  echo 0 >"$T/stub/systemctl.out"
  run_hook checkpoint signal-workload WORKLOAD_UNIT=stopped.service
  expect_rc 1
  expect_err "no running process in unit stopped.service"
}

case_sync_dir_copies_to_dest() {
  mkdir -p "$T/src/sub" "$T/dest"
  echo one >"$T/src/a"
  echo two >"$T/src/sub/b"
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src" SYNC_DEST="$T/dest"
  expect_rc 0
  [ "$(cat "$T/dest/a")" = one ] && [ "$(cat "$T/dest/sub/b")" = two ] || fail "not copied"
  expect_out "synced $T/src"
}

case_sync_dir_command_gets_source_last() {
  mkdir -p "$T/src"
  stub upload
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src" SYNC_COMMAND="upload --bucket b1"
  expect_rc 0
  expect_calls "upload --bucket b1 $T/src"
}

case_sync_dir_errors() {
  mkdir -p "$T/src"
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src" SYNC_DEST="$T/not-mounted"
  expect_rc 1
  expect_err "SYNC_DEST $T/not-mounted is not a directory (volume not mounted?); nothing was done"
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src" SYNC_COMMAND="no-such-uploader"
  expect_rc 3
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src"
  expect_rc 2
  expect_err "set SYNC_DEST or SYNC_COMMAND"
}

case_sync_dir_slow_upload_is_cut() {
  mkdir -p "$T/src"
  stub upload
  echo sleep:20 >"$T/stub/upload.codes"
  local start=$SECONDS
  run_hook checkpoint sync-dir SYNC_SOURCE="$T/src" SYNC_COMMAND=upload SYNC_TIMEOUT=1
  expect_rc 4
  expect_err "did not finish within 1s"
  [ $((SECONDS - start)) -lt 8 ] || fail "ran $((SECONDS - start))s"
}

case_webhook_retries_until_delivered() {
  stub_curl
  printf '503\n000\n200\n' >"$T/stub/curl.http"
  printf '0\n7\n0\n' >"$T/stub/curl.codes"
  echo '{"id":"aws-i-0abc-instance-action-1","kind":"interruption"}' >"$T/stdin"
  run_hook notify webhook WEBHOOK_URL=http://127.0.0.1:9/hook LASTCALL_INSTANCE_ID='i-"odd"\'
  expect_rc 0
  [ "$(wc -l <"$T/calls")" -eq 3 ] || fail "expected 3 attempts"
  expect_err "attempt 1 got HTTP 503"
  expect_err "attempt 2 failed (curl exit 7)"
  expect_out "webhook: HTTP 200 after 3 attempt(s)"
  grep -qF -- "-X POST -H Content-Type:\\ application/json --data-binary @- --max-time" "$T/calls" ||
    fail "curl args"
  json_check "$T/stub/curl.stdin.3" \
    'j["notice"]["id"] == "aws-i-0abc-instance-action-1" and j["instance_id"] == "i-" + chr(34) + "odd" + chr(34) + chr(92) and "aws interruption notice" in j["text"]' ||
    fail "body: $(cat "$T/stub/curl.stdin.3")"
}

case_webhook_client_error_is_not_retried() {
  stub_curl
  echo 404 >"$T/stub/curl.http"
  run_hook notify webhook WEBHOOK_URL=http://127.0.0.1:9/hook
  expect_rc 1
  expect_err "answered HTTP 404; not retrying"
  [ "$(wc -l <"$T/calls")" -eq 1 ] || fail "retried a 404"
}

case_webhook_gives_up_when_time_runs_out() {
  stub_curl
  echo 503 >"$T/stub/curl.http"
  local start=$SECONDS
  run_hook notify webhook WEBHOOK_URL=http://127.0.0.1:9/hook LASTCALL_SECONDS_LEFT=10
  expect_rc 4
  expect_err "attempt(s): out of time"
  # Budget 4s: attempts at 0s and 1s (backoff 1s), then 2s backoff would overrun (3 if the clock
  # was kind); never more.
  local n
  n=$(wc -l <"$T/calls")
  [ "$n" -ge 2 ] && [ "$n" -le 3 ] || fail "$n attempts"
  [ $((SECONDS - start)) -lt 8 ] || fail "ran $((SECONDS - start))s for a 4s budget"
}

case_webhook_template_and_headers_file() {
  stub_curl
  echo 204 >"$T/stub/curl.http"
  echo 'Authorization: Bearer s3cret' >"$T/headers"
  cat >"$T/conf/webhook.conf" <<EOF
WEBHOOK_URL=http://127.0.0.1:9/hook
WEBHOOK_TEMPLATE={"id":"{{notice_id}}","left":{{seconds_left}},"zone":"{{zone}}","n":{{notice_json}}}
WEBHOOK_HEADERS_FILE=$T/headers
EOF
  run_hook notify webhook
  expect_rc 0
  grep -qF -- "-H @$T/headers" "$T/calls" || fail "headers file not passed"
  grep -qF s3cret "$T/calls" && fail "the secret is on curl's command line"
  [ "$(cat "$T/stub/curl.stdin.1")" = '{"id":"aws-i-0abc-instance-action-1","left":120,"zone":"us-east-1a","n":null}' ] ||
    fail "body: $(cat "$T/stub/curl.stdin.1")"
}

case_webhook_real_curl_against_loopback_server() {
  # A real curl against a real loopback HTTP server (python3) that fails once, then accepts.
  command -v curl >/dev/null && command -v python3 >/dev/null ||
    fail "this case needs curl and python3 (scripts/install-deps)"
  ln -s "$(command -v curl)" "$T/tools/curl"
  python3 - "$T" <<'EOF' &
import http.server, sys
t = sys.argv[1]
n = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n[0] += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(f"{t}/server.log", "a") as f:
            f.write(f"{self.path} {self.headers.get('Authorization')} {body.decode()}\n")
        self.send_response(500 if n[0] == 1 else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(f"{t}/port.tmp", "w").write(str(s.server_address[1]))
import os; os.rename(f"{t}/port.tmp", f"{t}/port")
s.serve_forever()
EOF
  PIDS+=($!)
  disown $!
  local i
  for ((i = 0; i < 100; i++)); do [ -e "$T/port" ] && break; sleep 0.05; done
  [ -e "$T/port" ] || fail "test server did not start"
  echo 'Authorization: Bearer t0k' >"$T/headers"
  echo '{"id":"n1"}' >"$T/stdin"
  run_hook notify webhook WEBHOOK_URL="http://127.0.0.1:$(cat "$T/port")/alert" \
    WEBHOOK_HEADERS_FILE="$T/headers" WEBHOOK_TEMPLATE='{"id":"{{notice_id}}","n":{{notice_json}}}'
  expect_rc 0
  expect_out "HTTP 200 after 2 attempt(s)"
  [ "$(tail -n1 "$T/server.log")" = '/alert Bearer t0k {"id":"aws-i-0abc-instance-action-1","n":{"id":"n1"}}' ] ||
    fail "server saw: $(cat "$T/server.log")"
}

case_lb_deregister_and_register() {
  stub_curl
  echo 200 >"$T/stub/curl.http"
  cat >"$T/conf/lb.conf" <<'EOF'
LB_DEREGISTER_URL=http://127.0.0.1:9/pools/web/members/{{instance_id}}
LB_DEREGISTER_METHOD=DELETE
LB_REGISTER_URL=http://127.0.0.1:9/pools/web/members
LB_REGISTER_BODY={"id":"{{instance_id}}"}
LB_DRAIN_WAIT=1
EOF
  run_hook drain lb-deregister
  expect_rc 0
  grep -qF -- "-X DELETE --max-time 5 -- http://127.0.0.1:9/pools/web/members/i-0abc" "$T/calls" ||
    fail "deregister call"
  expect_out "waiting 1s for connections to drain"
  : >"$T/calls"
  run_hook resume lb-register LASTCALL_SECONDS_LEFT=
  expect_rc 0
  grep -qF -- "-X POST -H Content-Type:\\ application/json --data-binary @- --max-time 5 -- http://127.0.0.1:9/pools/web/members" "$T/calls" ||
    fail "register call"
  [ "$(cat "$T/stub/curl.stdin.2")" = '{"id":"i-0abc"}' ] || fail "register body"
}

case_journal_line_and_bad_priority() {
  stub systemd-cat
  run_hook notify journal JOURNAL_PRIORITY=crit
  expect_rc 0
  expect_calls "systemd-cat -t lastcall-notice -p crit -- echo aws\\ interruption\\ notice\\ aws-i-0abc-instance-action-1\\ for\\ i-0abc:\\ terminate\\ at\\ 2026-11-23T18:00:00Z\\ \\(120s\\ left\\)"
  run_hook notify journal JOURNAL_PRIORITY=loud
  expect_rc 2
  expect_err "JOURNAL_PRIORITY must be a syslog level"
  rm "$T/stubs/systemd-cat"
  run_hook notify journal
  expect_rc 3
}

case_hooks_run_from_a_linked_copy() {
  # Operators enable a hook by linking it into /etc/lastcall/hooks.d/<phase>/: the hook must
  # still find its library through the link.
  stub kubectl
  mkdir -p "$T/hooks.d/drain"
  ln -s "$HOOKS/drain/kubernetes" "$T/hooks.d/drain/50-kubernetes"
  RC=0
  env -i PATH="$T/stubs:$T/tools" HOOKS_CONF_DIR="$T/conf" "${NOTICE_ENV[@]}" K8S_NODE=n1 \
    "$T/hooks.d/drain/50-kubernetes" </dev/null >"$T/out" 2>"$T/err" || RC=$?
  expect_rc 0
  expect_calls "kubectl cordon -- n1" \
    "kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=~59~s -- n1"
}

case_every_hook_is_executable_and_named_for_run_parts() {
  local f n=0
  for f in "$HOOKS"/{checkpoint,drain,notify,resume}/*; do
    n=$((n + 1))
    [ -x "$f" ] || fail "$f is not executable"
    [[ "$(basename "$f")" =~ ^[A-Za-z0-9_-]+$ ]] || fail "$f: run-parts would skip this name"
    bash -n "$f" || fail "$f: syntax error"
    grep -q '^set -euo pipefail' "$f" || fail "$f: no set -euo pipefail"
  done
  [ "$n" -ge 12 ] || fail "expected at least 12 hooks, found $n"
}

case_simulate_runs_shipped_hooks_under_lastcalld() {
  # The real hook runner: fixed environment, notice JSON on a socket stdin, its own timeouts.
  # `lastcalld simulate` runs checkpoint, drain and notify for a made-up interruption.
  local bin=${LASTCALLD_BIN:-}
  [ -x "$bin" ] || fail "LASTCALLD_BIN ($bin) is not an executable lastcalld"
  stub kubectl
  stub_curl
  echo 200 >"$T/stub/curl.http"
  mkdir -p "$T/src" "$T/dest" "$T/hooks.d"
  echo data >"$T/src/f"
  local common="PATH = \"$T/stubs:$T/tools\", HOOKS_CONF_DIR = \"$T/conf\""
  cat >"$T/lastcalld.toml" <<EOF
provider = "aws"
[aws]
endpoint = "http://127.0.0.1:9"
[hooks]
dir = "$T/hooks.d"
allowed_owner = "$(id -un)"
[[hook]]
name = "sync"
phase = "checkpoint"
command = ["$HOOKS/checkpoint/sync-dir"]
env = { $common, SYNC_SOURCE = "$T/src", SYNC_DEST = "$T/dest" }
[[hook]]
name = "k8s"
phase = "drain"
command = ["$HOOKS/drain/kubernetes"]
env = { $common, K8S_NODE = "node-a" }
[[hook]]
name = "webhook"
phase = "notify"
command = ["$HOOKS/notify/webhook"]
env = { $common, WEBHOOK_URL = "http://127.0.0.1:9/hook" }
EOF
  RC=0
  timeout 60 "$bin" --config "$T/lastcalld.toml" simulate --kind interruption --in 90s \
    >"$T/out" 2>"$T/err" || RC=$?
  expect_rc 0
  [ "$(cat "$T/dest/f" 2>/dev/null)" = data ] || fail "checkpoint/sync-dir did not copy"
  # 90s left minus the 6s reserve, capped by hooks.default_timeout (60s) minus 1.
  grep -qE '^kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=5[0-9]s -- node-a$' \
    "$T/calls" || fail "kubectl drain not called as expected"
  json_check "$T/stub/curl.stdin.1" 'j["notice"]["kind"] == "interruption" and j["notice"]["provider"] == "simulate"' || fail "webhook body: $(cat "$T/stub/curl.stdin.1")"
}

if [ "$CASE" = list ]; then
  declare -F | sed -n 's/^declare -f case_//p'
  exit 0
fi
declare -F "case_$CASE" >/dev/null || { echo "no such case: $CASE" >&2; exit 2; }
"case_$CASE"
echo "PASS [$CASE]"
