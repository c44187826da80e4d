//! What every command shares: data and device arguments, errors, progress on the terminal and
//! Ctrl-C, and one way of parsing the engine's enums.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use prunelab::data::{self, default_data_dir};
use prunelab::train::{BatchProgress, EpochSummary, Evaluation, Observer};
use serde::de::DeserializeOwned;

/// Set by the process's Ctrl-C handler (see [`install_ctrlc`]); observers read it.
static CANCELLED: AtomicBool = AtomicBool::new(false);
/// Whether the running command stops cleanly on [`CANCELLED`] (set by [`CliObserver::new`]):
/// otherwise Ctrl-C ends the process at once, as it would without a handler (`serve`, `eval`).
static CANCELLABLE: AtomicBool = AtomicBool::new(false);

/// Makes this thread one of rayon's pool (which burn's CPU kernels and this crate's fused
/// operations use), so that it works on what it hands out instead of sleeping until it is done
/// (`RAYON_NUM_THREADS` threads in all, this one included), and makes every thread of the pool
/// treat subnormal floats as zero. Adam's moment estimates for weights whose inputs are rarely
/// non-zero decay through the subnormal range, where x86 arithmetic is about 100× slower: the
/// second epoch of MLP training ran at half the speed of the first. Flushing them changes
/// results only below 1e-38.
pub fn flush_subnormals() {
    set_ftz_daz();
    let _ = rayon::ThreadPoolBuilder::new().use_current_thread().start_handler(|_| set_ftz_daz()).build_global();
}

fn set_ftz_daz() {
    #[cfg(target_arch = "x86_64")]
    {
        // MXCSR bit 15 flushes subnormal results to zero, bit 6 reads subnormal inputs as zero.
        let mut csr = 0u32;
        // SAFETY: stmxcsr/ldmxcsr only read and write the SSE control register of this thread;
        // setting FTZ and DAZ changes rounding of subnormals and nothing else.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= 0x8040;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack));
        }
    }
}

/// Installs the process's one Ctrl-C handler: a handler per observer is how an earlier version
/// reported a cancelled sweep as done (the second install failed, unnoticed). The first Ctrl-C
/// during training, fine-tuning or a sweep stops after the current batch; any other ends now.
pub fn install_ctrlc() {
    let _ = ctrlc::set_handler(|| {
        if CANCELLABLE.load(Ordering::SeqCst) && !CANCELLED.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("prunelab: cancelled");
        std::process::exit(130);
    });
}

/// Ends the process quietly when the reader of its output goes away (`prunelab eval … | head`),
/// as other Unix tools do: Rust ignores SIGPIPE, so the next `println!` panicked with a
/// backtrace instead. Not for `serve`, whose clients may hang up mid-response.
pub fn quit_on_closed_pipe() {
    // SAFETY: restores a signal's default action, before any thread of ours starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `Err(Cancelled)` once Ctrl-C was pressed: checked before a command writes anything, since a
/// press after the last batch (during evaluation, say) stops no loop.
pub fn check_cancelled() -> Result<(), CliError> {
    if CANCELLED.load(Ordering::SeqCst) { Err(CliError::Cancelled) } else { Ok(()) }
}

#[derive(clap::Args)]
pub struct Common {
    /// Folder holding the four Fashion-MNIST files (gzip or raw).
    #[arg(long, default_value_os_t = default_data_dir())]
    pub data: PathBuf,
    /// flex: burn's pure-Rust CPU backend; wgpu: burn-wgpu (needs the `wgpu` feature); cpu:
    /// burn's CubeCL CPU backend (not built in, see README).
    #[arg(long, default_value = "flex", value_parser = ["flex", "wgpu", "cpu"])]
    pub device: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Common {
    pub fn device(&self) -> Result<Device, CliError> {
        match self.device.as_str() {
            #[cfg(feature = "wgpu")]
            "wgpu" => Ok(Device::wgpu(Default::default())),
            #[cfg(not(feature = "wgpu"))]
            "wgpu" => Err(CliError::Usage("this build has no wgpu backend: rebuild with `--features wgpu`".into())),
            "cpu" => Err(CliError::Usage(
                "burn's CubeCL `cpu` backend is not built in: its build downloads a prebuilt LLVM, which this project's machines cannot reach; use --device flex".into(),
            )),
            _ => Ok(Device::flex()),
        }
    }
}

/// Parses a value of one of the engine's enums by its serde name, exactly, so the CLI spells
/// every value as the JSON and the TypeScript types do (one name per fact).
pub fn named<T: DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| e.to_string())
}

/// The serde name of an engine enum value, for text output (the name `named` parses).
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Every failure the CLI reports; each becomes one line on stderr and exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Data(#[from] data::DataError),
    #[error(transparent)]
    Model(#[from] prunelab::model::ModelError),
    #[error(transparent)]
    Train(#[from] prunelab::train::TrainError),
    #[error(transparent)]
    Tune(#[from] prunelab::prune::finetune::TuneError),
    #[error(transparent)]
    Prune(#[from] prunelab::prune::PruneError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("cancelled; nothing was written")]
    Cancelled,
}

/// Reads a whole file, saying which when it cannot.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Io { path: path.display().to_string(), message: e.to_string() })
}

/// Writes `contents` to `path`, creating its folder.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Io { path: path.display().to_string(), message: e.to_string() };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}

pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("results are plain data"));
}

/// The evaluation without its 10,000 per-image predictions, for printing.
pub fn strip(e: &Evaluation) -> Evaluation {
    Evaluation { predictions: Vec::new(), ..e.clone() }
}

pub fn print_eval(e: &Evaluation) {
    println!("test accuracy {:.2} %, loss {:.4} ({:.2} s)", e.accuracy * 100.0, e.loss, e.seconds);
    print_classes(e);
}

/// Per-class accuracy and the confusion matrix.
pub fn print_classes(e: &Evaluation) {
    println!("per class:");
    for (name, acc) in data::CLASS_NAMES.iter().zip(&e.per_class_accuracy) {
        println!("  {name:<12} {:6.2} %", acc * 100.0);
    }
    println!("confusion (rows: true, columns: predicted):");
    for row in &e.confusion {
        println!("  {}", row.iter().map(|c| format!("{c:5}")).collect::<String>());
    }
}

/// Progress bars on a terminal (nothing in JSON mode); Ctrl-C cancels after the current batch.
pub struct CliObserver {
    bar: Option<ProgressBar>,
    json: bool,
}

impl CliObserver {
    /// Arms Ctrl-C: from now on it cancels instead of ending the process.
    pub fn new(json: bool) -> Self {
        CANCELLABLE.store(true, Ordering::SeqCst);
        Self { bar: None, json }
    }

    pub fn finish(&mut self) {
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
        if p.batch.is_multiple_of(20) || p.batch == p.batches {
            bar.set_message(format!("loss {:.4} acc {:.2}% {:.0} img/s", p.loss, p.accuracy * 100.0, p.samples_per_sec));
        }
    }

    fn on_epoch(&mut self, s: &EpochSummary) {
        self.finish();
        if !self.json {
            let val = s.validation.as_ref().map(|v| format!(", validation {:.2} %", v.accuracy * 100.0)).unwrap_or_default();
            println!("epoch {}: loss {:.4}, train accuracy {:.2} %{val}, {:.1} s ({:.0} images/s)", s.epoch, s.loss, s.accuracy * 100.0, s.seconds, s.samples_per_sec);
        }
    }

    fn cancelled(&self) -> bool {
        CANCELLED.load(Ordering::SeqCst)
    }
}
