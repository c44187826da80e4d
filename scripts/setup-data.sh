#!/usr/bin/env bash
# Install the real Fashion-MNIST (the four gzipped IDX files) into www/data/.
#
#   bash scripts/setup-data.sh        # works from any directory
#
# Sources, in order:
#   1. Debian's package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/*.gz),
#      installed with apt-get when missing and apt-get is available;
#   2. a download of the official files (Zalando's GitHub repository, then its S3 mirror).
# The files stay gzipped (the browser page streams the .gz files, the Rust reader gunzips them).
# Debian re-gzipped the files, so what is checked is the SHA-256 and size of the *decompressed*
# content. Re-running is cheap: when www/data already holds four good files nothing is copied.
set -euo pipefail

log() { printf 'setup-data: %s\n' "$*"; }
die() { printf 'setup-data: ERROR: %s\n' "$*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DEST="$ROOT/www/data"
APT_DIR=/usr/share/datasets/fashion-mnist
URLS=(
  "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"
  "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion"
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
)

# name  sha256-of-decompressed-content  decompressed-size-in-bytes
FILES=(
  "train-images-idx3-ubyte c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888 47040016"
  "train-labels-idx1-ubyte bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9 60008"
  "t10k-images-idx3-ubyte 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b 7840016"
  "t10k-labels-idx1-ubyte 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 10008"
)
NAMES=()
for entry in "${FILES[@]}"; do NAMES+=("${entry%% *}"); done

for tool in gzip sha256sum wc; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not installed"
done

# check_gz FILE SHA SIZE: 0 when FILE gunzips to content of that SHA-256 and size.
# Prints the reason on stderr otherwise.
check_gz() {
  local file=$1 want_sha=$2 want_size=$3 got_sha got_size
  [[ -f $file ]] || { echo "missing: $file" >&2; return 1; }
  if ! got_sha=$(gzip -dc -- "$file" 2>/dev/null | sha256sum); then
    echo "not a valid gzip file: $file" >&2; return 1
  fi
  got_sha=${got_sha%% *}
  got_size=$(gzip -dc -- "$file" 2>/dev/null | wc -c)
  got_size=${got_size//[[:space:]]/}
  if [[ $got_size != "$want_size" ]]; then
    echo "decompressed size $got_size, expected $want_size: $file" >&2; return 1
  fi
  if [[ $got_sha != "$want_sha" ]]; then
    echo "decompressed SHA-256 $got_sha, expected $want_sha: $file" >&2; return 1
  fi
}

# all_good: 0 when all four files in DEST verify (quietly).
all_good() {
  local entry name sha size
  for entry in "${FILES[@]}"; do
    read -r name sha size <<<"$entry"
    check_gz "$DEST/$name.gz" "$sha" "$size" 2>/dev/null || return 1
  done
}

# have_all DIR: 0 when DIR holds the four .gz files.
have_all() {
  local name
  for name in "${NAMES[@]}"; do [[ -s $1/$name.gz ]] || return 1; done
}

# as_root CMD...: run CMD as root (directly, or through sudo when available).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "not root and no sudo: cannot run '$*'"
    return 1
  fi
}

try_apt() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get on this machine"; return 1; }
  log "installing Debian package dataset-fashion-mnist (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || log "apt-get update failed (continuing)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist \
    || { log "apt-get install dataset-fashion-mnist failed"; return 1; }
}

# fetch URL OUT: download with curl or wget.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=20 -O "$2" "$1"
  else
    log "neither curl nor wget is installed"
    return 1
  fi
}

# try_download DIR: download the four files into DIR from the first base URL that serves them all.
try_download() {
  local dir=$1 base name
  for base in "${URLS[@]}"; do
    log "downloading from $base/"
    for name in "${NAMES[@]}"; do
      if ! fetch "$base/$name.gz" "$dir/$name.gz"; then
        log "  failed: $base/$name.gz"
        continue 2
      fi
    done
    return 0
  done
  return 1
}

# ---------------------------------------------------------------------------------------------

if all_good; then
  bash "$ROOT/scripts/data-manifest.sh" "$DEST"
  log "www/data already holds the verified Fashion-MNIST files (manifest.json written)"
  exit 0
fi

SRC=""
TMP=""
cleanup() { if [[ -n $TMP ]]; then rm -rf -- "$TMP"; fi; }
trap cleanup EXIT

if have_all "$APT_DIR"; then
  SRC=$APT_DIR
elif try_apt && have_all "$APT_DIR"; then
  SRC=$APT_DIR
else
  log "Debian package not usable; trying the official download"
  TMP=$(mktemp -d)
  try_download "$TMP" || die "could not get Fashion-MNIST: no dataset-fashion-mnist package and every download failed (${URLS[*]})"
  SRC=$TMP
fi
log "source: $SRC"

mkdir -p -- "$DEST"
for entry in "${FILES[@]}"; do
  read -r name sha size <<<"$entry"
  out="$DEST/$name.gz"
  cp -- "$SRC/$name.gz" "$out.part"
  if ! reason=$(check_gz "$out.part" "$sha" "$size" 2>&1); then
    rm -f -- "$out.part" "$out"
    die "$name.gz from $SRC failed verification (${reason%: *}); deleted the copy"
  fi
  mv -f -- "$out.part" "$out"
  log "ok  www/data/$name.gz  ($size bytes decompressed, sha256 ${sha:0:16}…)"
done
bash "$ROOT/scripts/data-manifest.sh" "$DEST"   # what the page checks downloads against
log "Fashion-MNIST installed and verified in $DEST (and data/manifest.json)"
