//! `prunelab`: the engine from the command line, for reproduction, benchmarks and tests.
//!
//! Native only; on wasm32 (where `wasm-pack test` builds every target) it is an empty program.

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod serve;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
