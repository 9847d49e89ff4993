#!/bin/bash
# The Debian packages, end to end: builds them with CPack from this build tree, checks their
# metadata (dpkg-deb -I) and contents (dpkg-deb -c), unpacks both into a temporary root with
# dpkg -x (never a real install), runs the installed lastcalld --check-config on the installed
# default config, the installed mockmeta --version and an installed hook, and checks the unit
# file (systemd-analyze verify and security) and the man pages. lintian must be clean at
# warning level; the maintainer scripts run against the unpacked root (DPKG_ROOT) to show that
# the unit is enabled on install, disabled on removal and that purge leaves nothing, and, in a
# private mount namespace that plays a running systemd, that the service is started and
# stopped. Sizes and dependencies go to BINARY_DIR/packaging/package-facts.md (docs/packaging.md
# points there rather than carrying figures that go stale).
#
# Usage: package_test.sh BINARY_DIR SOURCE_DIR. Needs dpkg-deb, dpkg-shlibdeps (dpkg-dev),
# systemd-analyze (systemd), man and lintian: `scripts/install-deps packaging` installs them.
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

for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze man gzip lintian deb-systemd-helper unshare; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing; run scripts/install-deps packaging (installs dpkg-dev, systemd, man-db, lintian)"
done

step "cpack -G DEB"
cpack -G DEB --config "$BIN/CPackConfig.cmake" -B "$T/out" >"$T/cpack.log" 2>&1 ||
  { cat "$T/cpack.log" >&2; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
upstream=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BIN/CPackConfig.cmake")
release=$(sed -n 's/^set(CPACK_DEBIAN_PACKAGE_RELEASE "\(.*\)")$/\1/p' "$BIN/CPackConfig.cmake")
[ -n "$upstream" ] && [ -n "$release" ] ||
  fail "no CPACK_PACKAGE_VERSION or CPACK_DEBIAN_PACKAGE_RELEASE in CPackConfig.cmake"
version=$upstream-$release  # not native: the Debian revision, and changelog.Debian.gz
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
expect_field "$agent_deb" Recommends 'curl'
expect_field "$mock_deb" Package '^mockmeta$'
expect_field "$mock_deb" Section '^devel$'
for deb in "$agent_deb" "$mock_deb"; do
  expect_field "$deb" Maintainer '^[^<]+ <[^@ ]+@[^@ ]+\.[a-z]+>$'
  field "$deb" Maintainer | grep -qiE 'localhost|example' && fail "$(basename "$deb"): placeholder Maintainer"
done
# The short descriptions tell the two packages apart.
[ "$(field "$agent_deb" Description | head -1)" != "$(field "$mock_deb" Description | head -1)" ] ||
  fail "both packages have the same short description"
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

step "Depends is what dpkg-shlibdeps finds in the binaries, and nothing essential unversioned"
# Derived, not listed: a library the binary links (libcurl4, libsystemd0, ...) comes with it.
shlibdeps() {  # BINARY: its dependencies, one per line, sorted
  (cd "$T" && mkdir -p debian && : >debian/control &&
    dpkg-shlibdeps -O "$1" 2>/dev/null | sed 's/^shlibs:Depends=//' | tr ',' '\n' |
    sed 's/^ *//' | sort)
}
deps() { field "$1" Depends | tr ',' '\n' | sed 's/^ *//' | sort; }
[ "$(deps "$agent_deb")" = "$(shlibdeps "$root/usr/sbin/lastcalld")" ] ||
  fail "lastcalld Depends '$(field "$agent_deb" Depends)' is not dpkg-shlibdeps' '$(shlibdeps "$root/usr/sbin/lastcalld" | paste -sd,)'"
[ "$(deps "$mock_deb")" = "$(shlibdeps "$root/usr/bin/mockmeta")" ] ||
  fail "mockmeta Depends '$(field "$mock_deb" Depends)' is not dpkg-shlibdeps' '$(shlibdeps "$root/usr/bin/mockmeta" | paste -sd,)'"
expect_field "$agent_deb" Depends '(^|, )libc6 \(>= '
# lastcalld carries its C++ runtime and TOML parser (agent/CMakeLists.txt).
field "$agent_deb" Depends | grep -Eq 'libstdc|libtomlplusplus' &&
  fail "lastcalld must not depend on libstdc++ or libtomlplusplus"
# Its metadata requests go through libcurl, its sd_notify and journal through libsystemd (issue
# 12): both must be in. (libsystemd0 unversioned: its symbols file dates what lastcalld uses
# to the first libsystemd0.)
for dep in 'libcurl4 \(>= ' 'libsystemd0(,|$| )'; do
  expect_field "$agent_deb" Depends "(^|, )${dep}"
done

step "lintian (errors and warnings fail)"
lintian --fail-on error,warning --display-level '>=warning' "$agent_deb" "$mock_deb" \
  >"$T/lintian.log" 2>&1 || { cat "$T/lintian.log" >&2; fail "lintian is not clean"; }
grep -E '^[EW]: ' "$T/lintian.log" && fail "lintian reported the tags above"
for pkg in lastcalld mockmeta; do
  [ -f "$root/usr/share/doc/$pkg/changelog.Debian.gz" ] || fail "$pkg has no changelog.Debian.gz"
  grep -q '^License: Apache-2.0$' "$root/usr/share/doc/$pkg/copyright" || fail "$pkg copyright"
done

step "maintainer scripts on the unpacked root (DPKG_ROOT): enable, disable, purge"
# A stand-in for each command that would touch a running systemd: it records its call.
mkdir -p "$T/sd-stubs"
for cmd in systemctl deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/sd.calls"\n' "$cmd" "$T" >"$T/sd-stubs/$cmd"
  chmod 755 "$T/sd-stubs/$cmd"
done
: >"$T/sd.calls"
maint() {  # SCRIPT ARG...: a maintainer script as dpkg runs it on DPKG_ROOT=$root
  local script=$1
  shift
  env PATH="$T/sd-stubs:$PATH" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_PACKAGE=lastcalld \
    DPKG_MAINTSCRIPT_NAME="$script" sh "$T/control/$script" "$@" ||
    fail "$script $* exited $?"
}
files() { (cd "$root" && find . ! -type d | sort); }
files >"$T/files.before"
wants=$root/etc/systemd/system/multi-user.target.wants/lastcalld.service
maint postinst configure ""
[ -L "$wants" ] || fail "postinst configure did not enable lastcalld.service (no $wants)"
[ ! -s "$T/sd.calls" ] || fail "systemd is not running, yet postinst called: $(cat "$T/sd.calls")"
maint postinst configure "$version"  # an upgrade keeps it enabled
[ -L "$wants" ] || fail "an upgrade disabled lastcalld.service"
mkdir -p "$root/var/lib/lastcall/notices" "$root/run/lastcall"
echo '{}' >"$root/var/lib/lastcall/notices/n1.json"
maint prerm remove
maint postrm remove
[ ! -e "$wants" ] && [ ! -L "$wants" ] || fail "postrm remove did not disable lastcalld.service"
maint postrm purge
[ ! -e "$root/var/lib/lastcall" ] || fail "purge left /var/lib/lastcall"
files >"$T/files.after"
diff -u "$T/files.before" "$T/files.after" >"$T/files.diff" ||
  fail "purge left files behind: $(cat "$T/files.diff")"
[ ! -s "$T/sd.calls" ] || fail "systemd is not running, yet the scripts called: $(cat "$T/sd.calls")"

step "maintainer scripts where systemd runs: started on install, stopped on removal"
# A private mount namespace whose /run says systemd is the running init; every systemd command
# and deb-systemd-helper are stand-ins there, so nothing on this machine changes.
printf '#!/bin/sh\necho "deb-systemd-helper $*" >>"%s/sd.calls"\n' "$T" >"$T/sd-stubs/deb-systemd-helper"
chmod 755 "$T/sd-stubs/deb-systemd-helper"
: >"$T/sd.calls"
unshare --mount sh -c '
  set -e
  mount -t tmpfs lastcall-test-run /run
  mkdir -p /run/systemd/system
  export PATH="$1/sd-stubs:$PATH"
  sh "$1/control/postinst" configure ""
  sh "$1/control/postinst" configure "$2"
  sh "$1/control/prerm" upgrade
  sh "$1/control/prerm" remove' sh "$T" "$version" 2>"$T/unshare.err" ||
  fail "cannot run the scripts in a private mount namespace (root needed): $(cat "$T/unshare.err")"
printf '%s\n' \
  "deb-systemd-helper unmask lastcalld.service" \
  "deb-systemd-helper --quiet was-enabled lastcalld.service" \
  "deb-systemd-helper enable lastcalld.service" \
  "systemctl --system daemon-reload" \
  "deb-systemd-invoke start lastcalld.service" \
  "deb-systemd-helper unmask lastcalld.service" \
  "deb-systemd-helper --quiet was-enabled lastcalld.service" \
  "deb-systemd-helper enable lastcalld.service" \
  "systemctl --system daemon-reload" \
  "deb-systemd-invoke try-restart lastcalld.service" \
  "deb-systemd-invoke stop lastcalld.service" >"$T/sd.want"
diff -u "$T/sd.want" "$T/sd.calls" >"$T/sd.diff" || fail "systemd calls differ: $(cat "$T/sd.diff")"

step "installed lastcalld --check-config on the installed default config"
out=$("$root/usr/sbin/lastcalld" --check-config --config "$root/etc/lastcall/lastcalld.toml" 2>&1) ||
  fail "lastcalld --check-config exited $?: $out"
[ "$out" = ok ] || fail "lastcalld --check-config said: $out"
"$root/usr/sbin/lastcalld" --version | grep -qF "$upstream" || fail "lastcalld --version"
"$root/usr/bin/mockmeta" --version | grep -qF "$upstream" || fail "mockmeta --version"
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

step "package facts (docs/packaging.md points here)"
facts=$BIN/packaging/package-facts.md
mkdir -p "$(dirname "$facts")"
{
  echo "<!-- written by tests/packaging/package_test.sh; do not edit -->"
  echo "| package | .deb bytes | installed KiB | Depends |"
  echo "|---|---|---|---|"
  for deb in "$agent_deb" "$mock_deb"; do
    echo "| \`$(basename "$deb")\` | $(stat -c %s "$deb") | $(field "$deb" Installed-Size) | $(field "$deb" Depends) |"
  done
  echo
  echo "Exposure score of the unit (systemd-analyze security --offline=yes): $score"
} >"$facts.tmp"
mv "$facts.tmp" "$facts"
cat "$facts"
# The doc points to the generated figures; sizes or versioned dependencies written into it go
# stale with the next build.
stale=$(grep -nE '[0-9][0-9,.]* ?(KB|KiB|MB|MiB|bytes)\b|\((>=|=) [0-9]' "$SRC/docs/packaging.md" || true)
[ -z "$stale" ] || fail "docs/packaging.md carries hand-written sizes or versions (use $facts): $stale"
echo "PASS"
