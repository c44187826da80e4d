#!/usr/bin/env bash
# Build Prune Lab as a static site: one self-contained folder that any static server can host
# at any path (every URL in it is relative). Sets up what is missing first, as serve.sh does.
#
#   bash scripts/build-site.sh                 # → dist/
#   bash scripts/build-site.sh --out DIR       # DIR is emptied first
#
# The folder:
#   index.html, bench.html   the pages (their scripts and styles point into app-<hash>/)
#   sw.js                    the service worker: offline use after one visit (www/sw.js)
#   app-<hash>/              scripts, styles, wasm bundle, vendored libraries, models; <hash>
#                            names this build's content, so two builds never share a file name
#   data/                    the four Fashion-MNIST .gz files and manifest.json (sizes, SHA-256)
#   drawings/                the drawn-garment sets of the drawing pad
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

OUT=dist
SETUP=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    --no-setup) SETUP=0; shift ;; # tests: tools, data and bundle are already there
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build-site: unknown argument $1 (accepted: --out DIR, --no-setup)" >&2; exit 2 ;;
  esac
done
[[ $OUT != / && $OUT != . && $OUT != "$ROOT" && $OUT != www && $OUT != www/ ]] || { echo "build-site: refusing to empty $OUT" >&2; exit 2; }

if [[ $SETUP == 1 ]]; then
  bash scripts/setup-tools.sh --site
  bash scripts/setup-data.sh
  bash scripts/build-web.sh
fi
for need in www/pkg/prunelab_bg.wasm.gz www/pkg-webgpu/prunelab_bg.wasm.gz www/pkg-threads/prunelab_bg.wasm.gz www/vendor/uPlot.iife.min.js www/data/t10k-labels-idx1-ubyte.gz; do
  [[ -f $need ]] || { echo "build-site: $need is missing: run without --no-setup" >&2; exit 1; }
done
bash scripts/data-manifest.sh www/data

# The shell: every file the pages load, except the pages, the service worker and the data.
cd www
mapfile -t SHELL < <(find . -type f \
  \( -name '*.js' -o -name '*.css' -o -name '*.wasm' -o -name '*.wasm.gz' -o -name '*.plab' \) \
  -not -path './data/*' -not -path './drawings/*' -not -name sw.js -printf '%P\n' | LC_ALL=C sort)
HASH=$(for f in "${SHELL[@]}"; do printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"; done \
  | sha256sum | cut -c1-12)
APP="app-$HASH"
cd "$ROOT"

rm -rf -- "$OUT"
mkdir -p -- "$OUT/$APP" "$OUT/data" "$OUT/drawings"
OUT=$(cd "$OUT" && pwd -P)
(cd www && cp --parents -- "${SHELL[@]}" "$OUT/$APP/")
cp -- www/data/*.gz www/data/manifest.json "$OUT/data/"
cp -- www/drawings/* "$OUT/drawings/"

# The pages: their own scripts and styles from app-<hash>/, and the build named for the page
# (which registers sw.js only when it sees it).
for pg in index.html bench.html; do
  sed -E \
    -e "s#(src|href)=\"((vendor/|ui\.js|bench\.js|style\.css)[^\"]*)\"#\1=\"$APP/\2\"#g" \
    -e "s#<meta charset=\"utf-8\">#&\n  <meta name=\"prunelab-build\" content=\"$HASH\">#" \
    "www/$pg" > "$OUT/$pg"
  # Anything else relative that the page loads would be missing from the site: refuse to ship.
  if grep -Eo '(src|href)="[^"#][^"]*"' "$OUT/$pg" | grep -Ev "=\"($APP/|data:|about:blank|https?:|\./|bench\.html|index\.html)"; then
    echo "build-site: $pg loads files outside $APP/ (above): add them to the shell" >&2
    exit 1
  fi
done

# The service worker, with this build's hash and its list of files.
{
  printf '"./", "index.html", "bench.html"'
  for f in www/drawings/*.json; do printf ', "drawings/%s"' "${f##*/}"; done
  # Not the raw .wasm: the page loads the .wasm.gz (the raw one is for browsers without
  # DecompressionStream, online only, and for the bench's size). Not the WebGPU bundle either:
  # only visitors with a GPU load it, and sw.js keeps it when they do. The threaded bundle is
  # kept: from the second load on, sw.js makes the page cross-origin isolated, and a machine with
  # more than one core then runs it, online or not.
  for f in "${SHELL[@]}"; do [[ $f == *.wasm || $f == pkg-webgpu/* ]] || printf ', "%s/%s"' "$APP" "$f"; done
} > "$OUT/.shell"
sed -e "s#^const BUILD = null;#const BUILD = '$HASH';#" \
    -e "s#^const SHELL = \[\];#const SHELL = [$(cat "$OUT/.shell")];#" www/sw.js > "$OUT/sw.js"
rm -- "$OUT/.shell"
grep -q "^const BUILD = '$HASH';" "$OUT/sw.js" || { echo "build-site: www/sw.js has no 'const BUILD = null;' line" >&2; exit 1; }

size=$(du -sb -- "$OUT" | cut -f1)
printf 'build-site: %s (build %s, %d files, %.1f MB): serve it with any static server\n' \
  "$OUT" "$HASH" "$(find "$OUT" -type f | wc -l)" "$(awk -v b="$size" "BEGIN{print b/1e6}")"
