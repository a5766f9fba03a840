#!/usr/bin/env bash
# Runs the runtime test suite against each supported Node-RED line:
#   Node-RED 3.1.x and 4.1.x on this machine's Node.js, Node-RED 5.x on Node.js 22.
# Node-RED 5 requires Node.js 22.9 or later, so Node.js 22 comes from the npm `node` package.
# Each Node-RED version is installed into a work folder outside the repository (reused on
# later runs) and handed to the tests through NODE_RED_PATH.
#
# Usage: scripts/test-compat.sh [3.1] [4.1] [5]     (no arguments: all three)
# Environment:
#   COMPAT_DIR        work folder (default: $TMPDIR/wled-jsonapi-compat, or /tmp/...)
#   COMPAT_TIMEOUT    seconds allowed per test run (default 900)
#   COMPAT_SPECS      test files to run (default: the node and lifecycle suites)

set -u -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work_dir="${COMPAT_DIR:-${TMPDIR:-/tmp}/wled-jsonapi-compat}"
run_timeout="${COMPAT_TIMEOUT:-900}"
specs="${COMPAT_SPECS:-test/nodes/**/*.test.ts test/lifecycle/**/*.test.ts}"

# label, Node-RED version range, Node.js major ("system" is the Node.js on PATH).
combinations=(
  "3.1|~3.1.0|system"
  "4.1|~4.1.0|system"
  "5|^5.0.0|22"
)

selected=("$@")
summaries=()
failed=0

log() {
  echo "[test-compat] $*" >&2
}

is_selected() {
  local label="$1"
  if [ "${#selected[@]}" -eq 0 ]; then
    return 0
  fi
  local requested
  for requested in "${selected[@]}"; do
    if [ "$requested" = "$label" ]; then
      return 0
    fi
  done
  return 1
}

# Installs a package into its own prefix unless an installed version already matches.
# Extra arguments go to npm install. Writes progress to stderr only, and fails when npm fails.
install_into() {
  local prefix="$1" spec="$2" name="$3" range="$4"
  shift 4
  local installed_json="$prefix/node_modules/$name/package.json"
  if [ -f "$installed_json" ]; then
    local installed
    installed="$(node -p "require('$installed_json').version")"
    if node -e "process.exit(require('$repo_root/node_modules/semver').satisfies('$installed', '$range') ? 0 : 1)"; then
      log "reusing $name $installed in $prefix"
      return 0
    fi
  fi
  mkdir -p "$prefix"
  log "installing $spec into $prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$@" "$spec" >"$prefix.install.log" 2>&1 || {
    log "npm install $spec failed; see $prefix.install.log"
    return 1
  }
}

# Prints the path of a Node.js binary of the given major version.
node_binary() {
  local major="$1"
  if [ "$major" = "system" ]; then
    command -v node
    return
  fi
  local prefix="$work_dir/node-$major"
  install_into "$prefix" "node@$major" node "^$major.0.0" || return 1
  local binary="$prefix/node_modules/node/bin/node"
  if [ ! -x "$binary" ]; then
    log "the node@$major package did not provide $binary"
    return 1
  fi
  echo "$binary"
}

mkdir -p "$work_dir"

log "building the node files"
(cd "$repo_root" && npm run --silent build) || {
  echo "test-compat: the build failed; fix it before testing compatibility"
  exit 1
}

for combination in "${combinations[@]}"; do
  IFS='|' read -r label range node_major <<<"$combination"
  if ! is_selected "$label"; then
    continue
  fi

  started=$(date +%s)
  prefix="$work_dir/node-red-$label"
  log_file="$work_dir/node-red-$label.test.log"

  if ! binary="$(node_binary "$node_major")"; then
    summaries+=("Node-RED $label: SETUP FAILED (no Node.js $node_major)")
    failed=1
    continue
  fi
  node_version="$("$binary" --version)"

  # Node-RED's optional bcrypt would compile from source; it falls back to bcryptjs without it.
  if ! install_into "$prefix" "node-red@$range" node-red "$range" --omit=optional; then
    summaries+=("Node-RED $label on Node.js $node_version: SETUP FAILED (npm install node-red@$range)")
    failed=1
    continue
  fi
  node_red_version="$(node -p "require('$prefix/node_modules/node-red/package.json').version")"

  log "running the runtime suite: Node-RED $node_red_version on Node.js $node_version (log: $log_file)"
  # mocha's own config would add its spec list to ours, so it is replaced by explicit options.
  # The Node.js binary's folder goes first on PATH so that mocha's child process uses it too.
  # shellcheck disable=SC2086 # $specs is a list of globs, split here and expanded by mocha.
  (
    set -f
    cd "$repo_root" &&
      PATH="$(dirname "$binary"):$PATH" NODE_RED_PATH="$prefix/node_modules/node-red" \
        timeout "$run_timeout" "$binary" node_modules/mocha/bin/mocha.js \
        --no-config --node-option import=tsx --timeout 20000 --exit --reporter dot $specs
  ) >"$log_file" 2>&1
  status=$?
  elapsed=$(($(date +%s) - started))

  passing="$(grep -Eo '[0-9]+ passing' "$log_file" | tail -1)"
  failing="$(grep -Eo '[0-9]+ failing' "$log_file" | tail -1)"
  pending="$(grep -Eo '[0-9]+ pending' "$log_file" | tail -1)"
  counts="${passing:-0 passing}${failing:+, $failing}${pending:+, $pending}"

  if [ "$status" -eq 0 ]; then
    result="PASS"
  elif [ "$status" -eq 124 ]; then
    result="TIMED OUT after ${run_timeout} s"
    failed=1
  else
    result="FAIL (exit $status)"
    failed=1
  fi
  summaries+=("Node-RED $node_red_version on Node.js $node_version: $result, $counts, ${elapsed} s (log: $log_file)")
done

echo
for line in "${summaries[@]}"; do
  echo "$line"
done
exit "$failed"
