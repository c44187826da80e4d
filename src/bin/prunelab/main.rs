//! `prunelab`: the engine from the command line, for reproduction, benchmarks and tests.
//! This file only parses and dispatches; each command is `cmd/<name>.rs`.
//!
//! Native only; on wasm32 (where `cargo test --target wasm32…` builds every target) it is an
//! empty program.

#[cfg(not(target_arch = "wasm32"))]
mod cmd;
#[cfg(not(target_arch = "wasm32"))]
mod common;
#[cfg(not(target_arch = "wasm32"))]
mod serve;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser;
    use cmd::Command;

    #[derive(Parser)]
    #[command(name = "prunelab", version, about = "Train, prune and benchmark the Fashion-MNIST networks of the pruning report")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    let command = Cli::parse().command;
    if !matches!(command, Command::Serve(_)) {
        common::quit_on_closed_pipe();
    }
    common::install_ctrlc();
    common::flush_subnormals();
    let result = match command {
        Command::Train(a) => cmd::train::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Calibrate(a) => cmd::calibrate::run(a),
        Command::Histogram(a) => cmd::histogram::run(a),
        Command::Sensitivity(a) => cmd::sensitivity::run(a),
        Command::Prune(a) => cmd::prune::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Subset(a) => cmd::subset::run(a),
        Command::Serve(a) => cmd::serve::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("prunelab: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
