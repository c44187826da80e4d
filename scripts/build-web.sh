#!/usr/bin/env bash
# Build the browser bundle: the vendored front-end libraries (npm → www/vendor/) and the wasm
# Lab (wasm-pack → pkg/, optimised by wasm-opt, copied to www/pkg/, and gzipped beside it as
# the page downloads it). Both are git-ignored.
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

# The native wasm-opt that setup-tools.sh installs with cargo (binaryen 116; not Debian 12's 108,
# which breaks the bundle, see Cargo.toml; not npm's, a JavaScript build, several times slower).
WASM_OPT="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt"
OUT=(www/pkg/prunelab.js www/pkg/prunelab_bg.wasm www/pkg/prunelab_bg.wasm.gz www/pkg/prunelab.d.ts)
STAMP=www/pkg/.inputs.sha256
[[ -x $WASM_OPT ]] || { echo "build-web: no $WASM_OPT: run bash scripts/setup-tools.sh --web" >&2; exit 1; }

# inputs_hash: one SHA-256 over the content of everything the bundle is built from, and the
# versions of the tools that build it. Content, not mtimes: a fresh clone or a `git checkout`
# sets every mtime to "now", and an edit that is reverted changes an mtime but not the bundle.
# Not `git ls-files` either: untracked new files under src/ count too, and no git is needed.
inputs_hash() {
  {
    # src/bin/ is the CLI, which the wasm build leaves out.
    find src -path src/bin -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock .cargo/config.toml scripts/wasm-env.sh scripts/build-web.sh
    rustc -vV
    wasm-bindgen --version
    "$WASM_OPT" --version
    env | grep -E '^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_PROFILE_|CARGO_BUILD_)' | sort || true
  } | sha256sum | cut -d' ' -f1
}

want=$(inputs_hash)
# Up to date when the stamp names these inputs and the outputs are the ones written with it.
if [[ ${FORCE:-0} != 1 && -f $STAMP && $(head -n1 "$STAMP") == "$want" ]] \
   && tail -n +2 "$STAMP" | sha256sum --check --status 2>/dev/null; then
  printf 'build-web: www/pkg/ is up to date (inputs unchanged since it was built); FORCE=1 to rebuild\n'
  exit 0
fi

# Bundles are also kept by input hash in the target directory, outside the clone, so that a
# fresh clone of an already-built commit (CI, a second checkout) copies instead of rebuilding.
CACHE="$CARGO_TARGET_DIR/web-bundle/$want"
mkdir -p www/pkg
if [[ ${FORCE:-0} != 1 && -f $CACHE/prunelab_bg.wasm ]]; then
  rm -f "$STAMP"
  cp "$CACHE"/prunelab.js "$CACHE"/prunelab_bg.wasm "$CACHE"/prunelab_bg.wasm.gz "$CACHE"/prunelab.d.ts www/pkg/
  { echo "$want"; sha256sum "${OUT[@]}"; } > "$STAMP"
  printf 'build-web: www/pkg/ copied from %s (built before from the same inputs)\n' "$CACHE"
  exit 0
fi

t0=$SECONDS
rm -f "$STAMP"
wasm-pack build --target web --release --mode no-install --out-dir pkg --out-name prunelab
t1=$SECONDS
# The features are those rustc's wasm32 target emits, plus SIMD (.cargo/config.toml).
"$WASM_OPT" pkg/prunelab_bg.wasm -O3 -o pkg/prunelab_bg.wasm \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue
t2=$SECONDS
cp pkg/prunelab.js pkg/prunelab_bg.wasm pkg/prunelab.d.ts www/pkg/
# What the page downloads (worker.js un-gzips it with DecompressionStream): a quarter of the
# bytes on any host, whether or not it compresses responses itself.
gzip -9 -n -c www/pkg/prunelab_bg.wasm > www/pkg/prunelab_bg.wasm.gz
{ echo "$want"; sha256sum "${OUT[@]}"; } > "$STAMP"
# Keep this bundle, and the two newest others (about 14 MB each).
mkdir -p "$CACHE.tmp" && cp "${OUT[@]}" "$CACHE.tmp/" && rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
(cd "$CARGO_TARGET_DIR/web-bundle" && ls -t | tail -n +4 | xargs -r rm -rf)
raw=$(stat -c %s www/pkg/prunelab_bg.wasm)
gz=$(stat -c %s www/pkg/prunelab_bg.wasm.gz)
printf 'build-web: www/pkg/prunelab_bg.wasm %d bytes (%d gzipped) in %ds (wasm-pack %ds, wasm-opt %ds)\n' \
  "$raw" "$gz" "$((t2 - t0))" "$((t1 - t0))" "$((t2 - t1))"
