#!/usr/bin/env bash
# Build the browser bundles: the vendored front-end libraries (npm → www/vendor/) and the wasm
# Lab twice (cargo, then wasm-bindgen, optimised by wasm-opt, gzipped beside it as the page
# downloads it):
#   www/pkg/          the CPU bundle (burn flex): what most visitors need, a third of the bytes
#   www/pkg-webgpu/   the WebGPU bundle (burn-wgpu as well), loaded by the worker only when the
#                     backend asked for, or auto on a real GPU, needs it (Lab.needsWebgpu)
#   www/pkg-threads/  the CPU bundle on every core (feature `threads`: rayon on Web Workers),
#                     which the worker loads instead of pkg/ when the page is cross-origin
#                     isolated on a machine with more than one core. Built by nightly Rust:
#                     shared memory needs the standard library rebuilt with atomics (build-std)
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
    echo "threads: $THREADED_FLAGS"
    # src/bin/ is the CLI, which the wasm build leaves out; kernels/ is a crate the lab uses.
    find src kernels -path src/bin -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock .cargo/config.toml scripts/wasm-env.sh scripts/build-web.sh scripts/wasm-opt.py
    rustc "${TOOLCHAIN[@]}" -vV
    wasm-bindgen --version
    "${WASM_OPT[@]}" --version
    env | grep -E '^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_PROFILE_|CARGO_BUILD_)' | sort || true
  } | sha256sum | cut -d' ' -f1
}

# stamp_bundle NAME HASH: the stamp of www/NAME/: the inputs' hash, then each file's SHA-256.
stamp_bundle() {
  local files
  files=$(cd "www/$1" && find . -type f ! -name .inputs.sha256 | LC_ALL=C sort)
  { echo "$2"; (cd "www/$1" && xargs -d '\n' sha256sum <<< "$files" | sed "s|  \./|  www/$1/|"); } > "www/$1/.inputs.sha256"
}

# bundle NAME FEATURES [WASM_OPT_FLAGS…]: builds www/NAME/ with the cargo FEATURES
# (comma-separated, may be empty), optimised by wasm-opt -Oz and the extra flags.
bundle() {
  local name=$1 features=$2 want
  local extra=("${@:3}")
  want=$(inputs_hash "$features ${extra[*]}")
  local stamp="www/$name/.inputs.sha256"
  # Up to date when the stamp names these inputs and the outputs are the ones written with it
  # (all the bundle's files: the glue, the wasm, and the glue's snippets/ if it has any).
  if [[ ${FORCE:-0} != 1 && -f $stamp && $(head -n1 "$stamp") == "$want" ]] \
     && tail -n +2 "$stamp" | sha256sum --check --status 2>/dev/null; then
    printf 'build-web: www/%s/ is up to date (inputs unchanged since it was built); FORCE=1 to rebuild\n' "$name"
    return
  fi
  # Bundles are also kept by input hash in the target directory, outside the clone, so that a
  # fresh clone of an already-built commit (CI, a second checkout) copies instead of rebuilding.
  local cache="$CARGO_TARGET_DIR/web-bundle/$want"
  rm -rf "www/$name" && mkdir -p "www/$name"
  if [[ ${FORCE:-0} != 1 && -f $cache/prunelab_bg.wasm ]]; then
    cp -r "$cache/." "www/$name/"
    stamp_bundle "$name" "$want"
    printf 'build-web: www/%s/ copied from %s (built before from the same inputs)\n' "$name" "$cache"
    return
  fi

  local t0=$SECONDS t1 t2 dir="$CARGO_TARGET_DIR/wasm-bindgen/$name" target=$CARGO_TARGET_DIR
  # What `wasm-pack build --target web` does, without wasm-pack (one tool less to compile).
  if [[ -n $THREADED_FLAGS ]]; then
    # Its own target directory: another compiler and other flags rebuild every crate anyway.
    target="$CARGO_TARGET_DIR-threads"
    RUSTFLAGS="$THREADED_FLAGS" CARGO_TARGET_DIR="$target" cargo "${TOOLCHAIN[@]}" build --lib --release \
      --target wasm32-unknown-unknown --features "$features" -Z build-std=panic_abort,std
  else
    cargo build --lib --release --target wasm32-unknown-unknown ${features:+--features "$features"}
  fi
  rm -rf "$dir"
  wasm-bindgen "$target/wasm32-unknown-unknown/release/prunelab.wasm" \
    --target web --out-dir "$dir" --out-name prunelab
  t1=$SECONDS
  # Sized for download (-Oz; the CPU kernels keep their opt-level 3 code from rustc, see
  # Cargo.toml), without the two custom sections no browser reads. The features are those
  # rustc's wasm32 target emits, plus SIMD (.cargo/config.toml).
  "${WASM_OPT[@]}" "$dir/prunelab_bg.wasm" -Oz "${extra[@]}" -o "$dir/prunelab_bg.wasm" \
    --strip-producers --strip-target-features \
    --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue
  t2=$SECONDS
  cp "$dir/prunelab.js" "$dir/prunelab_bg.wasm" "$dir/prunelab.d.ts" "www/$name/"
  # The glue's own modules (the threaded bundle's: wasm-bindgen-rayon starts its workers from one).
  if [[ -d $dir/snippets ]]; then cp -r "$dir/snippets" "www/$name/"; fi
  # wasm-bindgen-rayon 1.3's pool worker starts the glue with the positional arguments that
  # wasm-bindgen 0.2.130 deprecates, and each pool thread warned so in the console: one object.
  helper=$(find "www/$name" -name 'workerHelpers.no-bundler.js')
  if [[ -n $helper ]]; then
    old='await pkg.default(data.module, data.memory);'
    grep -qF "$old" "$helper" || { echo "build-web: $helper no longer has: $old (see build-web.sh)" >&2; exit 1; }
    sed -i "s/await pkg.default(data.module, data.memory);/await pkg.default({ module_or_path: data.module, memory: data.memory });/" "$helper"
  fi
  # What the page downloads (worker.js un-gzips it with DecompressionStream): a quarter of the
  # bytes on any host, whether or not it compresses responses itself. zlib's deflate at level 9
  # (Python's) rather than GNU gzip's: the same format, 8 kB smaller on the WebGPU bundle.
  python3 -c 'import sys, zlib
z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header, no name, time 0
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as g: g.write(z.compress(f.read()) + z.flush())' \
    "www/$name/prunelab_bg.wasm" "www/$name/prunelab_bg.wasm.gz"
  # Keep this bundle, and the five newest others (about 12 MB each).
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp" && cp -r "www/$name/." "$cache.tmp/" && rm -rf "$cache" && mv "$cache.tmp" "$cache"
  (cd "$CARGO_TARGET_DIR/web-bundle" && ls -t | tail -n +7 | xargs -r rm -rf)
  stamp_bundle "$name" "$want"
  printf 'build-web: www/%s/prunelab_bg.wasm %d bytes (%d gzipped) in %ds (cargo and wasm-bindgen %ds, wasm-opt %ds)\n' \
    "$name" "$(stat -c %s "www/$name/prunelab_bg.wasm")" "$(stat -c %s "www/$name/prunelab_bg.wasm.gz")" \
    "$((t2 - t0))" "$((t1 - t0))" "$((t2 - t1))"
}

TOOLCHAIN=() THREADED_FLAGS=''
bundle pkg ""
# --converge repeats -Oz until the module stops shrinking: 19 kB less gzipped, which takes the
# WebGPU bundle under 3.0 MB, for about 3 minutes more of wasm-opt (see README).
bundle pkg-webgpu wgpu --converge
# Shared memory: atomics (bulk-memory and mutable-globals come with it), and the linker told to
# share the memory, import it (each worker instantiates the module on the same one) and export
# the thread-local storage symbols wasm-bindgen's thread glue needs; this rustc no longer adds
# those itself. Up to 2 GiB: the page needs a few hundred MB, and a shared memory declares its
# maximum up front.
TOOLCHAIN=(+nightly)
THREADED_FLAGS='-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals'
for arg in --shared-memory --import-memory --max-memory=2147483648 --export=__wasm_init_tls \
  --export=__tls_size --export=__tls_align --export=__tls_base; do
  THREADED_FLAGS+=" -C link-arg=$arg"
done
bundle pkg-threads threads --enable-threads
