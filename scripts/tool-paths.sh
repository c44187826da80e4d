# shellcheck shell=bash
# Where setup-tools.sh puts the tools it downloads rather than installs, for every script that
# uses them (sourced; sets variables only, unlike wasm-env.sh, which would also change how
# setup-tools' `cargo install` builds).
PRUNELAB_TOOLS="${PRUNELAB_TOOLS:-$HOME/.cache/prunelab-tools}"
# binaryen 116's shared library, driven by scripts/wasm-opt.py.
BINARYEN_LIB="$PRUNELAB_TOOLS/binaryen-116/libbinaryen.so"
