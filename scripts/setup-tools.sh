#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks to build and test prunelab.
# Each step checks first (versions included) and is skipped when already satisfied,
# so re-runs take a second or two.
#
#   bash scripts/setup-tools.sh          # Rust wasm32 target + Fashion-MNIST data
#   bash scripts/setup-tools.sh --web    # ... plus the browser toolchain: wasm-bindgen-cli,
#                                        #     binaryen (wasm-opt), nightly Rust with rust-src (the
#                                        #     threaded bundle), chromium, chromedriver, node and
#                                        #     npm packages
#   bash scripts/setup-tools.sh --site   # ... what building the site needs: --web without the
#                                        #     browser and its driver (build-site.sh, CI hosts)
#   bash scripts/setup-tools.sh --web --fuzz   # ... and the fuzzing tools (cargo-fuzz):
#                                        #     what scripts/test.sh needs
#
# Assumes a Rust toolchain installed with rustup (the version in Cargo.toml's rust-version or newer).
set -euo pipefail

log() { printf 'setup-tools: %s\n' "$*"; }
die() { printf 'setup-tools: ERROR: %s\n' "$*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
WASM_TARGET=wasm32-unknown-unknown
WASM_OPT_VERSION=0.116.1   # binaryen 116 (see install_wasm_opt)

WEB=0
BROWSER=1
FUZZ=0
for arg in "$@"; do
  case $arg in
    --web) WEB=1 ;;
    --site) WEB=1; BROWSER=0 ;;
    --fuzz) FUZZ=1 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $arg (accepted: --web, --site, --fuzz)" ;;
  esac
done

# cargo-installed tools land here; make them visible to the version checks below.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# as_root CMD...: run CMD as root (directly, or through sudo when available).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "not root and no sudo: cannot run '$*'"
  fi
}

APT_UPDATED=0
# apt_install PKG...: apt-get install (after one apt-get update per run).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these by hand: $*"
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# lock_version CRATE: the version of CRATE recorded in Cargo.lock (fails when absent or ambiguous).
lock_version() {
  local crate=$1 lock="$ROOT/Cargo.lock" versions
  [[ -f $lock ]] || { echo "setup-tools: ERROR: $lock not found" >&2; return 1; }
  versions=$(awk -v want="name = \"$crate\"" '
      $0 == "[[package]]" { name = "" }
      $0 == want          { name = $0; next }
      name != "" && /^version = / { gsub(/^version = "|"$/, ""); print; name = "" }
    ' "$lock" | sort -u)
  if [[ -z $versions ]]; then
    echo "setup-tools: ERROR: no '$crate' in $lock" >&2; return 1
  fi
  if [[ $(wc -l <<<"$versions") -ne 1 ]]; then
    echo "setup-tools: ERROR: several versions of '$crate' in $lock: $(tr '\n' ' ' <<<"$versions")" >&2
    return 1
  fi
  printf '%s\n' "$versions"
}

# ---------------------------------------------------------------------------------------------
# Always: the wasm32 standard library (the crate is checked/built for the browser too).

install_wasm_target() {
  if command -v rustup >/dev/null 2>&1; then
    if rustup target list --installed | grep -qx "$WASM_TARGET"; then
      log "rust target $WASM_TARGET already installed"
    else
      log "rustup target add $WASM_TARGET"
      rustup target add "$WASM_TARGET"
    fi
  else
    command -v rustc >/dev/null 2>&1 \
      || die "no Rust toolchain: install rustup (https://rustup.rs) and re-run"
    # A non-rustup toolchain (e.g. Debian's rustc): we cannot add targets, only check.
    [[ -d "$(rustc --print sysroot)/lib/rustlib/$WASM_TARGET" ]] \
      || die "rustup not found and rustc has no $WASM_TARGET standard library; install Rust with rustup"
    log "rust target $WASM_TARGET present (non-rustup toolchain)"
  fi
}

# ---------------------------------------------------------------------------------------------
# --web only: the browser build and its tests.

# wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version (~5 CPU-min).
# NOT --locked: with it resolution fails here (its locked webpki-roots is not served).
install_wasm_bindgen_cli() {
  local want have
  want=$(lock_version wasm-bindgen) || die "cannot read the wasm-bindgen version from Cargo.lock"
  have=$(wasm-bindgen --version 2>/dev/null || true)       # "wasm-bindgen 0.2.130"
  have=${have#wasm-bindgen }
  have=${have%% *}
  if [[ $have == "$want" ]]; then
    log "wasm-bindgen-cli $want already installed"
  else
    log "installing wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want"
    have=$(wasm-bindgen --version 2>/dev/null || true)
    [[ $have == "wasm-bindgen $want" ]] \
      || die "installed wasm-bindgen-cli $want, but 'wasm-bindgen --version' on PATH says '${have:-nothing}' ($(command -v wasm-bindgen || true))"
  fi
}

# wasm-opt, the bundle's optimiser: binaryen 116. Not Debian 12's binaryen 108: it breaks
# wasm-bindgen's externref table (see Cargo.toml). Not npm's binaryen: a JavaScript build,
# several times slower on every bundle build. On x86_64 Linux (glibc 2.35 or newer), binaryen
# 116's prebuilt shared library from PyPI's icpp-binaryen wheel (6 MB, SHA-256 checked; no pip
# needed), which scripts/wasm-opt.py drives: seconds to install. Elsewhere the `wasm-opt` crate,
# which compiles binaryen 116 from source (about 21 CPU-minutes, once).
# shellcheck source=scripts/tool-paths.sh
source "$ROOT/scripts/tool-paths.sh"   # BINARYEN_LIB
BINARYEN_WHEEL=https://files.pythonhosted.org/packages/ce/f5/eca03b1ae57915f8fe294d28fafc3ee848ec033f7596bacf2edae9f4b037/icpp_binaryen-116.0.1-py3-none-manylinux_2_35_x86_64.whl
BINARYEN_WHEEL_SHA256=35fe9e8dd512977cd3dbaebf352eda4d6f686d0292d7d73942b5ffd3a1b06b20
install_wasm_opt() {
  local have want=${WASM_OPT_VERSION#*.} glibc tmp
  want=${want%%.*}                                          # 0.116.1 → binaryen 116
  if [[ -f $BINARYEN_LIB ]] && python3 "$ROOT/scripts/wasm-opt.py" "$BINARYEN_LIB" --version >/dev/null; then
    log "binaryen $want library already installed ($BINARYEN_LIB)"
    return
  fi
  glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)     # "glibc 2.36"
  glibc=${glibc#glibc }
  if [[ $(uname -sm) == "Linux x86_64" && -n $glibc ]] \
     && [[ $(printf '%s\n2.35\n' "$glibc" | sort -V | head -n1) == 2.35 ]]; then
    log "installing binaryen $want's library from PyPI's icpp-binaryen 116.0.1 wheel"
    tmp=$(mktemp -d)
    curl -fsSL --retry 3 -o "$tmp/binaryen.whl" "$BINARYEN_WHEEL"
    echo "$BINARYEN_WHEEL_SHA256  $tmp/binaryen.whl" | sha256sum --check --quiet \
      || die "the icpp-binaryen wheel does not have the expected SHA-256"
    python3 -m zipfile -e "$tmp/binaryen.whl" "$tmp/x"
    mkdir -p "$(dirname "$BINARYEN_LIB")"
    mv "$tmp/x/icpp_binaryen/lib/libbinaryen.so" "$BINARYEN_LIB"
    rm -rf "$tmp"
    python3 "$ROOT/scripts/wasm-opt.py" "$BINARYEN_LIB" --version >/dev/null \
      || die "binaryen's library does not load here: remove $BINARYEN_LIB and install the wasm-opt crate (cargo install wasm-opt --version $WASM_OPT_VERSION --locked)"
    return
  fi
  have=$("${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt" --version 2>/dev/null || true)
  if [[ $have == "wasm-opt version $want "* ]]; then        # "wasm-opt version 116 (version_116)"
    log "$have already installed"
  else
    log "installing the wasm-opt crate $WASM_OPT_VERSION (found: ${have:-none}; no prebuilt binaryen for $(uname -m), glibc ${glibc:-unknown})"
    command -v c++ >/dev/null 2>&1 || apt_install g++
    cargo install wasm-opt --version "$WASM_OPT_VERSION" --locked
  fi
}

# A nightly toolchain with the standard library's source: the threaded bundle rebuilds std with
# atomics (build-std, scripts/build-web.sh), and cargo fuzz needs nightly. The crate itself
# builds on stable.
install_nightly() {
  if rustup toolchain list | grep -q '^nightly'; then
    log "rust nightly already installed ($(rustc +nightly --version))"
  else
    log "rustup toolchain install nightly (minimal, with rust-src: the threaded bundle and cargo fuzz)"
    rustup toolchain install nightly --profile minimal --component rust-src
  fi
  if rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
    log "rust-src for nightly already installed"
  else
    log "rustup component add rust-src --toolchain nightly (build-std for the threaded bundle)"
    rustup component add rust-src --toolchain nightly
  fi
}

# The fuzz targets' tools (fuzz/; the test run smokes each target for a few seconds): nightly
# and cargo-fuzz.
CARGO_FUZZ_VERSION=0.13.2
install_fuzz_tools() {
  install_nightly
  if [[ $(cargo fuzz --version 2>/dev/null) == "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    log "cargo-fuzz $CARGO_FUZZ_VERSION already installed"
  else
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
}

# npm ci, unless node_modules was installed from this very package-lock.json (npm ci always
# deletes and re-installs node_modules: seconds that every `serve.sh` start would pay).
install_npm_packages() {
  local want stamp="$ROOT/node_modules/.prunelab-lock.sha256"
  [[ -f "$ROOT/package-lock.json" ]] || return 0
  want=$(sha256sum < "$ROOT/package-lock.json")
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    log "npm packages already installed from package-lock.json"
  else
    log "npm ci (front-end libraries and playwright-core, from package-lock.json)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$want" > "$stamp"
  fi
}

# Debian's chromium + chromedriver (headless browser tests), node and npm (Playwright and uPlot
# come from npm), python3 (the plain static server the built site is tested on).
# Note: on Ubuntu the chromium packages are snap wrappers; Debian's are real .debs.
install_browser_tools() {
  local missing=()
  if [[ $BROWSER -eq 1 ]]; then
    [[ -x /usr/bin/chromium ]]     || missing+=(chromium)
    [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
  fi
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "chromium, chromedriver, node, npm, curl and python3 already installed"
  else
    apt_install "${missing[@]}"
  fi
}

# ---------------------------------------------------------------------------------------------

install_wasm_target
if [[ $WEB -eq 1 ]]; then
  install_browser_tools
  install_wasm_bindgen_cli
  install_wasm_opt
  install_nightly
  install_npm_packages
fi
if [[ $FUZZ -eq 1 ]]; then
  install_fuzz_tools
fi
bash "$ROOT/scripts/setup-data.sh"
log "done"
