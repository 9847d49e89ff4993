#!/usr/bin/env bash
# The README's first command, as CI runs it: scripts/demo against this build tree.
#
#   tests/demo/demo_test.sh SOURCE_DIR BUILD_DIR
#
# Passes when the demo exits 0 in well under a minute, each agent ran checkpoint then drain
# once for its instance's notice, the bills are printed, and nothing the demo started is left
# running (the demo runs in its own session; every process of that session must be gone).
set -euo pipefail
src="$1"
build="$2"
out="$(mktemp "${TMPDIR:-/tmp}/lastcall-demo-test.XXXXXX")"
trap 'rm -f "$out"' EXIT
fail() { echo "demo_test: $*" >&2; echo "--- demo output ---" >&2; cat "$out" >&2; exit 1; }

start=$SECONDS
# setsid: the demo and everything it starts share a fresh session whose id is the demo's pid.
LASTCALL_BUILD_DIR="$build" setsid "$src/scripts/demo" >"$out" 2>&1 &
demo=$!
status=0
wait "$demo" || status=$?
took=$((SECONDS - start))
[ "$status" -eq 0 ] || fail "exited with $status"
[ "$took" -lt 60 ] || fail "took ${took}s (must end well under a minute)"

left="$(ps -o pid=,comm= -s "$demo" || true)"
[ -z "$left" ] || fail "processes of the demo's session still running: $left"

# Each agent: one release/interruption notice, checkpoint then drain, each once per instance.
for provider in aws alibaba; do
  section="$(awk -v p="lastcalld ($provider):" '$0 == p {on=1; next} /^$/ {on=0} on' "$out")"
  [ -n "$section" ] || fail "no timeline for the $provider agent"
  kind=$([ "$provider" = aws ] && echo interruption || echo release)
  id="$(grep -o "new $kind notice: .*NOTICE_ID=[^ ]*" <<<"$section" | head -1 | sed 's/.*NOTICE_ID=//')"
  [ -n "$id" ] || fail "the $provider agent saw no $kind notice"
  # One checkpoint and one drain per instance. AWS raises the rebalance recommendation with the
  # interruption: the interruption adopts the rebalance's checkpoint instead of running another.
  n="$(grep -c "phase checkpoint ended: ok NOTICE_ID=" <<<"$section" || true)"
  [ "$n" -eq 1 ] || fail "$provider: phase checkpoint ran $n times for the instance (want once)"
  grep -Eq "phase checkpoint (ended: ok|adopted from [^ ]+:.*) NOTICE_ID=$id" <<<"$section" ||
    fail "$provider: $id has no checkpoint of its own or adopted"
  n="$(grep -c "phase drain ended: ok NOTICE_ID=$id" <<<"$section" || true)"
  [ "$n" -eq 1 ] || fail "$provider: phase drain ran $n times for $id (want once)"
  first_drain="$(grep -n "phase drain starting.*NOTICE_ID=$id" <<<"$section" | head -1 | cut -d: -f1)"
  checkpoint_done="$(grep -n "phase checkpoint ended: ok NOTICE_ID=" <<<"$section" | cut -d: -f1)"
  [ "$checkpoint_done" -lt "$first_drain" ] || fail "$provider: drain started before checkpoint ended"
done

grep -q '^bills:' "$out" || fail "no bills"
grep -Eq '^  i-[0-9a-z]+ \(aws\): USD ' "$out" || fail "no AWS bill"
grep -Eq '^  i-[0-9a-z]+ \(alibaba\): USD ' "$out" || fail "no Alibaba bill"
grep -q '^  account total: USD ' "$out" || fail "no account total"
grep -q '^demo: both instances got their last call; done.$' "$out" || fail "no closing line"
echo "demo_test: ok in ${took}s"
