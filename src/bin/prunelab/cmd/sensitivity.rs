//! `prunelab sensitivity`: prune one layer at a time and chart what accuracy is left; the curves
//! the `sensitivity` scope allocates from.

use std::path::{Path, PathBuf};

use prunelab::block_on;
use prunelab::data::Dataset;
use prunelab::model::Weights;
use prunelab::model::file::ModelFile;
use prunelab::prune::sensitivity::{DEFAULT_IMAGES, sensitivity};
use prunelab::prune::{Scope, Sensitivity};

use crate::common::{CliError, CliObserver, Common, check_cancelled, print_json, read, write};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    #[command(flatten)]
    curves: Curves,
    /// Save the curves as JSON, for `prune --sensitivity FILE` and `sweep --sensitivity FILE`.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

/// Where the sensitivity scope's curves come from (`prune`, `sweep` and this command).
#[derive(clap::Args)]
pub struct Curves {
    /// Curves saved by `prunelab sensitivity --out`; without it they are measured first.
    #[arg(long)]
    pub sensitivity: Option<PathBuf>,
    /// Training images to measure on: the first N, which `train --validation N` holds out.
    #[arg(long, default_value_t = DEFAULT_IMAGES)]
    pub sensitivity_images: usize,
}

impl Curves {
    /// The curves for `weights` when one of `scopes` needs them: read from the file, or measured
    /// on the first training images (read from `data_dir`).
    pub fn resolve(&self, scopes: &[Scope], weights: &Weights, common: &Common) -> Result<Option<Sensitivity>, CliError> {
        if !scopes.contains(&Scope::Sensitivity) && self.sensitivity.is_none() {
            return Ok(None);
        }
        let curves = match &self.sensitivity {
            Some(path) => load(path)?,
            None => measure(weights, self.sensitivity_images, common)?,
        };
        curves.check(weights).map_err(|e| CliError::Usage(e.to_string()))?;
        Ok(Some(curves))
    }
}

fn load(path: &Path) -> Result<Sensitivity, CliError> {
    serde_json::from_slice(&read(path)?).map_err(|e| CliError::Io { path: path.display().to_string(), message: format!("not sensitivity curves: {e}") })
}

fn measure(weights: &Weights, images: usize, common: &Common) -> Result<Sensitivity, CliError> {
    if images == 0 {
        return Err(CliError::Usage("--sensitivity-images must be at least 1".into()));
    }
    let device = common.device()?;
    let train = Dataset::load_split(&common.data, true)?.take(images);
    let mut obs = CliObserver::new(common.json);
    let json = common.json;
    let curves = block_on(sensitivity(weights, &train, &device, &mut obs, |p| {
        if !json {
            eprintln!("  [{:>2}/{}] {:<6} at {:>5}: {:.2} %", p.done, p.total, p.layer.as_deref().unwrap_or("path"), p.sparsity, p.accuracy * 100.0);
        }
    }))?;
    check_cancelled()?;
    curves.ok_or(CliError::Cancelled)
}

pub fn run(a: Args) -> Result<(), CliError> {
    let file = ModelFile::load(&a.model_file)?;
    let curves = measure(&file.weights, a.curves.sensitivity_images, &a.common)?;
    if let Some(out) = &a.out {
        write(out, serde_json::to_string_pretty(&curves).expect("plain data"))?;
    }
    if a.common.json {
        print_json(&curves);
        return Ok(());
    }
    println!("{}", markdown(&curves));
    println!("dense: {:.2} % on the first {} training images; {:.1} s", curves.dense_accuracy * 100.0, curves.images, curves.seconds);
    if let Some(out) = &a.out {
        println!("saved {}", out.display());
    }
    Ok(())
}

/// Sparsity down, one accuracy column per layer.
fn markdown(s: &Sensitivity) -> String {
    let mut t = String::from("| sparsity |");
    for l in &s.layers {
        t += &format!(" {} ({} weights) |", l.name, l.weights);
    }
    t += "\n|---:|";
    t += &"---:|".repeat(s.layers.len());
    for (j, k) in s.sparsities.iter().enumerate() {
        t += &format!("\n| {k} |");
        for l in &s.layers {
            t += &format!(" {:.2} % |", l.accuracy[j] * 100.0);
        }
    }
    t
}
