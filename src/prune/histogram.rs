//! What weight pruning at a sparsity would remove, before it does: per hidden layer, a
//! histogram of |w| on a log scale split into what stays and what goes, the layer's threshold,
//! and the count. Computed from the same mask as [`super::weight_mask`], so the count shown is
//! the count a prune then removes.

use serde::Serialize;

use super::{PruneError, Scope, Sensitivity, Sparsity, weight_mask};
use crate::model::Weights;

/// Bins of the histograms, evenly spaced in log10 |w|.
pub const BINS: usize = 40;

/// One hidden layer's weights against the threshold.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerHistogram {
    pub name: String,
    pub weights: usize,
    /// Weights that are exactly zero already (pruned before, or never set).
    pub zeros: usize,
    /// Per bin, the non-zero weights the prune would keep and remove.
    pub kept: Vec<u32>,
    pub removed: Vec<u32>,
    /// How many weights of this layer the prune removes (zeros included).
    pub would_remove: usize,
    /// The largest |w| it removes in this layer: everything at or below goes, ties aside. `None`
    /// when it removes nothing. One value across layers for the global scope; per layer, LAMP and
    /// sensitivity give each layer its own.
    pub threshold: Option<f32>,
}

/// The histograms of every hidden layer at `sparsity` and `scope`, on one shared axis.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightHistogram {
    pub sparsity: Sparsity,
    pub scope: Scope,
    /// `BINS + 1` bin edges in log10 |w|, shared by all layers.
    pub log10_edges: Vec<f32>,
    pub layers: Vec<LayerHistogram>,
    /// Over all hidden kernels: ⌊k/100 · n⌋.
    pub would_remove: usize,
}

/// What weight pruning `weights` at `sparsity` over `scope` would remove, layer by layer.
pub fn weight_histogram(weights: &Weights, sparsity: Sparsity, scope: Scope, curves: Option<&Sensitivity>) -> Result<WeightHistogram, PruneError> {
    let mask = weight_mask(weights, sparsity, scope, false, curves)?;
    let hidden: Vec<usize> = weights.hidden_layers().collect();
    let logs = || hidden.iter().flat_map(|&li| weights.layers[li].weight.values.iter()).filter(|v| **v != 0.0).map(|v| v.abs().log10());
    let (lo, hi) = logs().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo, hi.max(lo + 1e-3)) } else { (-3.0, 0.0) };
    let width = (hi - lo) / BINS as f32;
    let log10_edges = (0..=BINS).map(|i| lo + width * i as f32).collect();
    let layers = hidden
        .iter()
        .map(|&li| {
            let (l, keep) = (&weights.layers[li], &mask.layers[li].weight);
            let (mut kept, mut removed) = (vec![0u32; BINS], vec![0u32; BINS]);
            let (mut zeros, mut would_remove, mut threshold) = (0, 0, None::<f32>);
            for (v, &k) in l.weight.values.iter().zip(keep) {
                if !k {
                    would_remove += 1;
                    threshold = Some(threshold.map_or(v.abs(), |t| t.max(v.abs())));
                }
                if *v == 0.0 {
                    zeros += 1;
                    continue;
                }
                let bin = (((v.abs().log10() - lo) / width) as usize).min(BINS - 1);
                if k { kept[bin] += 1 } else { removed[bin] += 1 }
            }
            LayerHistogram { name: l.name.clone(), weights: l.weight.len(), zeros, kept, removed, would_remove, threshold }
        })
        .collect::<Vec<_>>();
    let would_remove = layers.iter().map(|l| l.would_remove).sum();
    Ok(WeightHistogram { sparsity, scope, log10_edges, layers, would_remove })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prune::weight::tests::weights_with;

    #[test]
    fn counts_add_up_and_match_the_prune() {
        let w = weights_with(&[6, 5], |li, i| ((i * 7 + li * 3) % 23) as f32 * 0.01 + 0.001);
        for scope in [Scope::Global, Scope::Layer, Scope::Lamp] {
            for k in [0.0, 37.0, 90.0, 100.0] {
                let h = weight_histogram(&w, Sparsity::new(k).unwrap(), scope, None).unwrap();
                let mask = weight_mask(&w, Sparsity::new(k).unwrap(), scope, false, None).unwrap();
                let removed: usize = w.hidden_layers().map(|li| mask.layers[li].weight.iter().filter(|k| !**k).count()).sum();
                assert_eq!(h.would_remove, removed, "{scope:?} {k}");
                let n: usize = w.hidden_layers().map(|li| w.layers[li].weight.len()).sum();
                assert_eq!(h.would_remove, Sparsity::new(k).unwrap().count_of(n));
                for l in &h.layers {
                    let binned: u32 = l.kept.iter().chain(&l.removed).sum();
                    assert_eq!(binned as usize + l.zeros, l.weights);
                    assert_eq!(l.removed.iter().sum::<u32>() as usize, l.would_remove - l.zeros.min(l.would_remove));
                }
            }
        }
    }

    #[test]
    fn the_global_threshold_is_one_magnitude() {
        let w = weights_with(&[6, 5], |li, i| ((i * 7 + li * 3) % 23) as f32 * 0.01 + 0.001);
        let h = weight_histogram(&w, Sparsity::new(50.0).unwrap(), Scope::Global, None).unwrap();
        let t = h.layers.iter().filter_map(|l| l.threshold).fold(0.0f32, f32::max);
        // No layer keeps a weight below the largest one removed anywhere.
        for &li in &w.hidden_layers().collect::<Vec<_>>() {
            let mask = weight_mask(&w, Sparsity::new(50.0).unwrap(), Scope::Global, false, None).unwrap();
            for (v, k) in w.layers[li].weight.values.iter().zip(&mask.layers[li].weight) {
                assert!(!*k || v.abs() >= t, "kept {v} below {t}");
            }
        }
    }
}
