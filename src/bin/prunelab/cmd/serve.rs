//! `prunelab serve`: the page, from this machine (or to a classroom's network, with --host).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::CliError;
use crate::serve::{Options, serve};

#[derive(clap::Args)]
pub struct Args {
    /// The port; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The address to listen on: 127.0.0.1 keeps the lab to this machine; 0.0.0.0 serves every
    /// device that can reach it (a classroom's network).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The folder to serve (default: www/ under the current directory, else beside the crate).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Seconds a client may take to send its request; a slower one is disconnected.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    timeout: f64,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 3600.0 => Ok(t),
        _ => Err(format!("{s} is not a number of seconds between 0 and 3600")),
    }
}

pub fn run(a: Args) -> Result<(), CliError> {
    let root = a.root.unwrap_or_else(|| prunelab::data::project_dir("www"));
    let options = Options { root: root.clone(), host: a.host, port: a.port, timeout: Duration::from_secs_f64(a.timeout) };
    serve(options).map_err(|e| CliError::Io { path: root.display().to_string(), message: e.to_string() })
}
