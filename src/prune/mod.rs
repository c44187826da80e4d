//! Pruning: which weights or units to remove, and what is left afterwards.
//!
//! Everything is decided on the host from [`Weights`](crate::model::Weights): ranking needs
//! selection, which WebGPU lacks, and one read of the weights is cheap next to evaluation.

pub mod compact;
pub mod finetune;
pub mod first_layer;
pub mod histogram;
pub mod neuron;
pub mod preview;
pub mod reconstruct;
pub mod sensitivity;
pub mod weight;

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::data::Dataset;
use crate::model::{Model, Weights};
use crate::train::{Evaluation, TrainError, evaluate};
pub use crate::model::Mask;
pub use crate::spec::{Method, PruneError, PruneSpec, Scope, Sparsity, Variant};
pub use compact::{CompactReport, Compacted, FileBytes, SparseSizes, compact, measure_compaction, nonzero_flops, sparse_sizes};
pub use first_layer::{FirstLayer, UnitImage, first_layer};
pub use histogram::{LayerHistogram, WeightHistogram, weight_histogram};
pub use neuron::{NeuronPruning, neuron_prune};
pub use preview::{Guess, Preview, preview};
pub use sensitivity::{LayerSensitivity, Sensitivity, SensitivityPoint, sensitivity};
pub use weight::{Budget, stranded, weight_mask};

impl PruneSpec {
    /// Whether this request can prune `weights` (only the sensitivity scope can fail: it needs
    /// curves that fit them), without choosing any weights: for checking before long work.
    pub fn check(&self, weights: &Weights, curves: Option<&Sensitivity>) -> Result<(), PruneError> {
        if self.method == Method::Weight {
            self.scope.budget(weights, self.sparsity, curves)?;
        }
        Ok(())
    }
}

/// The mask `spec` gives for `weights`. `curves` are for the sensitivity scope, which fails
/// without them.
pub fn prune_mask(weights: &Weights, spec: PruneSpec, curves: Option<&Sensitivity>) -> Result<Mask, PruneError> {
    Ok(match spec.method {
        Method::Weight => weight_mask(weights, spec.sparsity, spec.scope, spec.connected, curves)?,
        Method::Neuron => neuron_prune(weights, spec.sparsity, spec.variant).mask,
    })
}

/// A pruned network: its weights and mask, how it was made, and how long that took.
#[derive(Clone, Debug, PartialEq)]
pub struct Pruning {
    pub spec: PruneSpec,
    pub weights: Weights,
    pub mask: Mask,
    pub finetune_epochs: usize,
    pub gradual: Option<Gradual>,
    /// Set when the pruning was reconstructed (see [`reconstruct`]) on this many images.
    pub calibration_images: Option<usize>,
    pub prune_ms: f64,
    pub finetune_ms: f64,
}

/// Prunes a copy of `weights`, one-shot (`curves`: see [`prune_mask`]).
pub fn prune(weights: &Weights, spec: PruneSpec, curves: Option<&Sensitivity>) -> Result<Pruning, PruneError> {
    let start = web_time::Instant::now();
    let mask = prune_mask(weights, spec, curves)?;
    let mut pruned = weights.clone();
    mask.apply(&mut pruned).expect("a mask made from these weights fits them");
    Ok(Pruning { spec, weights: pruned, mask, finetune_epochs: 0, gradual: None, calibration_images: None, prune_ms: start.elapsed().as_secs_f64() * 1e3, finetune_ms: 0.0 })
}

/// Gradual pruning's schedule, as reported: Zhu & Gupta's cubic schedule in `steps` equal
/// slices, the first at `initial_sparsity`.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gradual {
    pub steps: usize,
    pub initial_sparsity: Sparsity,
}

/// What a pruning did: the result both faces report, field for field.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PruneReport {
    pub spec: PruneSpec,
    /// Epochs trained with the mask since pruning (0: one-shot).
    pub finetune_epochs: usize,
    /// Set when pruning happened step by step during those epochs.
    pub gradual: Option<Gradual>,
    /// Set when the weights kept were solved for on this many training images (one-shot
    /// pruning with reconstruction).
    pub calibration_images: Option<usize>,
    /// On the test set, when one was given.
    pub accuracy: Option<f32>,
    pub loss: Option<f32>,
    pub total_params: usize,
    pub nonzero_params: usize,
    /// Parameters the mask removes (weights, plus biases of removed units).
    pub removed: usize,
    /// Choosing and applying the mask (and reconstructing).
    pub prune_ms: f64,
    /// Training after (or, gradually, while) pruning.
    pub finetune_ms: f64,
    pub eval_ms: f64,
    pub layers: Vec<LayerStats>,
    pub sparse_sizes: SparseSizes,
}

impl PruneReport {
    /// Describes `weights` pruned by `mask`, evaluating them on `test` when given.
    pub async fn new(pruning: &Pruning, test: Option<&Dataset>, device: &Device) -> Result<Self, TrainError> {
        let Pruning { spec, finetune_epochs, gradual, calibration_images, ref weights, ref mask, prune_ms, finetune_ms } = *pruning;
        let t = web_time::Instant::now();
        let eval = match test {
            Some(test) => Some(evaluate_pruned(weights, test, device).await?),
            None => None,
        };
        Ok(PruneReport {
            spec,
            finetune_epochs,
            gradual,
            calibration_images,
            accuracy: eval.as_ref().map(|e| e.accuracy),
            loss: eval.as_ref().map(|e| e.loss),
            total_params: weights.num_params(),
            nonzero_params: weights.count_nonzero(),
            removed: mask.removed(),
            prune_ms,
            finetune_ms,
            eval_ms: t.elapsed().as_secs_f64() * 1e3,
            layers: layer_stats(weights),
            sparse_sizes: sparse_sizes(weights),
        })
    }
}

/// Evaluates pruned weights without their dead units: the compacted network gives the same
/// outputs (tests/prune.rs) for a fraction of the work after neuron pruning, and whatever units
/// heavy weight pruning happened to cut off.
pub async fn evaluate_pruned(weights: &Weights, test: &Dataset, device: &Device) -> Result<Evaluation, TrainError> {
    let model = Model::from_weights(&compact(weights).weights, device)?;
    evaluate(&model, test, 1000, device).await
}

/// What one layer has left, for the per-layer view.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerStats {
    pub name: String,
    pub weights: usize,
    pub nonzero_weights: usize,
    pub units: usize,
    /// Units that can only output zero or that nothing reads (see [`compact::dead_units`]);
    /// always 0 for the output layer.
    pub dead_units: usize,
}

pub fn layer_stats(weights: &Weights) -> Vec<LayerStats> {
    let hidden = weights.hidden_layers();
    weights
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerStats {
            name: l.name.clone(),
            weights: l.weight.len(),
            nonzero_weights: l.weight.count_nonzero(),
            units: l.units(),
            dead_units: if hidden.contains(&i) { compact::dead_units(weights, i).iter().filter(|d| **d).count() } else { 0 },
        })
        .collect()
}

/// Pearson's correlation coefficient; `None` when either side is constant or lengths differ.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}


#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn sparsity_accepts_only_percentages() {
        for bad in [f64::NAN, -1.0, 150.0, f64::INFINITY, 100.0001] {
            assert!(matches!(Sparsity::new(bad), Err(PruneError::BadSparsity(_))), "{bad}");
        }
        assert!("abc".parse::<Sparsity>().is_err());
        assert_eq!("90%".parse::<Sparsity>().unwrap().percent(), 90.0);
        assert!(serde_json::from_str::<Sparsity>("150").is_err());
    }

    #[test]
    fn pearson_on_known_vectors() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // x = 1..5, y = (2, 4, 5, 4, 5): Σdxdy = 6, Σdx² = 10, Σdy² = 6, so r = 6 / √60 ≈ 0.7746.
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]).unwrap();
        assert!((r - 6.0 / 60f64.sqrt()).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn counts_are_floors() {
        assert_eq!(Sparsity::new(90.0).unwrap().count_of(2_386_000), 2_147_400);
        assert_eq!(Sparsity::new(97.0).unwrap().count_of(2_386_000), 2_314_420);
        assert_eq!(Sparsity::new(25.0).unwrap().count_of(10), 2);
        assert_eq!(Sparsity::new(100.0).unwrap().count_of(7), 7);
        assert_eq!(Sparsity::new(33.3).unwrap().count_of(3), 0);
    }
}
