//! `prunelab bench`: training and inference throughput of both models on real images, with
//! the GFLOP/s they imply, what compaction buys, and how long reconstruction takes.

use prunelab::block_on;
use prunelab::data::Dataset;
use prunelab::model::{Arch, ModelKind};
use prunelab::prune::reconstruct::{DEFAULT_CALIBRATION, reconstruct};
use prunelab::prune::{self as pruning, Method, PruneSpec, Scope, Sparsity, Variant, measure_compaction};
use prunelab::train::{self, Recipe, Trainer};

use crate::common::{CliError, Common, print_json};

#[derive(clap::Args)]
pub struct Args {
    /// Training batches to time per model (after 3 warm-up batches).
    #[arg(long, default_value_t = 40)]
    steps: usize,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let (steps, common) = (a.steps, &a.common);
    let device = common.device()?;
    let test = Dataset::load_split(&common.data, false)?;
    let mut rows = Vec::new();
    for kind in [ModelKind::Mlp, ModelKind::Cnn] {
        let arch = Arch::report(kind);
        let cfg = Recipe::Default.config(kind, 1);
        let batch = cfg.batch_size;
        let n = ((steps + 3) * batch).min(test.len());
        let subset = test.take(n);
        let mut trainer = Trainer::fresh(&arch, cfg, &device, subset.len())?;
        // Warm-up: the first batches allocate and (on wgpu) compile kernels.
        let warm = subset.take(3 * batch);
        block_on(trainer.run_epoch(&warm, None, &mut train::Quiet))?;
        let timed = Dataset::new(
            (3 * batch..n).flat_map(|i| subset.image(i).to_vec()).collect(),
            subset.labels()[3 * batch..].to_vec(),
        )?;
        let t = web_time::Instant::now();
        block_on(trainer.run_epoch(&timed, None, &mut train::Quiet))?;
        let train_sps = timed.len() as f64 / t.elapsed().as_secs_f64();
        let model = trainer.into_model();
        block_on(train::evaluate(&model, &test.take(1000), 1000, &device))?;
        let eval = block_on(train::evaluate(&model, &test, 1000, &device))?;
        let infer_ips = test.len() as f64 / eval.seconds;
        let flops = arch.forward_flops() as f64;
        rows.push(serde_json::json!({
            "model": kind, "device": common.device, "batch": batch,
            "train_samples_per_sec": train_sps, "train_gflops": train_sps * 3.0 * flops / 1e9,
            "infer_images_per_sec": infer_ips, "infer_gflops": infer_ips * flops / 1e9,
            "forward_mflop_per_image": flops / 1e6,
        }));
    }
    // Inference of the report's MLP, dense against 50 % neuron-pruned and compacted: the speed-up
    // depends only on the shapes, so freshly initialised weights measure it honestly.
    let dense = block_on(Arch::report(ModelKind::Mlp).init(&device).to_weights())?;
    let p = pruning::prune(&dense, PruneSpec { method: Method::Neuron, sparsity: Sparsity::new(50.0).expect("valid"), scope: Scope::Global, connected: false, variant: Variant::Full }, None)?;
    let (_, compaction) = block_on(measure_compaction(&p.weights, &test, 3, &device, async || {}))?;
    // One-shot pruning with reconstruction of the same MLP on the default calibration set (the
    // first training images): its time depends on the shapes, not on what the weights learnt.
    let calibration = Dataset::load_split(&common.data, true)?.take(DEFAULT_CALIBRATION);
    let mut reconstructed = Vec::new();
    for (method, k) in [(Method::Weight, 90.0), (Method::Neuron, 70.0)] {
        let spec = PruneSpec { method, sparsity: Sparsity::new(k).expect("valid"), scope: Scope::Global, connected: false, variant: Variant::Full };
        let p = block_on(reconstruct(&dense, &pruning::prune(&dense, spec, None)?, &calibration, DEFAULT_CALIBRATION, &mut train::Quiet, |_| {}))?;
        reconstructed.push((method, k, p.expect("Quiet never cancels").prune_ms));
    }
    let reconstruct_ms: serde_json::Map<_, _> = reconstructed.iter().map(|(m, k, ms)| (format!("{m}_{k}"), (*ms).into())).collect();
    let out = serde_json::json!({
        "compaction_mlp_neuron50": compaction,
        "reconstruct_mlp_ms": reconstruct_ms,
        "calibration_images": calibration.len(),
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "results": rows,
    });
    if common.json {
        print_json(&out);
    } else {
        for r in &rows {
            println!(
                "{:<4} train {:>8.0} samples/s ({:>5.1} GFLOP/s)   inference {:>8.0} images/s ({:>5.1} GFLOP/s)",
                r["model"].as_str().unwrap(),
                r["train_samples_per_sec"].as_f64().unwrap(),
                r["train_gflops"].as_f64().unwrap(),
                r["infer_images_per_sec"].as_f64().unwrap(),
                r["infer_gflops"].as_f64().unwrap()
            );
        }
        let n = compaction.images as f64;
        println!("mlp 50 % neurons compacted: {} → {} parameters, inference {:.0} → {:.0} ms per {} images ({:.2}× faster)",
            compaction.dense_params, compaction.params, compaction.dense_latency_ms * n, compaction.latency_ms * n, compaction.images, compaction.speedup);
        for (method, k, ms) in &reconstructed {
            println!("mlp {method} pruning at {k} % with reconstruction on {} images: {:.2} s", calibration.len(), ms / 1e3);
        }
    }
    Ok(())
}
