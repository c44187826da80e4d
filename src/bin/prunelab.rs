//! `prunelab`: the engine from the command line, for reproduction, benchmarks and tests.

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
use prunelab::train::{self, BatchProgress, EpochSummary, Evaluation, Observer, Recipe, Trainer};
use prunelab::{block_on, data};

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

#[derive(Subcommand)]
enum Command {
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
    #[error("{0}")]
    Usage(String),
}

fn main() -> ExitCode {
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
            let mut cfg = recipe.config(model, epochs);
            if let Some(b) = batch {
                cfg.batch_size = b;
            }
            if let Some(lr) = lr {
                cfg.lr = lr;
            }
            if let Some(s) = seed {
                cfg.seed = s;
            }
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
        Command::Bench { steps, common } => bench(steps, &common),
    }
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
    let out = serde_json::json!({"threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), "results": rows});
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
    }
    Ok(())
}
