//! `prunelab serve`: the page, from this machine.

use std::path::PathBuf;

use crate::common::CliError;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The folder to serve (default: www/ under the current directory, else beside the crate).
    #[arg(long)]
    root: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let root = a.root.unwrap_or_else(|| prunelab::data::project_dir("www"));
    crate::serve::serve(&root, a.port).map_err(|e| CliError::Io { path: root.display().to_string(), message: e.to_string() })
}
