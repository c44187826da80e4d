//! `prunelab histogram`: what weight pruning at a sparsity would remove, layer by layer, before
//! anything is pruned.

use std::path::PathBuf;

use prunelab::model::file::ModelFile;
use prunelab::prune::{Scope, Sparsity, weight_histogram};

use crate::cmd::sensitivity::Curves;
use crate::common::{CliError, Common, named, print_json};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    /// Percent of the hidden kernels' weights to remove.
    #[arg(long, allow_negative_numbers = true)]
    sparsity: Sparsity,
    /// global, layer, lamp or sensitivity.
    #[arg(long, value_parser = named::<Scope>, default_value = "global")]
    scope: Scope,
    #[command(flatten)]
    curves: Curves,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let file = ModelFile::load(&a.model_file)?;
    let curves = a.curves.resolve(&[a.scope], &file.weights, &a.common)?;
    let h = weight_histogram(&file.weights, a.sparsity, a.scope, curves.as_ref())?;
    if a.common.json {
        print_json(&h);
        return Ok(());
    }
    let (lo, hi) = (h.log10_edges[0], h.log10_edges[h.log10_edges.len() - 1]);
    println!("|w| from 1e{lo:.1} to 1e{hi:.1}, {} bins; ▁ kept, █ removed share of each bin", h.log10_edges.len() - 1);
    for l in &h.layers {
        let peak = l.kept.iter().zip(&l.removed).map(|(k, r)| k + r).max().unwrap_or(0).max(1);
        let bars: String = l
            .kept
            .iter()
            .zip(&l.removed)
            .map(|(&k, &r)| {
                let level = ((k + r) as f32 / peak as f32 * 7.0).ceil() as usize;
                let c = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇'][level.min(7)];
                if r > k { '█' } else { c }
            })
            .collect();
        let t = l.threshold.map_or("-".into(), |t| format!("{t:.2e}"));
        println!("{:<8} {bars} removes {:>9} of {:>9} ({:5.1} %), |w| ≤ {t}", l.name, l.would_remove, l.weights, 100.0 * l.would_remove as f64 / l.weights as f64);
    }
    println!("in all: {} weights at {} ({})", h.would_remove, a.sparsity, crate::common::name_of(&a.scope));
    Ok(())
}
