#!/usr/bin/env bash
# Run every test: the one command for README and CI.
#
#   bash scripts/test.sh
#
#  1. scripts/setup-tools.sh --web --fuzz (wasm32 target, wasm-bindgen-cli, binaryen, chromium,
#                                      chromedriver, npm packages, nightly and cargo-fuzz;
#                                      skipped when present)
#  2. scripts/setup-data.sh          (real Fashion-MNIST into www/data/, verified)
#  3. cargo test --release           (native: engine, pruning, CLI, server, memory)
#  4. scripts/build-web.sh           (the wasm bundles and vendored libraries into www/)
#  5. three lanes at once:
#     browser: cargo test --release --target wasm32-unknown-unknown --test web
#                                    (tests/web.rs in headless Chromium: CPU and WebGPU)
#     page:    tests/faces.test.mjs  (Node: the CLI and the bundle's Lab report alike; .d.ts complete)
#              tests/e2e/page.test.mjs (Playwright against the page served by `prunelab serve`)
#              tests/e2e/site.test.mjs (the site of scripts/build-site.sh on python3's http.server,
#                                      under a sub-path, embedded in a page of another origin)
#     fuzz:    fuzz_smoke            (10 s of each fuzz target in fuzz/, cargo +nightly fuzz)
# Builds go to $CARGO_TARGET_DIR (default ~/.cache/prunelab-target), outside the clone, so fresh
# clones on one machine reuse them. Stops at the first failing step (or lane).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
mkdir -p -- "$CARGO_TARGET_DIR"
PRUNELAB="$CARGO_TARGET_DIR/release/prunelab"

START=$SECONDS
step() {
  local t0=$SECONDS
  printf '\n==> prunelab tests: %s\n' "$*"
  if ! "$@"; then
    printf '\nprunelab tests: FAILED at step: %s (after %ds)\n' "$*" "$((SECONDS - START))" >&2
    exit 1
  fi
  printf '<== ok (%ds): %s\n' "$((SECONDS - t0))" "$*"
}

wasm_tests() {
  # The same release settings and features as the WebGPU bundle, so the two share their
  # dependency builds.
  # shellcheck source=scripts/wasm-env.sh
  source scripts/wasm-env.sh
  # What `wasm-pack test --headless --chrome` does, minus its `cargo build --tests`: that builds
  # every test target, the library's unit tests too (the whole crate again, in test mode, and
  # one more fat-LTO link), only to run tests/web.rs. cargo runs just that one, in Chromium,
  # through wasm-bindgen-test-runner (installed with wasm-bindgen-cli). Its timeout covers all
  # seven tests at once: on a slow 2-core machine they took over 900 s, alone as well as beside
  # the page lane (2026-11-30; WebGPU runs on SwiftShader there), so it allows 1800.
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  WASM_BINDGEN_TEST_ONLY_WEB=1 \
  CHROMEDRIVER=/usr/bin/chromedriver \
  WASM_BINDGEN_TEST_TIMEOUT=1800 \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
    cargo test --release --target wasm32-unknown-unknown --features wgpu --test web
}

e2e_tests() {
  local port=${PRUNELAB_TEST_PORT:-8181} pid rc=0
  "$PRUNELAB" serve --port "$port" --root www &
  pid=$!
  # shellcheck disable=SC2064
  # A RETURN trap outlives its function: it removes itself, or it would fire at every later return.
  trap "kill $pid 2>/dev/null || true; trap - RETURN" RETURN
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    sleep 0.2
  done
  PRUNELAB_URL="http://127.0.0.1:$port" node tests/e2e/page.test.mjs || rc=$?
  return "$rc"
}

# new_build A B: B is site A as the next build would be (its app-<hash>/ under another name),
# for the test that an update takes effect on the next load.
new_build() {
  local hash
  cp -r "$1" "$2"
  hash=$(basename "$1"/app-*)
  hash=${hash#app-}
  mv "$2/app-$hash" "$2/app-${hash}n"
  sed -i "s#$hash#${hash}n#g" "$2/index.html" "$2/bench.html" "$2/sw.js"
  # A later build is later: servers answer If-Modified-Since to the second.
  find "$2" -exec touch -d "@$(($(date +%s) + 5))" {} +
}

site_tests() {
  local dir port=${PRUNELAB_SITE_PORT:-8182} course_port=${PRUNELAB_COURSE_PORT:-8183} pids=() rc=0
  dir=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "kill \${pids[*]:-} 2>/dev/null || true; rm -rf '$dir'; trap - RETURN" RETURN
  # The site is a link to a build, so that the test can put a newer build in its place.
  bash scripts/build-site.sh --no-setup --out "$dir/builds/a"
  new_build "$dir/builds/a" "$dir/builds/b"
  mkdir -p "$dir/www/course-x"
  ln -s "$dir/builds/a" "$dir/www/course-x/prunelab"
  mkdir -p "$dir/course"
  cat > "$dir/course/course.html" <<HTML
<!doctype html><meta charset="utf-8"><title>A course page</title>
<h1>Week 5: pruning</h1><p>Draw a garment:</p>
<iframe id="lab" src="http://127.0.0.1:$port/course-x/prunelab/?panels=draw&amp;embed=1&amp;backend=cpu" width="420" height="560" style="border:0" title="Prune Lab"></iframe>
HTML
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir/www" >/dev/null 2>&1 &
  pids+=($!)
  python3 -m http.server "$course_port" --bind 127.0.0.1 --directory "$dir/course" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/course-x/prunelab/" 2>/dev/null \
      && curl -fsS -o /dev/null "http://127.0.0.1:$course_port/course.html" 2>/dev/null && break
    sleep 0.2
  done
  SITE_URL="http://127.0.0.1:$port/course-x/prunelab/" COURSE_URL="http://127.0.0.1:$course_port/course.html" \
  SITE_LINK="$dir/www/course-x/prunelab" SITE_BUILDS="$dir/builds" \
    node tests/e2e/site.test.mjs || rc=$?
  return "$rc"
}

# A few seconds of each fuzz target from its seeds (fuzz/seeds/), so that the targets keep
# building and the seeds stay crash-free; README has the long runs. A build of its own (nightly,
# instrumented, the crate without burn: fuzz/Cargo.toml) in $CARGO_TARGET_DIR-fuzz.
fuzz_smoke() {
  local target corpus log
  for target in idx plab drawing options; do
    corpus=$(mktemp -d)
    log=$(mktemp)
    cp fuzz/seeds/"$target"/* "$corpus"/
    if ! cargo +nightly fuzz run "$target" --target-dir "$CARGO_TARGET_DIR-fuzz" "$corpus" -- \
        -max_total_time=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
      tail -n 60 "$log"
      return 1
    fi
    grep -E '^stat::number_of_executed_units' "$log" | sed "s/^stat::number_of_executed_units: */fuzz $target: no crash in /; s/$/ executions/"
    rm -rf "$corpus" "$log"
  done
}

# together LANE…: runs the lanes (functions) at once, each line of output led by the lane's
# name, and waits for all of them; fails when any failed. The browser tests, the page's tests
# and the fuzz smoke each keep about one core busy (a worker running wasm, a fuzzer), so on two
# cores they take about as long together as the longest alone; the builds before them use every
# core already, and share one target directory (cargo's lock), so they stay one after another.
together() {
  local lane lanes=() rc=0 i
  for lane in "$@"; do
    ( set -o pipefail; "$lane" 2>&1 | sed -u "s/^/[$lane] /" ) &
    lanes+=($!)
  done
  for i in "${!lanes[@]}"; do
    wait "${lanes[$i]}" || { printf 'prunelab tests: lane %s failed\n' "${@:i+1:1}" >&2; rc=1; }
  done
  return "$rc"
}
browser() { step wasm_tests; }
page() { step env PRUNELAB="$PRUNELAB" node --test tests/faces.test.mjs && step e2e_tests && step site_tests; }
fuzz() { step fuzz_smoke; }

# Tests leave the working tree as they found it: what git says of it now and after the run must
# match (a build that rewrote fuzz/Cargo.lock went unnoticed once). Outside a git clone, no check.
tree_status() { git -C "$ROOT" status --porcelain --untracked-files=all 2>/dev/null || true; }
TREE_BEFORE=$(tree_status)
tree_unchanged() {
  local after
  after=$(tree_status)
  [[ $after == "$TREE_BEFORE" ]] && return
  echo "the tests changed the working tree:" >&2
  diff <(echo "$TREE_BEFORE") <(echo "$after") >&2 || true
  return 1
}

echo "prunelab tests: repo $ROOT, CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
step bash scripts/setup-tools.sh --web --fuzz
step bash scripts/setup-data.sh
step cargo test --release
step cargo build --release --bin prunelab
step bash scripts/build-web.sh
# The small real subset tests/web.rs trains on (made before the lanes, which all read www/).
step "$PRUNELAB" subset --train 320 --test 200 --out www/data/subset
step together browser page fuzz
step tree_unchanged

printf '\nprunelab tests: all steps passed (%ds)\n' "$((SECONDS - START))"
