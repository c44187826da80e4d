//! `prunelab prune`: prune a saved model (one-shot, fine-tuned or gradual) and report it.

use std::path::PathBuf;

use prunelab::block_on;
use prunelab::data::{Dataset, FashionMnist};
use prunelab::model::Model;
use prunelab::model::file::{ModelFile, Precision};
use prunelab::prune::finetune::{CubicSchedule, finetune, finetune_config, gradual};
use prunelab::prune::reconstruct::{DEFAULT_CALIBRATION, reconstruct};
use prunelab::prune::{self as pruning, CompactReport, Method, PruneReport, PruneSpec, Scope, Sparsity, Variant, measure_compaction};
use prunelab::train;
use serde::Serialize;

use crate::cmd::sensitivity::Curves;
use crate::common::{CliError, CliObserver, Common, check_cancelled, named, print_json};

/// How `prune` and `sweep` prune.
#[derive(clap::Args)]
pub struct How {
    /// Weight pruning: spend the budget only on weights that lie on an input-to-output path
    /// (stranded ones go in place of the next-smallest).
    #[arg(long)]
    pub connected: bool,
    /// Neuron pruning: full (remove units) or report (zero only their inputs, as the report did).
    #[arg(long, value_parser = named::<Variant>, default_value = "full")]
    pub variant: Variant,
    /// Choose what to drop and update what is left, layer by layer, so that each layer's outputs
    /// on calibration images change least: weights by OBS (as SparseGPT does it), units by a
    /// least-squares refit of the next layer. One-shot, no training.
    #[arg(long)]
    pub reconstruct: bool,
    /// With --reconstruct: how many training images (the first N) to calibrate on.
    #[arg(long, requires = "reconstruct", default_value_t = DEFAULT_CALIBRATION)]
    pub calibration: usize,
    /// Epochs of masked fine-tuning after one-shot pruning.
    #[arg(long, default_value_t = 0)]
    pub finetune_epochs: usize,
    #[command(flatten)]
    pub curves: Curves,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    /// weight or neuron.
    #[arg(long, value_parser = named::<Method>)]
    method: Method,
    /// Percent to remove, 0 to 100 (90 or 90%).
    #[arg(long, allow_negative_numbers = true)]
    sparsity: Sparsity,
    /// Weight pruning: global (one ranking), layer (each layer the same share), lamp (LAMP
    /// scores) or sensitivity (each layer as much as its measured sensitivity allows).
    #[arg(long, value_parser = named::<Scope>, default_value = "global")]
    scope: Scope,
    #[command(flatten)]
    how: How,
    /// Instead of one-shot pruning, prune gradually over N epochs of training (Zhu & Gupta's
    /// cubic schedule).
    #[arg(long)]
    gradual_epochs: Option<usize>,
    /// With --gradual-epochs: how many equal slices of training the schedule has, each at its
    /// own sparsity, the last at the target (default: one per epoch).
    #[arg(long, requires = "gradual_epochs", value_parser = clap::value_parser!(u32).range(1..=1000))]
    prune_steps: Option<u32>,
    /// With --gradual-epochs: the sparsity of the first slice (default 0: it trains dense).
    #[arg(long, requires = "gradual_epochs", default_value = "0")]
    initial_sparsity: Sparsity,
    /// Learning rate of fine-tuning (default: see `finetune_config`).
    #[arg(long)]
    finetune_lr: Option<f64>,
    /// Batch size of fine-tuning.
    #[arg(long)]
    finetune_batch: Option<usize>,
    /// Seed of fine-tuning's shuffling (to see how much a result owes to the order of images).
    #[arg(long)]
    finetune_seed: Option<u64>,
    /// Save the pruned model here (compacted to a smaller network when units were removed,
    /// stored sparse when that is smaller).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Store the saved model's values as f16.
    #[arg(long, requires = "out")]
    f16: bool,
    #[command(flatten)]
    common: Common,
}

/// The engine's report, plus what only the CLI measures.
#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    report: PruneReport,
    /// The model before pruning, on the same test set.
    dense_accuracy: f32,
    compact: CompactReport,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let device = a.common.device()?;
    let spec = PruneSpec { method: a.method, sparsity: a.sparsity, scope: a.scope, connected: a.how.connected, variant: a.how.variant };
    // Everything that can fail on input is checked before any work or any write.
    let schedule = match a.gradual_epochs {
        Some(n) => Some((n, CubicSchedule::new(a.initial_sparsity, a.sparsity, a.prune_steps.map_or(n, |s| s as usize))?)),
        None => None,
    };
    if a.how.reconstruct && schedule.is_some() {
        return Err(CliError::Usage("--reconstruct is for one-shot pruning (optionally fine-tuned), not --gradual-epochs".into()));
    }
    let file = ModelFile::load(&a.model_file)?;
    let training = a.how.finetune_epochs > 0 || schedule.is_some() || a.how.reconstruct;
    let data = if training {
        FashionMnist::load_dir(&a.common.data)?
    } else {
        FashionMnist { train: Dataset::new(vec![], vec![])?, test: Dataset::load_split(&a.common.data, false)? }
    };
    let dense = &file.weights;
    let curves = if a.method == Method::Weight { a.how.curves.resolve(&[a.scope], dense, &a.common)? } else { None };
    let curves = curves.as_ref();
    // Refused here, before any training, if the scope cannot prune this model.
    spec.check(dense, curves)?;
    let tune = |epochs| finetune_config(dense.arch.kind(), epochs, a.sparsity).with(a.finetune_lr, a.finetune_batch, a.finetune_seed);
    let before = block_on(train::evaluate(&Model::from_weights(dense, &device)?, &data.test, 1000, &device))?;
    let mut obs = CliObserver::new(a.common.json);
    // None when cancelled (Ctrl-C during reconstruction).
    let one_shot = |obs: &mut CliObserver| -> Result<Option<pruning::Pruning>, CliError> {
        let p = pruning::prune(dense, spec, curves)?;
        Ok(if a.how.reconstruct { block_on(reconstruct(dense, &p, &data.train, a.how.calibration, obs, |_| {}))? } else { Some(p) })
    };
    let pruned = match schedule {
        Some((n, s)) => block_on(gradual(dense, spec, curves, s, &data.train, tune(n), &device, &mut obs))?,
        None if a.how.finetune_epochs > 0 => match one_shot(&mut obs)? {
            Some(p) => block_on(finetune(&p, &data.train, tune(a.how.finetune_epochs), &device, &mut obs))?,
            None => None,
        },
        None => one_shot(&mut obs)?,
    };
    obs.finish();
    let pruned = pruned.ok_or(CliError::Cancelled)?;
    let report = block_on(PruneReport::new(&pruned, Some(&data.test), &device))?;
    let (compacted, compact) = block_on(measure_compaction(&pruned.weights, &data.test, 3, &device, async || {}))?;
    check_cancelled()?;
    if let Some(out) = &a.out {
        // A network with removed units is saved compacted: same outputs, fewer bytes.
        let meta = serde_json::json!({"pruned_from": a.model_file, "spec": spec, "finetune_epochs": report.finetune_epochs, "gradual": report.gradual, "accuracy": report.accuracy});
        ModelFile { weights: compacted.weights, meta }.save(out, if a.f16 { Precision::F16 } else { Precision::F32 })?;
    }
    if a.common.json {
        print_json(&Output { report, dense_accuracy: before.accuracy, compact });
        return Ok(());
    }
    let tuning = match (report.gradual, report.finetune_epochs) {
        (Some(g), n) => format!("gradual over {n} epochs in {} steps from {}", g.steps, g.initial_sparsity),
        (None, 0) if report.calibration_images.is_some() => format!("one-shot, reconstructed on {} images", report.calibration_images.unwrap_or(0)),
        (None, 0) => "one-shot".into(),
        (None, n) => format!("one-shot, {n} epochs fine-tuning"),
    };
    let s = report.sparse_sizes;
    println!("{} pruning at {} ({tuning}): accuracy {:.2} % → {:.2} %", spec.method, spec.sparsity, before.accuracy * 100.0, report.accuracy.unwrap_or(0.0) * 100.0);
    println!("non-zero parameters {} of {} ({:.1} % zero)", s.nonzero, s.params, 100.0 * (1.0 - s.nonzero as f64 / s.params as f64));
    println!("per layer:");
    for l in &report.layers {
        println!("  {:<8} {:>9} of {:>9} weights left, {:>4} of {:>4} units alive", l.name, l.nonzero_weights, l.weights, l.units - l.dead_units, l.units);
    }
    println!("sizes: dense {} B, bitmask+values {} B, CSR {} B", s.dense_bytes, s.bitmask_bytes, s.csr_bytes);
    let images = compact.images as f64;
    println!(
        "compacted: {} ({} parameters, {} B), inference on {} images {:.0} ms vs {:.0} ms uncompacted ({:.2}× faster), logits within {:.1e}",
        compact.arch, compact.params, compact.bytes, compact.images, compact.latency_ms * images, compact.dense_latency_ms * images, compact.speedup, compact.max_abs_diff
    );
    let f = compact.file_bytes;
    println!(
        "cost per image: {:.2} MFLOP as run (zeros too), {:.2} through the non-zeros, {:.2} compacted; .plab f16 files: dense {} B, sparse {} B, compacted {} B",
        compact.dense_flops as f64 / 1e6, compact.nonzero_flops as f64 / 1e6, compact.flops as f64 / 1e6, f.dense, f.sparse, f.compacted
    );
    if let Some(out) = &a.out {
        println!("saved {}", out.display());
    }
    Ok(())
}
