# shellcheck shell=bash
# Shared helpers of lastcall's shipped hooks. Sourced, never run.
#
# Every hook: `lc_init NAME CONF KEY...` reads its settings (environment first, then the
# KEY=VALUE file CONF under $HOOKS_CONF_DIR), then drives one tool. The helpers print what they
# do, keep every command inside the time the notice leaves (LASTCALL_SECONDS_LEFT minus a
# reserve), and exit with the codes documented in docs/hooks.md:
#   0 done   1 the tool failed   2 bad settings   3 the tool is missing (nothing was done)
#   4 out of time
# The file is parsed, never sourced: a settings file can set only the keys its hook declares,
# and nothing in it is executed or expanded.

LC_EXIT_FAILED=1
LC_EXIT_CONFIG=2
LC_EXIT_MISSING=3
LC_EXIT_TIMEOUT=4

# Wall time left at start, in whole seconds; the hook measures its own use with $SECONDS.
lc_log() { printf '%s: %s\n' "${LC_HOOK:-hook}" "$*"; }
lc_warn() { printf '%s: warning: %s\n' "${LC_HOOK:-hook}" "$*" >&2; }
lc_die() {
  local code=$1
  shift
  printf '%s: error: %s\n' "${LC_HOOK:-hook}" "$*" >&2
  exit "$code"
}

# lc_load_conf FILE KEY...: sets each KEY found in FILE unless the environment already set it.
# Lines: blank, "# comment", or KEY=VALUE. VALUE is bare (up to a " #" comment; may hold
# blanks and quotes) or 'single' / "double" quoted (quotes stripped). Nothing is expanded or run.
# Anything else, or a key not in KEY..., is an error naming FILE:LINE, and nothing of the file
# is applied.
lc_load_conf() {
  local file=$1
  shift
  local -A known=() pending=()
  local k
  for k in "$@"; do known[$k]=1; done
  [ -e "$file" ] || return 0
  [ -r "$file" ] || lc_die "$LC_EXIT_CONFIG" "$file: not readable"
  # Settings decide what a root hook runs (SYNC_COMMAND, URLs): the same trust rule as for
  # hooks themselves.
  local owner mode
  read -r owner mode < <(stat -L -c '%u %a' -- "$file")
  if [ "$owner" -ne 0 ] && [ "$owner" -ne "$EUID" ]; then
    lc_die "$LC_EXIT_CONFIG" "$file: owned by uid $owner, not root (or uid $EUID); refusing it"
  fi
  if (((8#$mode & 8#022) != 0)); then
    lc_die "$LC_EXIT_CONFIG" "$file: writable by group or others (mode $mode); refusing it"
  fi
  local line n=0 key value
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line="${line#"${line%%[![:space:]]*}"}"  # strip leading blanks
    line="${line%"${line##*[![:space:]]}"}"  # and trailing ones
    case "$line" in '' | '#'*) continue ;; esac
    if [[ ! "$line" =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]]; then
      lc_die "$LC_EXIT_CONFIG" "$file:$n: expected KEY=VALUE, got: $line"
    fi
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    if [ -z "${known[$key]:-}" ]; then
      lc_die "$LC_EXIT_CONFIG" "$file:$n: unknown key $key (known: $*)"
    fi
    case "$value" in
      \'* | \"*)
        # Quoted: up to the matching quote, then only an optional comment.
        if [[ "$value" =~ ^\'([^\']*)\'[[:space:]]*(#.*)?$ || "$value" =~ ^\"([^\"]*)\"[[:space:]]*(#.*)?$ ]]; then
          value=${BASH_REMATCH[1]}
        else
          lc_die "$LC_EXIT_CONFIG" "$file:$n: the value of $key opens a quote it does not close"
        fi
        ;;
      *)
        # Bare: everything up to a " #" comment, trailing blanks dropped.
        value=$(sed -E 's/[[:space:]]+#.*$//' <<<"$value")
        ;;
    esac
    pending[$key]=$value
  done <"$file"
  for k in "${!pending[@]}"; do
    # The environment (e.g. a [[hook]] env table) wins over the file. lastcalld always sets
    # PATH (to LC_DEFAULT_PATH unless the [[hook]] env sets another), so for PATH only a value
    # other than that default counts as set by the environment.
    if [ "$k" = PATH ]; then
      [ "$PATH" != "$LC_DEFAULT_PATH" ] || export PATH="${pending[$k]}"
      continue
    fi
    [ -n "${!k+x}" ] || printf -v "$k" '%s' "${pending[$k]}"
  done
}

# The PATH lastcalld gives every hook whose [[hook]] env sets none (agent/actions/hook_runner.cc).
LC_DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# lc_export VAR...: exports each VAR that is set, so the tool the hook drives sees it (e.g.
# SLURM_CONF for scontrol, NOMAD_ADDR for nomad). lastcalld clears the environment; a hook's
# settings file may name these variables because the hook lists them in lc_init.
lc_export() {
  local v
  for v in "$@"; do [ -z "${!v:-}" ] || export "${v?}"; done
}

# lc_init NAME CONF KEY...: names the hook, loads its settings, computes its time budget:
#   min(LASTCALL_SECONDS_LEFT - HOOK_RESERVE, timeout - 1)
# where timeout is what lastcalld gives the hook (LASTCALL_TIMEOUT, which lastcalld exports;
# outside lastcalld HOOK_TIMEOUT: default 10 for notify hooks, 60 otherwise, like
# hooks.notify_timeout and hooks.default_timeout). HOOK_RESERVE (default 6) must exceed hooks.safety_margin (5s), so
# that the hook gives up and says why before lastcalld has to kill it.
lc_init() {
  LC_HOOK=$1
  local conf=$2
  shift 2
  # PATH: every settings file may set the PATH the hook's tool is found on.
  lc_load_conf "${HOOKS_CONF_DIR:-/etc/lastcall/hooks.conf.d}/$conf.conf" \
    HOOK_RESERVE HOOK_TIMEOUT HOOK_DRY_RUN PATH "$@"
  HOOK_RESERVE=${HOOK_RESERVE:-6}
  if [ "${LASTCALL_PHASE:-}" = notify ]; then
    HOOK_TIMEOUT=${HOOK_TIMEOUT:-10}
  else
    HOOK_TIMEOUT=${HOOK_TIMEOUT:-60}
  fi
  [ -z "${LASTCALL_TIMEOUT:-}" ] || HOOK_TIMEOUT=$LASTCALL_TIMEOUT
  lc_require_uint HOOK_RESERVE "$HOOK_RESERVE"
  lc_require_uint HOOK_TIMEOUT "$HOOK_TIMEOUT"
  LC_BUDGET=$((HOOK_TIMEOUT - 1))
  local left=${LASTCALL_SECONDS_LEFT:-}
  if [ -n "$left" ]; then
    [[ "$left" =~ ^[0-9]+$ ]] || lc_die "$LC_EXIT_CONFIG" "LASTCALL_SECONDS_LEFT is not a number: $left"
    [ $((left - HOOK_RESERVE)) -ge "$LC_BUDGET" ] || LC_BUDGET=$((left - HOOK_RESERVE))
  fi
  # empty: resume, or run by hand; only the timeout bounds it.
  LC_START=$SECONDS
}

# Seconds this hook may still use (may be <= 0).
lc_remaining() { echo $((LC_BUDGET - (SECONDS - LC_START))); }

lc_require_uint() {
  [[ "$2" =~ ^[0-9]+$ ]] || lc_die "$LC_EXIT_CONFIG" "$1 must be a whole number of seconds, got: $2"
}
lc_require_set() {
  [ -n "${!1:-}" ] || lc_die "$LC_EXIT_CONFIG" "$1 is not set (environment or ${HOOKS_CONF_DIR:-/etc/lastcall/hooks.conf.d}/$2.conf)"
}
lc_yes() {
  case "${1,,}" in 1 | yes | true | on) return 0 ;; *) return 1 ;; esac
}

# lc_need TOOL: the tool this hook drives must be on PATH; otherwise stop before doing anything.
lc_need() {
  command -v "$1" >/dev/null 2>&1 ||
    lc_die "$LC_EXIT_MISSING" "$1 not found on PATH ($PATH); nothing was done"
}

# lc_limit [CAP]: the seconds a command may take now: the time remaining, at most CAP.
# Out of time: exits 4.
lc_limit() {
  local left
  left=$(lc_remaining)
  if [ "$left" -le 0 ]; then
    lc_die "$LC_EXIT_TIMEOUT" "out of time (budget ${LC_BUDGET}s: deadline minus ${HOOK_RESERVE}s reserve, at most timeout ${HOOK_TIMEOUT}s minus 1)"
  fi
  if [ -n "${1:-}" ] && [ "$1" -gt 0 ] && [ "$1" -lt "$left" ]; then left=$1; fi
  echo "$left"
}

# lc_run SECS CMD...: prints the command, then runs it for at most SECS seconds.
# --foreground keeps the command in the hook's process group, so lastcalld's SIGTERM/SIGKILL
# to the group reaches it too. Returns the command's status (124 on timeout).
lc_run() {
  local secs=$1
  shift
  if lc_yes "${HOOK_DRY_RUN:-}"; then
    lc_log "dry run, not running (max ${secs}s): $*"
    return 0
  fi
  lc_log "run (max ${secs}s): $*"
  timeout --foreground -k 2 "$secs" "$@"
}

# lc_done MESSAGE: the hook's closing line; in a dry run it says that nothing was changed, so a
# dry run never claims a drain it did not make.
lc_done() {
  if lc_yes "${HOOK_DRY_RUN:-}"; then
    lc_log "dry run: nothing was changed"
  else
    lc_log "$*"
  fi
}

# Reads the notice JSON lastcalld writes to stdin (empty when run by hand from a terminal).
lc_read_notice() {
  LC_NOTICE_JSON=""
  if [ ! -t 0 ]; then
    IFS= read -r -d '' -t 2 LC_NOTICE_JSON || true
    LC_NOTICE_JSON=${LC_NOTICE_JSON%$'\n'}
  fi
}

# JSON string contents (no quotes) of $1.
lc_json_escape() {
  local s=$1 out="" c i code
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      '"') out+='\"' ;;
      '\') out+='\\' ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        printf -v code '%d' "'$c"
        if [ "$code" -ge 0 ] && [ "$code" -lt 32 ]; then
          printf -v c '\\u%04x' "$code"
        fi
        out+=$c
        ;;
    esac
  done
  printf '%s' "$out"
}

# lc_template TEXT: replaces {{name}} placeholders with the notice's fields, JSON-escaped
# (so a template writes "id": "{{notice_id}}"); {{notice_json}} is the notice JSON as is
# (null when there is none). Unknown placeholders are left alone.
lc_template() {
  local t=$1 name value
  local -A fields=(
    [phase]=${LASTCALL_PHASE:-} [provider]=${LASTCALL_PROVIDER:-}
    [notice_id]=${LASTCALL_NOTICE_ID:-} [kind]=${LASTCALL_NOTICE_KIND:-}
    [action]=${LASTCALL_ACTION:-} [deadline]=${LASTCALL_DEADLINE:-}
    [deadline_unix]=${LASTCALL_DEADLINE_UNIX:-} [seconds_left]=${LASTCALL_SECONDS_LEFT:-}
    [instance_id]=${LASTCALL_INSTANCE_ID:-} [instance_type]=${LASTCALL_INSTANCE_TYPE:-}
    [zone]=${LASTCALL_ZONE:-} [region]=${LASTCALL_REGION:-} [hostname]=$(hostname 2>/dev/null || true)
  )
  for name in "${!fields[@]}"; do
    value=$(lc_json_escape "${fields[$name]}")
    t=${t//"{{$name}}"/"$value"}
  done
  t=${t//"{{notice_json}}"/"${LC_NOTICE_JSON:-null}"}
  printf '%s' "$t"
}

# lc_http NAME METHOD URL BODY HEADERS_FILE ATTEMPT_TIMEOUT: one HTTP call with curl, retried
# with exponential backoff (1s, 2s, 4s ... at most HTTP_MAX_BACKOFF) while time remains. 2xx is
# success; 408, 429, 5xx and network errors are retried; any other status fails at once (a
# wrong URL or token does not get better by retrying). BODY may be empty (no body sent).
lc_http() {
  local what=$1 method=$2 url=$3 body=$4 headers=$5 per_try=$6
  local attempt=0 backoff=1 left code rc max_backoff=${HTTP_MAX_BACKOFF:-8}
  local -a args=(-sS -o /dev/null -w '%{http_code}' -X "$method")
  [ -n "$headers" ] && args+=(-H "@$headers")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary @-)
  while :; do
    attempt=$((attempt + 1))
    left=$(lc_limit "$per_try")
    if lc_yes "${HOOK_DRY_RUN:-}"; then
      lc_log "$what: dry run, not sending: $method $url"
      return 0
    fi
    lc_log "$what: $method $url (attempt $attempt, max ${left}s)"
    rc=0
    # printf, not <<<: the body is sent without a trailing newline.
    code=$(printf '%s' "$body" | curl "${args[@]}" --max-time "$left" -- "$url") || rc=$?
    code=${code:-000}
    if [ "$rc" -eq 0 ] && [[ "$code" =~ ^2[0-9][0-9]$ ]]; then
      lc_log "$what: HTTP $code after $attempt attempt(s)"
      return 0
    fi
    if [ "$rc" -eq 0 ] && [[ ! "$code" =~ ^(408|429|5[0-9][0-9])$ ]]; then
      lc_die "$LC_EXIT_FAILED" "$what: $method $url answered HTTP $code; not retrying"
    fi
    if [ "$rc" -ne 0 ]; then
      lc_warn "$what: attempt $attempt failed (curl exit $rc)"
    else
      lc_warn "$what: attempt $attempt got HTTP $code"
    fi
    if [ $(($(lc_remaining) - backoff)) -le 0 ]; then
      lc_die "$LC_EXIT_TIMEOUT" "$what: gave up after $attempt attempt(s): out of time"
    fi
    sleep "$backoff"
    backoff=$((backoff * 2))
    [ "$backoff" -le "$max_backoff" ] || backoff=$max_backoff
  done
}

# lc_node_name CONFIGURED: the configured name, else this host's name (hostname -s when SHORT).
lc_node_name() {
  if [ -n "$1" ]; then
    printf '%s' "$1"
  elif [ "${2:-}" = short ]; then
    hostname -s
  else
    hostname
  fi
}
