#!/usr/bin/env bash
# Runs lastcall's libFuzzer targets over their checked-in seed corpora and fails on any crash,
# sanitizer report, failed oracle (FUZZ_CHECK), leak, OOM or timeout that fuzz/known-crashes does
# not list (known bugs with a fix on its way). docs/security.md, "Fuzzing".
#
#   fuzz/run.sh [SECONDS] [TARGET...]   run each target's seeds once (all must pass), then fuzz
#                                       it for SECONDS (default 5): the CI run;
#                                       fuzz/run.sh 600 is the documented long run
#   fuzz/run.sh --pending [TARGET...]   runs each reproducer in fuzz/pending/<target>/ once and
#                                       says which still fail (known bugs awaiting their fix);
#                                       exits non-zero while any does
#
# Build first: cmake --preset fuzz && cmake --build --preset fuzz (or set LASTCALL_FUZZ_BUILD).
# The seed corpora (fuzz/corpus/<target>/) are only read; what a run discovers is kept under
# <build>/fuzz-out/<target>/corpus, so a later long run starts from it; a crashing input is
# saved there as crash-*/timeout-*/oom-*/leak-* (with <name>.log, its re-run) and its path
# printed. To keep one as a regression
# input, copy it to fuzz/corpus/<target>/regress-<what> once the bug is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LASTCALL_FUZZ_BUILD:-build/fuzz}
out="$build/fuzz-out"

pending=0
seconds=5
if [ "${1:-}" = "--pending" ]; then
  pending=1
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

# Per input: 10 s is a hang (the server it models has one thread); 2 GiB is runaway memory.
common=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1)
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# fuzz/known-crashes, read once: "<target> <regex>" per entry.
mapfile -t known_crashes < <(grep -vE '^[[:space:]]*(#|$)' fuzz/known-crashes | sed 's/ # .*//')

# Whether the output of a re-run crash ($2) matches a known crash of target $1.
Known() {
  local entry
  for entry in "${known_crashes[@]}"; do
    [ "${entry%% *}" = "$1" ] || continue
    grep -aqzE "${entry#* }" "$2" && return 0
  done
  return 1
}

failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    exit 2
  fi
  mkdir -p "$out/$t/corpus"
  log="$out/$t.log"
  if [ $pending -eq 1 ]; then
    log="$out/$t.pending.log"
    [ -d "fuzz/pending/$t" ] || continue
    for f in "fuzz/pending/$t"/*; do
      if "$bin" "${common[@]}" "$f" >"$log" 2>&1; then
        echo "fuzz: $t $(basename "$f"): passes now (move it to fuzz/corpus/$t/)"
      else
        echo "fuzz: $t $(basename "$f"): still fails: $(grep -a -m1 -E 'FUZZ_CHECK|runtime error|Assertion|ERROR|ALARM' "$log" | cut -c1-200)"
        failed+=("$t/$(basename "$f")")
      fi
    done
    continue
  fi
  # Every seed and regression input first, each once: these must all pass, known bugs or not
  # (their reproducers wait in fuzz/pending/).
  start=$(date +%s)
  if ! "$bin" "${common[@]}" "fuzz/corpus/$t"/* >"$out/$t.seeds.log" 2>&1; then
    echo "fuzz: $t: FAILED on a checked-in seed; log $out/$t.seeds.log" >&2
    grep -a -E 'Running: |FUZZ_CHECK|runtime error|Assertion|ERROR|ALARM' "$out/$t.seeds.log" |
      grep -a -B1 -v 'Running: ' | head -4 >&2 || true
    failed+=("$t")
    continue
  fi
  # Fork mode with the crash, timeout and OOM ignored: a known bug (fuzz/known-crashes) that the
  # fuzzer keeps finding must not end the search for unknown ones. Every finding is triaged below.
  rm -f "$out/$t"/crash-* "$out/$t"/timeout-* "$out/$t"/oom-* "$out/$t"/leak-*
  "$bin" "${common[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$seconds" -artifact_prefix="$out/$t/" "$out/$t/corpus" "fuzz/corpus/$t" \
      >"$log" 2>&1 || true
  if ! grep -aq "INFO: exiting" "$log"; then
    echo "fuzz: $t: FAILED: the run did not finish; log $log" >&2
    failed+=("$t")
    continue
  fi
  known=0
  unknown=()
  for a in "$out/$t"/crash-* "$out/$t"/timeout-* "$out/$t"/oom-* "$out/$t"/leak-*; do
    [ -f "$a" ] || continue
    "$bin" "${common[@]}" "$a" >"$a.log" 2>&1 || true
    if Known "$t" "$a.log"; then
      known=$((known + 1))
    else
      unknown+=("$a")
    fi
  done
  stats=$(grep -aE '^#[0-9]+' "$log" | tail -1 | sed -E 's/^#([0-9]+): (cov: [0-9]+).*/\1 runs, \2/')
  summary="${stats:-? runs}, $(( $(date +%s) - start ))s"
  [ $known -gt 0 ] && summary+=", $known known crash(es) (fuzz/known-crashes)"
  if [ ${#unknown[@]} -eq 0 ]; then
    echo "fuzz: $t: ok, $summary"
  else
    echo "fuzz: $t: FAILED, $summary; ${#unknown[@]} new finding(s):" >&2
    for a in "${unknown[@]}"; do
      echo "  $a: $(grep -a -m1 -E 'FUZZ_CHECK|runtime error|Assertion|ERROR: AddressSanitizer|ERROR: LeakSanitizer|ALARM|out-of-memory|terminate called' "$a.log" | cut -c1-200)" >&2
    done
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
