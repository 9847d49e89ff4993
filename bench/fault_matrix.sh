#!/bin/sh
# The fault matrix of issue 10, aggregated: trials, missed, doubled, wrong resumes, crashes and
# detection delay (raise -> first hook start) p50/p99/max per fault rate.
#   bench/fault_matrix.sh [TRIALS] [SEED] [BUILD_DIR]
# LASTCALLD_BIN=... runs the same matrix against another lastcalld (e.g. main's, for "before").
# FAULT_MATRIX_LOG=path keeps the test's output (the per-trial MATRIX-RESULT lines, failures).
set -eu
trials=${1:-60}
seed=${2:-1}
build=${3:-build/release}
log=$(mktemp)
trap 'if [ -n "${FAULT_MATRIX_LOG:-}" ]; then cp "$log" "$FAULT_MATRIX_LOG"; fi; rm -f "$log"' EXIT
LASTCALL_MATRIX_TRIALS=$trials LASTCALL_MATRIX_SEED=$seed \
  "$build/tests/e2e/mockmeta_lastcalld_e2e_test" --gtest_filter='Matrix/*' >"$log" 2>&1 || true
python3 - "$log" "$trials" "$seed" "${LASTCALLD_BIN:-$build/agent/lastcalld}" <<'PY'
import json, sys
log, trials, seed, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [json.loads(l.split("MATRIX-RESULT ", 1)[1]) for l in open(log) if "MATRIX-RESULT " in l]
print(f"lastcalld: {binary}  seed {seed}  trials {trials}  reported {len(rows)}")
print(f"missed {sum(r['missed'] for r in rows)}  doubled {sum(r['doubled'] > 0 for r in rows)}"
      f"  wrong resumes {sum(r['wrong_resumes'] > 0 for r in rows)}"
      f"  hooks for unknown notices {sum(r['strangers'] > 0 for r in rows)}"
      f"  crashes {sum(r['crashed'] for r in rows)}  unreported (aborted) {trials - len(rows)}")
for sc in sorted({r.get("scenario", "") for r in rows}):
    s = [r for r in rows if r.get("scenario", "") == sc]
    print(f"scenario {sc or 'plain'}: trials {len(s)}  missed {sum(r['missed'] for r in s)}"
          f"  doubled {sum(r['doubled'] > 0 for r in s)}"
          f"  wrong resumes {sum(r['wrong_resumes'] > 0 for r in s)}"
          f"  crashes {sum(r['crashed'] for r in s)}")
def pct(v, p):
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
for rate in sorted({r["rate"] for r in rows}):
    v = sorted(r["detect_ms"] for r in rows if r["rate"] == rate and r["detect_ms"] >= 0)
    if v:
        print(f"rate {rate}: detection ms p50 {pct(v, 50)} p99 {pct(v, 99)} max {v[-1]} (n={len(v)})")
PY
