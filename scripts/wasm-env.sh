# Sourced by the scripts that build wasm (build-web.sh, test.sh): one set of release-profile
# settings for the bundle and the wasm tests, so that they share their dependency builds.
# Size-optimised code (but for the CPU kernels, see Cargo.toml), fat LTO and one codegen unit
# shrink the bundle; they apply to the wasm32 build only because
# only these scripts set them.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_PANIC=abort
