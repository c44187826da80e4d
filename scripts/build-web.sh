#!/usr/bin/env bash
# Build the browser bundles: the vendored front-end libraries (npm → www/vendor/) and the wasm
# Lab twice (cargo, then wasm-bindgen, optimised by wasm-opt, gzipped beside it as the page
# downloads it):
#   www/pkg/          the CPU bundle (burn flex): what most visitors need, a third of the bytes
#   www/pkg-webgpu/   the WebGPU bundle (burn-wgpu as well), loaded by the worker only when the
#                     backend asked for, or auto on a real GPU, needs it (Lab.needsWebgpu)
# All git-ignored.
#
#   bash scripts/build-web.sh           # FORCE=1 to rebuild even when nothing changed
#
# Needs the tools from `bash scripts/setup-tools.sh --web`. The release profile is tuned for
# size here (fat LTO, one codegen unit), only for the wasm build: native builds stay fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# shellcheck source=scripts/wasm-env.sh
source scripts/wasm-env.sh

bash scripts/vendor-web.sh   # npm packages: uPlot for the page

# wasm-opt: binaryen 116 as setup-tools.sh installed it, its prebuilt library (driven by
# scripts/wasm-opt.py) or else the `wasm-opt` crate's binary. Not Debian 12's 108, which breaks the
# bundle (see Cargo.toml); not npm's, a JavaScript build, several times slower.
# shellcheck source=scripts/tool-paths.sh
source scripts/tool-paths.sh   # BINARYEN_LIB
if [[ -f $BINARYEN_LIB ]]; then
  WASM_OPT=(python3 "$ROOT/scripts/wasm-opt.py" "$BINARYEN_LIB")
elif [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt ]]; then
  WASM_OPT=("${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt")
else
  echo "build-web: no binaryen 116 ($BINARYEN_LIB or ~/.cargo/bin/wasm-opt): run bash scripts/setup-tools.sh --web" >&2
  exit 1
fi

# inputs_hash FEATURES: one SHA-256 over the content of everything a bundle is built from, its
# cargo features, and the versions of the tools that build it. Content, not mtimes: a fresh
# clone or a `git checkout` sets every mtime to "now", and an edit that is reverted changes an
# mtime but not the bundle. Not `git ls-files` either: untracked new files under src/ count
# too, and no git is needed.
inputs_hash() {
  {
    echo "features: $1"
    # src/bin/ is the CLI, which the wasm build leaves out.
    find src -path src/bin -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock .cargo/config.toml scripts/wasm-env.sh scripts/build-web.sh scripts/wasm-opt.py
    rustc -vV
    wasm-bindgen --version
    "${WASM_OPT[@]}" --version
    env | grep -E '^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_PROFILE_|CARGO_BUILD_)' | sort || true
  } | sha256sum | cut -d' ' -f1
}

# bundle NAME FEATURES [WASM_OPT_FLAGS…]: builds www/NAME/ with the cargo FEATURES
# (comma-separated, may be empty), optimised by wasm-opt -Oz and the extra flags.
bundle() {
  local name=$1 features=$2 want
  local extra=("${@:3}")
  want=$(inputs_hash "$features ${extra[*]}")
  local out=("www/$name/prunelab.js" "www/$name/prunelab_bg.wasm" "www/$name/prunelab_bg.wasm.gz" "www/$name/prunelab.d.ts")
  local stamp="www/$name/.inputs.sha256"
  # Up to date when the stamp names these inputs and the outputs are the ones written with it.
  if [[ ${FORCE:-0} != 1 && -f $stamp && $(head -n1 "$stamp") == "$want" ]] \
     && tail -n +2 "$stamp" | sha256sum --check --status 2>/dev/null; then
    printf 'build-web: www/%s/ is up to date (inputs unchanged since it was built); FORCE=1 to rebuild\n' "$name"
    return
  fi
  # Bundles are also kept by input hash in the target directory, outside the clone, so that a
  # fresh clone of an already-built commit (CI, a second checkout) copies instead of rebuilding.
  local cache="$CARGO_TARGET_DIR/web-bundle/$want"
  mkdir -p "www/$name"
  rm -f "$stamp"
  if [[ ${FORCE:-0} != 1 && -f $cache/prunelab_bg.wasm ]]; then
    cp "$cache"/prunelab.js "$cache"/prunelab_bg.wasm "$cache"/prunelab_bg.wasm.gz "$cache"/prunelab.d.ts "www/$name/"
    { echo "$want"; sha256sum "${out[@]}"; } > "$stamp"
    printf 'build-web: www/%s/ copied from %s (built before from the same inputs)\n' "$name" "$cache"
    return
  fi

  local t0=$SECONDS t1 t2 dir="$CARGO_TARGET_DIR/wasm-bindgen/$name"
  # What `wasm-pack build --target web` does, without wasm-pack (one tool less to compile).
  cargo build --lib --release --target wasm32-unknown-unknown ${features:+--features "$features"}
  wasm-bindgen "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/prunelab.wasm" \
    --target web --out-dir "$dir" --out-name prunelab
  t1=$SECONDS
  # Sized for download (-Oz; the CPU kernels keep their opt-level 3 code from rustc, see
  # Cargo.toml). The features are those rustc's wasm32 target emits, plus SIMD (.cargo/config.toml).
  "${WASM_OPT[@]}" "$dir/prunelab_bg.wasm" -Oz "${extra[@]}" -o "$dir/prunelab_bg.wasm" \
    --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue
  t2=$SECONDS
  cp "$dir/prunelab.js" "$dir/prunelab_bg.wasm" "$dir/prunelab.d.ts" "www/$name/"
  # What the page downloads (worker.js un-gzips it with DecompressionStream): a quarter of the
  # bytes on any host, whether or not it compresses responses itself.
  gzip -9 -n -c "www/$name/prunelab_bg.wasm" > "www/$name/prunelab_bg.wasm.gz"
  { echo "$want"; sha256sum "${out[@]}"; } > "$stamp"
  # Keep this bundle, and the four newest others (about 12 MB each).
  mkdir -p "$cache.tmp" && cp "${out[@]}" "$cache.tmp/" && rm -rf "$cache" && mv "$cache.tmp" "$cache"
  (cd "$CARGO_TARGET_DIR/web-bundle" && ls -t | tail -n +6 | xargs -r rm -rf)
  printf 'build-web: www/%s/prunelab_bg.wasm %d bytes (%d gzipped) in %ds (cargo and wasm-bindgen %ds, wasm-opt %ds)\n' \
    "$name" "$(stat -c %s "www/$name/prunelab_bg.wasm")" "$(stat -c %s "www/$name/prunelab_bg.wasm.gz")" \
    "$((t2 - t0))" "$((t1 - t0))" "$((t2 - t1))"
}

bundle pkg ""
# --converge repeats -Oz until the module stops shrinking: 19 kB less gzipped, which takes the
# WebGPU bundle under 3.0 MB, for about 3 minutes more of wasm-opt (see README).
bundle pkg-webgpu wgpu --converge
