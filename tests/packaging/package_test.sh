#!/bin/bash
# The Debian packages, end to end: builds them with CPack from this build tree, checks their
# metadata (dpkg-deb -I) and contents (dpkg-deb -c), unpacks both into a temporary root with
# dpkg -x (never a real install), runs the installed lastcalld --check-config on the installed
# default config, the installed mockmeta --version and an installed hook, and checks the unit
# file (systemd-analyze verify and security) and the man pages.
#
# Usage: package_test.sh BINARY_DIR SOURCE_DIR. Needs dpkg-deb, dpkg-shlibdeps (dpkg-dev) and
# systemd-analyze (systemd): `scripts/install-deps packaging` installs them.
set -euo pipefail

BIN=$1
SRC=$2
MAX_EXPOSURE=2.5

T=$(mktemp -d "${TMPDIR:-/tmp}/lastcall-package-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze man gzip; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing; run scripts/install-deps packaging (installs dpkg-dev, systemd, man-db)"
done

step "cpack -G DEB"
cpack -G DEB --config "$BIN/CPackConfig.cmake" -B "$T/out" >"$T/cpack.log" 2>&1 ||
  { cat "$T/cpack.log" >&2; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BIN/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in CPackConfig.cmake"
agent_deb=$T/out/lastcalld_${version}_${arch}.deb
mock_deb=$T/out/mockmeta_${version}_${arch}.deb
[ -f "$agent_deb" ] || fail "missing $(basename "$agent_deb"); cpack wrote: $(ls "$T/out")"
[ -f "$mock_deb" ] || fail "missing $(basename "$mock_deb"); cpack wrote: $(ls "$T/out")"
[ "$(find "$T/out" -maxdepth 1 -name '*.deb' | wc -l)" -eq 2 ] ||
  fail "expected exactly two packages, got: $(ls "$T/out")"

# field DEB NAME: one control field.
field() { dpkg-deb -f "$1" "$2"; }
expect_field() {
  local got
  got=$(field "$1" "$2")
  [[ "$got" =~ $3 ]] || fail "$(basename "$1"): $2 is '$got', expected to match /$3/"
}

step "metadata (dpkg-deb -I)"
dpkg-deb -I "$agent_deb" >"$T/agent.info"
dpkg-deb -I "$mock_deb" >"$T/mock.info"
expect_field "$agent_deb" Package '^lastcalld$'
expect_field "$agent_deb" Version "^${version}$"
expect_field "$agent_deb" Architecture "^${arch}$"
expect_field "$agent_deb" Section '^admin$'
# From dpkg-shlibdeps: the libraries the binary really links, with versions.
for dep in 'libc6 \(>= ' 'bash' 'coreutils'; do
  expect_field "$agent_deb" Depends "(^|, )${dep}"
done
# lastcalld speaks HTTP, sd_notify and the journal protocol itself, and carries its C++ runtime
# and TOML parser (agent/CMakeLists.txt): none of these libraries may come back into its link.
field "$agent_deb" Depends | grep -Eq 'libcurl|libsystemd|libstdc|libtomlplusplus' &&
  fail "lastcalld must not depend on libcurl, libsystemd, libstdc++ or libtomlplusplus"
expect_field "$agent_deb" Recommends 'curl'
expect_field "$mock_deb" Package '^mockmeta$'
expect_field "$mock_deb" Section '^devel$'
for dep in 'libc6 \(>= ' 'libstdc\+\+6 \(>= '; do
  expect_field "$mock_deb" Depends "(^|, )${dep}"
done
field "$mock_deb" Depends | grep -q libsystemd && fail "mockmeta must not depend on libsystemd"
grep -q 'conffiles' "$T/agent.info" || fail "lastcalld has no conffiles"
grep -qE '^ +[0-9]+ bytes, +[0-9]+ lines +\* +postinst' "$T/agent.info" ||
  fail "lastcalld's postinst is missing or not executable"
mkdir -p "$T/control"
dpkg-deb -e "$agent_deb" "$T/control"
[ "$(cat "$T/control/conffiles")" = /etc/lastcall/lastcalld.toml ] ||
  fail "conffiles: $(cat "$T/control/conffiles")"
for script in postinst prerm postrm; do
  grep -qF '[ -d /run/systemd/system ]' "$T/control/$script" ||
    fail "$script must act on systemd only where systemd runs"
  sh -n "$T/control/$script" || fail "$script: syntax error"
done

step "contents (dpkg-deb -c)"
dpkg-deb -c "$agent_deb" | awk '{print $1, $2, $6}' >"$T/agent.list"
dpkg-deb -c "$mock_deb" | awk '{print $1, $2, $6}' >"$T/mock.list"
expect_entry() {  # LIST MODE PATH
  grep -qxF -- "$2 root/root $3" "$1" || fail "$(basename "$1" .list) lacks '$2 root/root $3'"
}
expect_entry "$T/agent.list" -rwxr-xr-x ./usr/sbin/lastcalld
expect_entry "$T/agent.list" -rw-r--r-- ./usr/lib/systemd/system/lastcalld.service
expect_entry "$T/agent.list" -rw-r--r-- ./etc/lastcall/lastcalld.toml
for phase in checkpoint drain notify resume; do
  expect_entry "$T/agent.list" drwxr-xr-x "./etc/lastcall/hooks.d/$phase/"
  for hook in "$SRC/hooks/$phase"/*; do
    expect_entry "$T/agent.list" -rwxr-xr-x "./usr/libexec/lastcall/hooks/$phase/$(basename "$hook")"
  done
done
for lib in hook-lib.sh slurm.sh; do
  expect_entry "$T/agent.list" -rw-r--r-- "./usr/libexec/lastcall/hooks/lib/$lib"
done
expect_entry "$T/agent.list" -rw-r--r-- ./usr/share/man/man8/lastcalld.8.gz
expect_entry "$T/agent.list" -rw-r--r-- ./usr/share/man/man5/lastcalld.toml.5.gz
for doc in hooks.md configuration.md lastcalld.md copyright; do
  expect_entry "$T/agent.list" -rw-r--r-- "./usr/share/doc/lastcalld/$doc"
done
expect_entry "$T/agent.list" -rw-r--r-- ./usr/share/doc/lastcalld/examples/hooks.conf.d/kubernetes.conf
expect_entry "$T/mock.list" -rwxr-xr-x ./usr/bin/mockmeta
expect_entry "$T/mock.list" -rw-r--r-- ./usr/share/man/man1/mockmeta.1.gz
for scenario in "$SRC"/etc/scenarios/*.toml; do
  expect_entry "$T/mock.list" -rw-r--r-- "./usr/share/mockmeta/scenarios/$(basename "$scenario")"
done
grep -q mockmeta "$T/agent.list" && fail "lastcalld carries mockmeta files"
grep -qE 'lastcalld|libexec' "$T/mock.list" && fail "mockmeta carries lastcalld files"
# Nothing outside the Debian layout (e.g. /usr/local, /usr/etc, a build path).
bad=$(awk '{print $3}' "$T/agent.list" "$T/mock.list" |
  grep -vE '^\./($|etc/($|lastcall/)|usr/($|bin/|sbin/|lib/($|systemd/)|libexec/|share/))' || true)
[ -z "$bad" ] || fail "unexpected paths: $bad"

step "unpack into a temporary root (dpkg -x)"
root=$T/root
dpkg -x "$agent_deb" "$root"
dpkg -x "$mock_deb" "$root"

step "installed lastcalld --check-config on the installed default config"
out=$("$root/usr/sbin/lastcalld" --check-config --config "$root/etc/lastcall/lastcalld.toml" 2>&1) ||
  fail "lastcalld --check-config exited $?: $out"
[ "$out" = ok ] || fail "lastcalld --check-config said: $out"
"$root/usr/sbin/lastcalld" --version | grep -qF "$version" || fail "lastcalld --version"
"$root/usr/bin/mockmeta" --version | grep -qF "$version" || fail "mockmeta --version"
"$root/usr/bin/mockmeta" --help >/dev/null || fail "mockmeta --help"

step "an installed hook finds its library"
mkdir -p "$T/stubs"
printf '#!/bin/sh\nexit 0\n' >"$T/stubs/kubectl"
chmod 755 "$T/stubs/kubectl"
out=$(env -i PATH="$T/stubs:/usr/bin:/bin" HOOKS_CONF_DIR="$T/none" LASTCALL_PHASE=drain \
  LASTCALL_SECONDS_LEFT=60 K8S_NODE=n1 HOOK_DRY_RUN=yes \
  "$root/usr/libexec/lastcall/hooks/drain/kubernetes" </dev/null 2>&1) ||
  fail "installed drain/kubernetes failed: $out"
grep -qF "dry run, not running" <<<"$out" || fail "installed hook said: $out"

step "unit file"
unit=$root/usr/lib/systemd/system/lastcalld.service
cmp -s "$unit" "$SRC/packaging/systemd/lastcalld.service" || fail "the packaged unit differs from the source"
for directive in '^Type=notify$' '^WatchdogSec=' '^Restart=on-failure$' '^TimeoutStopSec=' \
  '^StateDirectory=lastcall$' '^RuntimeDirectory=lastcall$' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
  '^ExecStart=/usr/sbin/lastcalld$' '^WantedBy=multi-user.target$'; do
  grep -qE "$directive" "$unit" || fail "unit lacks $directive"
done
# verify checks that ExecStart= exists and Documentation= man pages open: point them at the
# unpacked root (the package's binary and man pages, not this machine's). `--root=` would need
# a whole systemd tree in the root, so the copy only swaps the binary's path.
mkdir -p "$T/unit"
sed "s#^ExecStart=/usr/sbin/lastcalld#ExecStart=$root/usr/sbin/lastcalld#" "$unit" \
  >"$T/unit/lastcalld.service"
verify=$(MANPATH="$root/usr/share/man" systemd-analyze verify "$T/unit/lastcalld.service" 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify is not clean: $verify"
security=$(systemd-analyze security --offline=yes "$unit" 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for lastcalld.service: \([0-9.]*\).*/\1/p' <<<"$security")
[ -n "$score" ] || fail "no exposure score in: $security"
awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s <= max) }' ||
  fail "exposure score $score is above $MAX_EXPOSURE"

step "man pages"
for page in man8/lastcalld.8.gz man5/lastcalld.toml.5.gz man1/mockmeta.1.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$page: $warnings"
done

echo "exposure: $score"
echo "sizes: $(basename "$agent_deb") $(stat -c %s "$agent_deb") bytes," \
  "$(basename "$mock_deb") $(stat -c %s "$mock_deb") bytes;" \
  "installed: lastcalld $(field "$agent_deb" Installed-Size) KiB, mockmeta $(field "$mock_deb" Installed-Size) KiB"
echo "PASS"
