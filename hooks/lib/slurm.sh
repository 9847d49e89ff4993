# shellcheck shell=bash
# Slurm helpers of the shipped drain/slurm and resume/slurm hooks. Sourced after hook-lib.sh,
# never run.
#
# The hooks own only the drains they make: every reason lastcall sets starts with
# LC_SLURM_MARK, drain keeps a drain that is already there (an administrator's, with its
# reason), and resume undoes only a drain whose reason carries the mark. Both are idempotent.
# The node is SLURM_NODE, else the node Slurm knows at this host (NodeHostname or NodeAddr).

LC_SLURM_MARK="lastcall:"

# lc_slurm_init NAME: settings (slurm.conf), scontrol on PATH, the node in LC_SLURM_NODE.
lc_slurm_init() {
  lc_init "$1" slurm SLURM_NODE SLURM_REASON SLURM_TIMEOUT SLURM_CONF
  SLURM_TIMEOUT=${SLURM_TIMEOUT:-0}
  lc_require_uint SLURM_TIMEOUT "$SLURM_TIMEOUT"
  # A Slurm whose config is not at the compiled-in path: scontrol reads SLURM_CONF.
  lc_export SLURM_CONF
  lc_need scontrol
  LC_SLURM_NODE=${SLURM_NODE:-}
  [ -n "$LC_SLURM_NODE" ] || lc_slurm_find_node
}

# lc_slurm_query ARG...: `scontrol ARG...` within the budget (read-only, so also in a dry run);
# its output in LC_SLURM_OUT. A failure exits 1, no time left or no answer in time exits 4.
lc_slurm_query() {
  local limit status=0
  limit=$(lc_limit "$SLURM_TIMEOUT")
  LC_SLURM_OUT=$(timeout --foreground -k 2 "$limit" scontrol "$@" 2>&1) || status=$?
  case $status in
    0) ;;
    124 | 137) lc_die "$LC_EXIT_TIMEOUT" "scontrol $* did not answer within ${limit}s" ;;
    *) lc_die "$LC_EXIT_FAILED" "scontrol $* exited $status: $LC_SLURM_OUT" ;;
  esac
}

# lc_slurm_update WHAT ARG...: `scontrol update ARG...` within the budget; a failure
# exits 1, out of time 4, both naming WHAT.
lc_slurm_update() {
  local what=$1 limit status=0
  shift
  limit=$(lc_limit "$SLURM_TIMEOUT")
  lc_run "$limit" scontrol update "$@" || status=$?
  case $status in
    0) ;;
    124 | 137) lc_die "$LC_EXIT_TIMEOUT" "scontrol could not $what $LC_SLURM_NODE within ${limit}s" ;;
    *) lc_die "$LC_EXIT_FAILED" "scontrol could not $what $LC_SLURM_NODE (exit $status)" ;;
  esac
}

# NodeName may differ from the host name: find the node whose NodeHostname or NodeAddr is this
# host (short or full name). None, or more than one: exit 2, asking for SLURM_NODE.
lc_slurm_find_node() {
  local short full line name host addr
  local -a found=()
  short=$(hostname -s)
  full=$(hostname)
  lc_slurm_query show node -o
  while IFS= read -r line; do
    [[ " $line" =~ \ NodeName=([^ ]+) ]] || continue
    name=${BASH_REMATCH[1]}
    host="" addr=""
    [[ " $line" =~ \ NodeHostName=([^ ]+) ]] && host=${BASH_REMATCH[1]}
    [[ " $line" =~ \ NodeAddr=([^ ]+) ]] && addr=${BASH_REMATCH[1]}
    case " $host $addr " in *" $short "* | *" $full "*) found+=("$name") ;; esac
  done <<<"$LC_SLURM_OUT"
  case ${#found[@]} in
    1) LC_SLURM_NODE=${found[0]} ;;
    0) lc_die "$LC_EXIT_CONFIG" "no Slurm node has NodeHostname or NodeAddr $short or $full; set SLURM_NODE" ;;
    *) lc_die "$LC_EXIT_CONFIG" "several Slurm nodes run on this host (${found[*]}); set SLURM_NODE" ;;
  esac
  lc_log "this host is Slurm node $LC_SLURM_NODE"
}

# lc_slurm_state: LC_SLURM_STATE (e.g. IDLE+DRAIN, MIXED) and LC_SLURM_REASON (without the
# "[user@time]" Slurm appends) of the node.
lc_slurm_state() {
  local line
  lc_slurm_query show node "$LC_SLURM_NODE"
  LC_SLURM_STATE="" LC_SLURM_REASON=""
  while IFS= read -r line; do
    [[ " $line" =~ \ State=([^ ]+) ]] && [ -z "$LC_SLURM_STATE" ] && LC_SLURM_STATE=${BASH_REMATCH[1]}
    if [[ "$line" =~ ^[[:space:]]*Reason=(.*)$ ]]; then
      LC_SLURM_REASON=${BASH_REMATCH[1]}
      [[ "$LC_SLURM_REASON" =~ ^(.*)\ \[[^]@]*@[^]]*\]$ ]] && LC_SLURM_REASON=${BASH_REMATCH[1]}
    fi
  done <<<"$LC_SLURM_OUT"
  [ -n "$LC_SLURM_STATE" ] ||
    lc_die "$LC_EXIT_FAILED" "scontrol show node $LC_SLURM_NODE gave no State: $LC_SLURM_OUT"
}

# Drained, draining, or marked to drain: Slurm shows DRAIN as a flag (IDLE+DRAIN, MIXED+DRAIN).
lc_slurm_is_drained() { [[ "+$LC_SLURM_STATE+" =~ \+DRAIN(ING|ED)?\+ ]]; }
lc_slurm_ours() { [[ "$LC_SLURM_REASON" == "$LC_SLURM_MARK"* ]]; }
