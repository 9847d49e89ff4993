#!/usr/bin/env bash
# The ECS API under Alibaba Cloud's own SDKs for JavaScript: installs the pinned SDKs with npm
# into the build tree (its own cache, never global), then runs ecs_sdk_test.cjs, which starts
# mockmeta itself. An npm that cannot install fails the test with npm's own reason.
#   usage: ecs_sdk_test.sh MOCKMETA_BIN NPM_PREFIX
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mockmeta="$1"
prefix="$2"
packages=(
  "@alicloud/ecs20140526@7.11.6"
  "@alicloud/openapi-client@0.4.15"
  "@alicloud/pop-core@1.8.0"
)
command -v node >/dev/null || { echo "FAIL: node is not installed (scripts/install-deps ecs-clients)" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm is not installed (scripts/install-deps ecs-clients)" >&2; exit 1; }
mkdir -p "$prefix"
if ! npm install --no-audit --no-fund --prefer-offline --no-save --loglevel=error \
     --prefix "$prefix" --cache "$prefix/.npm-cache" "${packages[@]}" >"$prefix/npm.log" 2>&1; then
  echo "FAIL: npm could not install ${packages[*]}:" >&2
  tail -n 30 "$prefix/npm.log" >&2
  exit 1
fi
NODE_PATH="$prefix/node_modules" exec node "$here/ecs_sdk_test.cjs" "$mockmeta" "$here/ecs_market.toml"
