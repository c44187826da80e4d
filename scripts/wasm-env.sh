# Sourced by the scripts that build wasm (build-web.sh, test.sh): one set of release-profile
# settings for the bundle and the wasm tests, so that they share their dependency builds.
# Size-optimised code (but for the CPU kernels, see Cargo.toml), fat LTO and one codegen unit
# shrink the bundle; they apply to the wasm32 build only because only these scripts set them.
#
# No CARGO_PROFILE_RELEASE_PANIC=abort: wasm32-unknown-unknown aborts on panic anyway (its
# target default), while cargo builds test targets and all their dependencies with
# panic=unwind whatever the profile says, so `panic = abort` here made the wasm tests compile
# every dependency a second time (a different panic setting is a different build for cargo).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
