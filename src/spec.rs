//! What a caller asks for: how to prune (the method, how much, its options) and how to train
//! (a recipe and its settings), with the checks on them. Plain data without burn, so that the
//! CLI, the Lab and the fuzz targets (fuzz/) parse and check requests the same way; `prune` and
//! `train` re-export it.

use serde::{Deserialize, Serialize};

use crate::model::ModelKind;

/// A share of weights or units to remove, in percent, always within 0..=100 and finite.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Sparsity(f64);

impl Sparsity {
    pub const ZERO: Sparsity = Sparsity(0.0);

    pub fn new(percent: f64) -> Result<Self, PruneError> {
        if percent.is_finite() && (0.0..=100.0).contains(&percent) {
            Ok(Sparsity(percent))
        } else {
            Err(PruneError::BadSparsity(percent.to_string()))
        }
    }

    pub fn percent(self) -> f64 {
        self.0
    }

    /// How many of `n` items this sparsity removes: ⌊k/100 · n⌋ (multiplied first, so that
    /// whole percentages of round counts are exact).
    pub fn count_of(self, n: usize) -> usize {
        ((self.0 * n as f64) / 100.0).floor().min(n as f64) as usize
    }
}

impl TryFrom<f64> for Sparsity {
    type Error = PruneError;
    fn try_from(v: f64) -> Result<Self, PruneError> {
        Sparsity::new(v)
    }
}

impl From<Sparsity> for f64 {
    fn from(s: Sparsity) -> f64 {
        s.0
    }
}

impl std::str::FromStr for Sparsity {
    type Err = PruneError;
    fn from_str(s: &str) -> Result<Self, PruneError> {
        let v: f64 = s.trim().trim_end_matches('%').parse().map_err(|_| PruneError::BadSparsity(s.into()))?;
        Sparsity::new(v)
    }
}

impl std::fmt::Display for Sparsity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// The two ways of pruning the report compares.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Unstructured: individual weights of smallest magnitude.
    Weight,
    /// Structured: whole units of smallest incoming L2 norm.
    Neuron,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Weight => "weight",
            Method::Neuron => "neuron",
        })
    }
}

/// One pruning request: the method, how much, and the method's option.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruneSpec {
    pub method: Method,
    pub sparsity: Sparsity,
    /// For weight pruning.
    #[serde(default)]
    pub scope: Scope,
    /// For weight pruning: never keep a weight on no input-to-output path (see
    /// `prune::weight_mask`).
    #[serde(default)]
    pub connected: bool,
    /// For neuron pruning.
    #[serde(default)]
    pub variant: Variant,
}

/// Which weights compete with each other for removal.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One ranking over all hidden kernels together (the report's choice): layers with many
    /// small weights lose more.
    #[default]
    Global,
    /// Each hidden kernel loses the same share.
    Layer,
    /// Layer-adaptive magnitude pruning (LAMP, Lee et al. 2021): one global ranking of
    /// w² / (sum of w'² over the same layer's weights at least as large). Scale-free across
    /// layers, so no layer is emptied at extreme sparsity. Needs a sort within each layer.
    Lamp,
    /// Each layer loses what its measured sensitivity allows (see `Sensitivity::allocate`):
    /// needs the curves.
    Sensitivity,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Global, Scope::Layer, Scope::Lamp, Scope::Sensitivity];
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scope::Global => "global",
            Scope::Layer => "layer",
            Scope::Lamp => "lamp",
            Scope::Sensitivity => "sensitivity",
        })
    }
}

/// What removing a unit means.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The unit is gone: its incoming weights, its bias and its outgoing weights are zero, so it
    /// outputs nothing and the network can be compacted without changing its outputs.
    #[default]
    Full,
    /// The report's: only the incoming weights are zeroed; the bias stays, so a "pruned" unit
    /// still emits relu(bias) into the next layer.
    Report,
}

/// Calibration images pruning with reconstruction takes by default (the 1,024, from the
/// start of the training set).
pub const DEFAULT_CALIBRATION: usize = 1024;

/// Why pruning could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("sparsity must be a number from 0 to 100 (percent), got {0}")]
    BadSparsity(String),
    #[error("the sensitivity scope needs per-layer sensitivity curves of this model: measure them first (`prunelab sensitivity`, or Sensitivity in the page)")]
    NoSensitivity,
    #[error("these sensitivity curves do not fit the model: {0}")]
    SensitivityMismatch(String),
    #[error("pruning with reconstruction failed: {0}")]
    Reconstruct(String),
}

/// How the learning rate moves over training.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Schedule {
    /// The report's: the same rate throughout.
    Constant,
    /// Linear warm-up over `warmup` of the steps, then a cosine decay to zero.
    Cosine { warmup: f64 },
}

impl Schedule {
    /// Learning rate at `step` of `total`.
    pub fn lr(&self, base: f64, step: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Cosine { warmup } => {
                let t = step as f64 / total.max(1) as f64;
                if t < warmup {
                    base * (t / warmup).max(0.01)
                } else {
                    let p = (t - warmup) / (1.0 - warmup).max(1e-9);
                    base * 0.5 * (1.0 + (std::f64::consts::PI * p.min(1.0)).cos())
                }
            }
        }
    }
}

/// Everything that decides how a model is trained.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    pub weight_decay: f32,
    pub epsilon: f32,
    pub schedule: Schedule,
    /// Reshuffle the training set every epoch (with `seed + epoch`).
    pub shuffle: bool,
    pub seed: u64,
    /// Train on label-preserving variations of the images ([`crate::augment::Augment::default`]):
    /// mirrored, tilted, re-shaded, as silhouettes and outlines (some wider or narrower), so the
    /// model also reads drawings.
    #[serde(default)]
    pub augment: bool,
}

/// Named training presets.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// The report's Keras recipe: Adam 1e-3, batch 32, constant rate, ε = 1e-7, Keras' default
    /// per-epoch shuffling.
    Report,
    /// Ours: AdamW with weight decay, batch 64, warm-up and cosine decay; the CNN, slowed by its
    /// heavy dropout, gets a 3× higher peak rate (README, training).
    Default,
}

impl Recipe {
    pub fn config(self, kind: ModelKind, epochs: usize) -> TrainConfig {
        match self {
            Recipe::Report => TrainConfig {
                epochs,
                batch_size: 32,
                lr: 1e-3,
                weight_decay: 0.0,
                epsilon: 1e-7,
                schedule: Schedule::Constant,
                shuffle: true,
                seed: 42,
                augment: false,
            },
            Recipe::Default => TrainConfig {
                epochs,
                batch_size: 64,
                lr: if kind == ModelKind::Mlp { 1e-3 } else { 3e-3 },
                weight_decay: 5e-4,
                epsilon: 1e-8,
                schedule: Schedule::Cosine { warmup: 0.02 },
                shuffle: true,
                seed: 42,
                augment: false,
            },
        }
    }
}

impl TrainConfig {
    /// The config with the caller's learning rate, batch size and seed where given, in place of
    /// the recipe's.
    pub fn with(mut self, lr: Option<f64>, batch_size: Option<usize>, seed: Option<u64>) -> Self {
        self.lr = lr.unwrap_or(self.lr);
        self.batch_size = batch_size.unwrap_or(self.batch_size);
        self.seed = seed.unwrap_or(self.seed);
        self
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::BadConfig(m));
        if self.epochs == 0 || self.epochs > 1000 {
            return bad(format!("epochs must be 1..=1000, got {}", self.epochs));
        }
        if self.batch_size == 0 || self.batch_size > 60_000 {
            return bad(format!("batch size must be 1..=60000, got {}", self.batch_size));
        }
        if !self.lr.is_finite() || self.lr <= 0.0 || self.lr > 10.0 {
            return bad(format!("learning rate must be in (0, 10], got {}", self.lr));
        }
        if !self.weight_decay.is_finite() || !(0.0..1.0).contains(&self.weight_decay) {
            return bad(format!("weight decay must be in [0, 1), got {}", self.weight_decay));
        }
        Ok(())
    }
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("there is nothing to train on: the training set is empty")]
    EmptyDataset,
    #[error("invalid training setting: {0}")]
    BadConfig(String),
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: the loss reached {loss} (it starts near 2.3, and above {DIVERGED_LOSS} the weights have blown up); the learning rate {lr} is too high: try {}",
        lr / 10.0
    )]
    Diverged { loss: f32, epoch: usize, batch: usize, lr: f64 },
    #[error("the device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error("an image must have 784 values (28×28) in [0, 1], got {0}")]
    BadImage(String),
}

/// A batch loss above this stops training as diverged. Cross-entropy over 10 classes starts near
/// ln 10 ≈ 2.3; at 100 the right class scores 100 below another, so the weights have blown up.
/// A learning rate far too high gets here long before the loss is NaN (at lr 10 it stays finite
/// near 1e11 and the model predicts one class), so non-finite alone would let it train on.
pub const DIVERGED_LOSS: f32 = 100.0;
