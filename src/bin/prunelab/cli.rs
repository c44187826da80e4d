//! The commands of `prunelab`, for reproduction, benchmarks and tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use prunelab::data::{Dataset, FashionMnist, default_data_dir};
use prunelab::model::file::{ModelFile, Precision};
use prunelab::model::{Arch, Model, ModelKind};
use prunelab::prune::finetune::{CubicSchedule, finetune, finetune_config, gradual};
use prunelab::prune::{self as pruning, Method, PruneSpec, Scope, Sparsity, Variant};
use prunelab::sweep::{self, SweepConfig};
use prunelab::train::{self, BatchProgress, EpochSummary, Evaluation, Observer, Recipe, Trainer};
use prunelab::{block_on, data};

use crate::serve;

#[derive(Parser)]
#[command(name = "prunelab", version, about = "Train, prune and benchmark the Fashion-MNIST networks of the pruning report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DeviceChoice {
    /// burn's pure-Rust CPU backend (multi-threaded, SIMD); the one the browser falls back to.
    Flex,
    /// burn-wgpu (Vulkan/Metal natively); needs the `wgpu` feature and a GPU.
    Wgpu,
    /// burn's CubeCL CPU backend: not built in (see README, Results).
    Cpu,
}

#[derive(clap::Args)]
struct Common {
    /// Folder holding the four Fashion-MNIST files (gzip or raw).
    #[arg(long, default_value_os_t = default_data_dir())]
    data: PathBuf,
    #[arg(long, value_enum, default_value = "flex")]
    device: DeviceChoice,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// How `prune` and `sweep` prune.
#[derive(clap::Args)]
struct How {
    /// Weight pruning: one global ranking, one per layer, or LAMP scores.
    #[arg(long, value_enum, default_value = "global")]
    scope: Scope,
    /// Weight pruning: spend the budget only on weights that lie on an input-to-output path
    /// (stranded ones go in place of the next-smallest).
    #[arg(long)]
    connected: bool,
    /// Neuron pruning: remove units fully, or zero only their inputs as the report did.
    #[arg(long, value_enum, default_value = "full")]
    variant: Variant,
    /// Epochs of masked fine-tuning after one-shot pruning.
    #[arg(long, default_value_t = 0)]
    finetune_epochs: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the browser lab (www/) on http://127.0.0.1:PORT/.
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The folder to serve (default: www/ under the current directory, else beside the crate).
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Write the first N training and M test images as raw IDX files (for the browser tests).
    Subset {
        #[arg(long, default_value_t = 2000)]
        train: usize,
        #[arg(long, default_value_t = 1000)]
        test: usize,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Train the MLP or the CNN, evaluate it on the test set and save it.
    Train {
        #[arg(long, value_enum)]
        model: ModelKind,
        #[arg(long, value_enum, default_value = "default")]
        recipe: Recipe,
        #[arg(long, default_value_t = 5)]
        epochs: usize,
        /// Batch size (default: the recipe's).
        #[arg(long)]
        batch: Option<usize>,
        /// Learning rate (default: the recipe's).
        #[arg(long)]
        lr: Option<f64>,
        #[arg(long)]
        seed: Option<u64>,
        /// Train on the first N training images only.
        #[arg(long)]
        limit: Option<usize>,
        /// Hold out the first N training images for validation (the report held out 5000 for the CNN).
        #[arg(long, default_value_t = 0)]
        validation: usize,
        /// Where to save the model (default: out/<model>.plab).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Store weights as f16 (half the size).
        #[arg(long)]
        f16: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Evaluate a saved model on the test set.
    Eval {
        #[arg(long)]
        model_file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Prune a saved model, optionally fine-tune it, and report what is left.
    Prune {
        #[arg(long)]
        model_file: PathBuf,
        #[arg(long, value_enum)]
        method: Method,
        /// Percent to remove, 0 to 100.
        #[arg(long, allow_negative_numbers = true)]
        sparsity: Sparsity,
        #[command(flatten)]
        how: How,
        /// Instead of one-shot pruning, prune gradually over N epochs of training (Zhu & Gupta's
        /// cubic schedule).
        #[arg(long)]
        gradual_epochs: Option<usize>,
        /// With --gradual-epochs: how many equal slices of training the schedule has, each at
        /// its own sparsity, the last at the target (default: one per epoch).
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
        /// Save the pruned model here (compacted to a smaller network when units were removed).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Prune the same trained model at each sparsity by each method; table, CSV, JSON and SVG chart.
    Sweep {
        /// The trained model to sweep; without it, one is trained first with --model and --epochs.
        #[arg(long, conflicts_with = "model")]
        model_file: Option<PathBuf>,
        #[arg(long, value_enum)]
        model: Option<ModelKind>,
        #[arg(long, default_value_t = 5)]
        epochs: usize,
        #[arg(long, value_delimiter = ',', default_values = ["weight", "neuron"])]
        methods: Vec<Method>,
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true, default_values = ["0", "25", "50", "60", "70", "80", "90", "95", "97", "99"])]
        sparsities: Vec<Sparsity>,
        #[command(flatten)]
        how: How,
        /// Folder for sweep.md, sweep.csv, sweep.json and sweep.svg.
        #[arg(long, default_value = "out/sweep")]
        out_dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Measure training and inference throughput of both models.
    Bench {
        /// Training batches to time per model (after 3 warm-up batches).
        #[arg(long, default_value_t = 40)]
        steps: usize,
        #[command(flatten)]
        common: Common,
    },
}

/// Every failure the CLI reports; each becomes one line on stderr and exit code 1.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Data(#[from] data::DataError),
    #[error(transparent)]
    Model(#[from] prunelab::model::ModelError),
    #[error(transparent)]
    Train(#[from] train::TrainError),
    #[error(transparent)]
    Tune(#[from] pruning::finetune::TuneError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Usage(String),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("prunelab: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Train { model, recipe, epochs, batch, lr, seed, limit, validation, out, f16, common } => {
            let cfg = recipe.config(model, epochs).with(lr, batch, seed);
            cfg.validate()?;
            let device = device(common.device)?;
            let data = FashionMnist::load_dir(&common.data)?;
            let (val, train_set) = data.train.split_at(validation);
            let train_set = match limit {
                Some(n) => train_set.take(n),
                None => train_set,
            };
            let arch = Arch::report(model);
            if !common.json {
                println!(
                    "training {} ({} parameters) on {} images, {} epochs, batch {}, lr {}, recipe {:?}, device {:?}",
                    arch.describe(),
                    arch.num_params(),
                    train_set.len(),
                    cfg.epochs,
                    cfg.batch_size,
                    cfg.lr,
                    recipe,
                    common.device
                );
            }
            let mut trainer = Trainer::fresh(&arch, cfg.clone(), &device, train_set.len())?;
            let mut obs = CliObserver::new(common.json);
            let report = block_on(trainer.run(&train_set, (!val.is_empty()).then_some(&val), &mut obs))?;
            obs.finish();
            let model = trainer.into_model();
            let test = block_on(train::evaluate(&model, &data.test, 1000, &device))?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("out/{model_kind}.plab", model_kind = model.kind())));
            let meta = serde_json::json!({
                "recipe": recipe, "config": cfg, "train_images": train_set.len(),
                "epochs_completed": report.epochs.len(), "cancelled": report.cancelled,
                "test_accuracy": test.accuracy, "test_loss": test.loss,
                "epoch_seconds": report.epochs.iter().map(|e| e.seconds).collect::<Vec<_>>(),
            });
            let weights = block_on(model.to_weights())?;
            ModelFile { weights, meta }.save(&out, if f16 { Precision::F16 } else { Precision::F32 })?;
            if common.json {
                let j = serde_json::json!({"model": model.kind(), "epochs": report.epochs, "cancelled": report.cancelled,
                    "test": strip(&test), "model_file": out});
                println!("{}", serde_json::to_string_pretty(&j).unwrap());
            } else {
                if report.cancelled {
                    println!("cancelled after {} complete epochs; saving what was learned", report.epochs.len());
                }
                print_eval(&test);
                println!("saved {}", out.display());
            }
            Ok(())
        }
        Command::Eval { model_file, common } => {
            let device = device(common.device)?;
            let file = ModelFile::load(&model_file)?;
            let model = Model::from_weights(&file.weights, &device)?;
            let test = Dataset::load_split(&common.data, false)?;
            let eval = block_on(train::evaluate(&model, &test, 1000, &device))?;
            if common.json {
                let j = serde_json::json!({"model_file": model_file, "arch": file.weights.arch, "params": file.weights.num_params(),
                    "nonzero_params": file.weights.count_nonzero(), "test": strip(&eval), "meta": file.meta});
                println!("{}", serde_json::to_string_pretty(&j).unwrap());
            } else {
                println!("{}: {} ({} parameters, {} non-zero)", model_file.display(), file.weights.arch.describe(), file.weights.num_params(), file.weights.count_nonzero());
                print_eval(&eval);
            }
            Ok(())
        }
        Command::Prune { model_file, method, sparsity, how, gradual_epochs, prune_steps, initial_sparsity, finetune_lr, finetune_batch, finetune_seed, out, common } => {
            let spec = PruneSpec { method, sparsity, scope: how.scope, connected: how.connected, variant: how.variant };
            let gradual = match gradual_epochs {
                Some(n) => Some((n, CubicSchedule::new(initial_sparsity, sparsity, prune_steps.map_or(n, |s| s as usize))?)),
                None => None,
            };
            prune_cmd(&model_file, spec, how.finetune_epochs, gradual, (finetune_lr, finetune_batch, finetune_seed), out.as_deref(), &common)
        }
        Command::Sweep { model_file, model, epochs, methods, sparsities, how, out_dir, common } => {
            let config = SweepConfig { methods, sparsities, scope: how.scope, connected: how.connected, variant: how.variant, finetune_epochs: how.finetune_epochs };
            sweep_cmd(model_file.as_deref(), model, epochs, config, &out_dir, &common)
        }
        Command::Bench { steps, common } => bench(steps, &common),
        Command::Subset { train, test, out, common } => {
            let data = FashionMnist::load_dir(&common.data)?;
            let io = |e: std::io::Error| CliError::Io { path: out.display().to_string(), message: e.to_string() };
            std::fs::create_dir_all(&out).map_err(io)?;
            for (set, n, images, labels) in [(&data.train, train, data::TRAIN_IMAGES, data::TRAIN_LABELS), (&data.test, test, data::TEST_IMAGES, data::TEST_LABELS)] {
                let (i, l) = set.take(n).to_idx();
                std::fs::write(out.join(images), i).map_err(io)?;
                std::fs::write(out.join(labels), l).map_err(io)?;
            }
            println!("wrote {} training and {} test images to {}", train.min(data.train.len()), test.min(data.test.len()), out.display());
            Ok(())
        }
        Command::Serve { port, root } => {
            let root = root.unwrap_or_else(|| data::project_dir("www"));
            serve::serve(&root, port).map_err(|e| CliError::Io { path: root.display().to_string(), message: e.to_string() })
        }
    }
}

fn prune_cmd(model_file: &std::path::Path, spec: PruneSpec, finetune_epochs: usize, gradual_epochs: Option<(usize, CubicSchedule)>, (finetune_lr, finetune_batch, finetune_seed): (Option<f64>, Option<usize>, Option<u64>), out: Option<&std::path::Path>, common: &Common) -> Result<(), CliError> {
    let device = device(common.device)?;
    // Everything that can fail on input is checked before any work or any write.
    let file = ModelFile::load(model_file)?;
    let data = if finetune_epochs > 0 || gradual_epochs.is_some() { FashionMnist::load_dir(&common.data)? } else { FashionMnist { train: Dataset::new(vec![], vec![])?, test: Dataset::load_split(&common.data, false)? } };
    let dense = &file.weights;
    let kind = dense.arch.kind();
    let tune = |epochs| finetune_config(kind, epochs, spec.sparsity).with(finetune_lr, finetune_batch, finetune_seed);
    let before = block_on(train::evaluate(&Model::from_weights(dense, &device)?, &data.test, 1000, &device))?;
    let mut obs = CliObserver::new(common.json);
    let t = web_time::Instant::now();
    let (weights, mask) = match gradual_epochs {
        Some((n, schedule)) => match block_on(gradual(dense, spec, schedule, &data.train, tune(n), &device, &mut obs))? {
            Some(r) => r,
            None => return Err(CliError::Usage("cancelled; nothing written".into())),
        },
        None => {
            let p = pruning::prune(dense, spec);
            if finetune_epochs > 0 {
                match block_on(finetune(&p.weights, &p.mask, &data.train, tune(finetune_epochs), &device, &mut obs))? {
                    Some(w) => (w, p.mask),
                    None => return Err(CliError::Usage("cancelled; nothing written".into())),
                }
            } else {
                (p.weights, p.mask)
            }
        }
    };
    obs.finish();
    let prune_seconds = t.elapsed().as_secs_f64();
    let model = Model::from_weights(&weights, &device)?;
    let after = block_on(train::evaluate(&model, &data.test, 1000, &device))?;
    let compacted = pruning::compact(&weights);
    let small = Model::from_weights(&compacted.weights, &device)?;
    let compact_eval = block_on(train::evaluate(&small, &data.test, 1000, &device))?;
    let (dense_ms, compact_ms) = (inference_ms(&model, &data.test, &device)?, inference_ms(&small, &data.test, &device)?);
    let sizes = pruning::sparse_sizes(&weights);
    let j = serde_json::json!({
        "spec": spec, "finetune_epochs": finetune_epochs, "gradual_epochs": gradual_epochs.map(|g| g.0), "prune_steps": gradual_epochs.map(|g| g.1.steps()), "initial_sparsity": gradual_epochs.map(|g| g.1.sparsity(0)), "seconds": prune_seconds,
        "accuracy_before": before.accuracy, "accuracy_after": after.accuracy, "loss_after": after.loss,
        "params": weights.num_params(), "nonzero_params": weights.count_nonzero(), "removed_by_mask": mask.removed(),
        "layers": pruning::layer_stats(&weights), "sparse_sizes": sizes,
        "compacted": { "arch": compacted.weights.arch, "params": compacted.weights.num_params(), "bytes": compacted.weights.num_params() * 4,
            "accuracy": compact_eval.accuracy, "inference_ms_10k": compact_ms, "dense_inference_ms_10k": dense_ms, "speedup": dense_ms / compact_ms },
    });
    if let Some(out) = out {
        // A network with removed units is saved compacted: same outputs, fewer bytes.
        let meta = serde_json::json!({"pruned_from": model_file, "prune": j.clone()});
        ModelFile { weights: compacted.weights.clone(), meta }.save(out, Precision::F32)?;
    }
    if common.json {
        println!("{}", serde_json::to_string_pretty(&j).unwrap());
    } else {
        println!("{} pruning at {} ({}): accuracy {:.2} % → {:.2} %", spec.method, spec.sparsity, describe_tuning(finetune_epochs, gradual_epochs), before.accuracy * 100.0, after.accuracy * 100.0);
        println!("non-zero parameters {} of {} ({:.1} % zero)", sizes.nonzero, sizes.params, 100.0 * (1.0 - sizes.nonzero as f64 / sizes.params as f64));
        println!("per layer:");
        for l in pruning::layer_stats(&weights) {
            println!("  {:<8} {:>9} of {:>9} weights left, {:>4} of {:>4} units alive", l.name, l.nonzero_weights, l.weights, l.units - l.dead_units, l.units);
        }
        println!("sizes: dense {} B, bitmask+values {} B, CSR {} B", sizes.dense_bytes, sizes.bitmask_bytes, sizes.csr_bytes);
        println!(
            "compacted: {} ({} parameters, {} B), accuracy {:.2} %, inference on 10,000 images {:.0} ms vs {:.0} ms dense ({:.2}× faster)",
            compacted.weights.arch.describe(), compacted.weights.num_params(), compacted.weights.num_params() * 4, compact_eval.accuracy * 100.0, compact_ms, dense_ms, dense_ms / compact_ms
        );
        if let Some(out) = out {
            println!("saved {}", out.display());
        }
    }
    Ok(())
}

fn describe_tuning(finetune: usize, gradual: Option<(usize, CubicSchedule)>) -> String {
    match gradual {
        Some((n, s)) => format!("gradual over {n} epochs in {} steps from {}", s.steps(), s.sparsity(0)),
        None if finetune > 0 => format!("one-shot, {finetune} epochs fine-tuning"),
        None => "one-shot".into(),
    }
}

/// Best of three timed passes of inference over `data`, in ms.
fn inference_ms(model: &Model, data: &Dataset, device: &Device) -> Result<f64, CliError> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        best = best.min(block_on(train::evaluate(model, data, 1000, device))?.seconds * 1e3);
    }
    Ok(best)
}

fn sweep_cmd(model_file: Option<&std::path::Path>, model: Option<ModelKind>, epochs: usize, config: SweepConfig, out_dir: &std::path::Path, common: &Common) -> Result<(), CliError> {
    let device = device(common.device)?;
    let file = match model_file {
        Some(f) => Some(ModelFile::load(f)?),
        None if model.is_none() => return Err(CliError::Usage("give --model-file FILE, or --model mlp|cnn to train one first".into())),
        None => None,
    };
    let data = FashionMnist::load_dir(&common.data)?;
    let weights = match file {
        Some(f) => f.weights,
        None => {
            let kind = model.expect("checked above");
            let mut trainer = Trainer::fresh(&Arch::report(kind), Recipe::Default.config(kind, epochs), &device, data.train.len())?;
            let mut obs = CliObserver::new(common.json);
            block_on(trainer.run(&data.train, None, &mut obs))?;
            obs.finish();
            block_on(trainer.into_model().to_weights())?
        }
    };
    let mut obs = CliObserver::new(common.json);
    let json = common.json;
    let result = block_on(sweep::sweep(&weights, Some(&data.train), &data.test, &config, &device, &mut obs, |p| {
        if !json {
            eprintln!("  {} {:>5} %: accuracy {:.2} %, {} non-zero, prune {:.0} ms, eval {:.0} ms", p.method, p.sparsity, p.accuracy * 100.0, p.nonzero_params, p.prune_ms, p.eval_ms);
        }
    }))?;
    obs.finish();
    let io = |e: std::io::Error| CliError::Io { path: out_dir.display().to_string(), message: e.to_string() };
    std::fs::create_dir_all(out_dir).map_err(io)?;
    let title = format!("{} — {} pruning sweep{}", weights.arch.describe(), if config.variant == Variant::Report { "report-variant" } else { "one-shot" },
        if config.finetune_epochs > 0 { format!(", {} epoch(s) fine-tuning", config.finetune_epochs) } else { String::new() });
    let overlay: [(&str, &[(f64, f64)]); 2] = [("report: weight", &sweep::REPORT_WEIGHT_POINTS), ("report: neuron", &sweep::REPORT_NEURON_POINTS)];
    let overlay: &[(&str, &[(f64, f64)])] = if weights.arch.kind() == ModelKind::Mlp { &overlay } else { &[] };
    std::fs::write(out_dir.join("sweep.md"), result.markdown()).map_err(io)?;
    std::fs::write(out_dir.join("sweep.csv"), result.csv()).map_err(io)?;
    std::fs::write(out_dir.join("sweep.json"), serde_json::to_string_pretty(&result).unwrap()).map_err(io)?;
    std::fs::write(out_dir.join("sweep.svg"), sweep::chart::svg(&result, &title, overlay)).map_err(io)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result).unwrap());
    } else {
        println!("{}", result.markdown());
        println!("{} points in {:.1} s; wrote sweep.md, sweep.csv, sweep.json, sweep.svg to {}", result.points.len(), result.seconds, out_dir.display());
    }
    Ok(())
}

/// The evaluation without the 10,000 per-image predictions, for printing.
fn strip(e: &Evaluation) -> Evaluation {
    Evaluation { predictions: Vec::new(), ..e.clone() }
}

fn device(choice: DeviceChoice) -> Result<Device, CliError> {
    match choice {
        DeviceChoice::Flex => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        DeviceChoice::Wgpu => Ok(Device::wgpu(Default::default())),
        #[cfg(not(feature = "wgpu"))]
        DeviceChoice::Wgpu => Err(CliError::Usage("this build has no wgpu backend: rebuild with `--features wgpu`".into())),
        DeviceChoice::Cpu => Err(CliError::Usage(
            "burn's CubeCL `cpu` backend is not built in: its build downloads a prebuilt LLVM, which this project's machines cannot reach; use --device flex".into(),
        )),
    }
}

fn print_eval(e: &Evaluation) {
    println!("test accuracy {:.2} %, loss {:.4} ({:.2} s)", e.accuracy * 100.0, e.loss, e.seconds);
    println!("per class:");
    for (name, acc) in data::CLASS_NAMES.iter().zip(&e.per_class_accuracy) {
        println!("  {name:<12} {:6.2} %", acc * 100.0);
    }
    println!("confusion (rows: true, columns: predicted):");
    for row in &e.confusion {
        println!("  {}", row.iter().map(|c| format!("{c:5}")).collect::<String>());
    }
}

/// Progress bars on a terminal; nothing in JSON mode. Ctrl-C cancels after the current batch.
struct CliObserver {
    bar: Option<ProgressBar>,
    json: bool,
    stop: Arc<AtomicBool>,
}

impl CliObserver {
    fn new(json: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // A second Ctrl-C after the first is ignored by us; the default handler is replaced once.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        Self { bar: None, json, stop }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Observer for CliObserver {
    fn on_batch(&mut self, p: &BatchProgress) {
        if self.json {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let b = ProgressBar::new(p.batches as u64);
            b.set_style(ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}").unwrap().progress_chars("=> "));
            b
        });
        bar.set_prefix(format!("{}/{}", p.epoch, p.epochs));
        bar.set_position(p.batch as u64);
        if p.batch % 20 == 0 || p.batch == p.batches {
            bar.set_message(format!("loss {:.4} acc {:.2}% {:.0} img/s", p.loss, p.accuracy * 100.0, p.samples_per_sec));
        }
    }

    fn on_epoch(&mut self, s: &EpochSummary) {
        self.finish();
        if !self.json {
            let val = s.validation.as_ref().map(|v| format!(", validation {:.2} %", v.accuracy * 100.0)).unwrap_or_default();
            println!(
                "epoch {}: loss {:.4}, train accuracy {:.2} %{val}, {:.1} s ({:.0} images/s)",
                s.epoch,
                s.loss,
                s.accuracy * 100.0,
                s.seconds,
                s.samples_per_sec
            );
        }
    }

    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Throughput of both models: training samples/s and inference images/s on real images, with
/// the GFLOP/s they imply.
fn bench(steps: usize, common: &Common) -> Result<(), CliError> {
    let device = device(common.device)?;
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
            "model": kind, "device": format!("{:?}", common.device).to_lowercase(), "batch": batch,
            "train_samples_per_sec": train_sps, "train_gflops": train_sps * 3.0 * flops / 1e9,
            "infer_images_per_sec": infer_ips, "infer_gflops": infer_ips * flops / 1e9,
            "forward_mflop_per_image": flops / 1e6,
        }));
    }
    // Inference of the report's MLP, dense against 50 % neuron-pruned and compacted: the speed-up
    // depends only on the shapes, so freshly initialised weights measure it honestly.
    let dense = block_on(Arch::report(ModelKind::Mlp).init(&device).to_weights())?;
    let p = pruning::prune(&dense, PruneSpec { method: Method::Neuron, sparsity: Sparsity::new(50.0).expect("valid"), scope: Scope::Global, connected: false, variant: Variant::Full });
    let small = pruning::compact(&p.weights).weights;
    let dense_ms = inference_ms(&Model::from_weights(&dense, &device)?, &test, &device)?;
    let small_ms = inference_ms(&Model::from_weights(&small, &device)?, &test, &device)?;
    let compaction = serde_json::json!({"dense_params": dense.num_params(), "compact_params": small.num_params(),
        "dense_ms_10k": dense_ms, "compact_ms_10k": small_ms, "speedup": dense_ms / small_ms});
    let out = serde_json::json!({"compaction_mlp_neuron50": compaction, "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), "results": rows});
    if common.json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
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
        println!("mlp 50 % neurons compacted: {} → {} parameters, inference {:.0} → {:.0} ms per 10,000 images ({:.2}× faster)",
            dense.num_params(), small.num_params(), dense_ms, small_ms, dense_ms / small_ms);
    }
    Ok(())
}
