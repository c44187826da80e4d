//! Unstructured pruning: zero the kernel weights of smallest magnitude.

use serde::{Deserialize, Serialize};

use super::{Mask, Sparsity};
use crate::model::Weights;

/// Which weights compete with each other for removal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
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
}

/// Marks the ⌊k/100 · n⌋ smallest-magnitude weights of the hidden layers' kernels (not biases,
/// not the output layer) as removed. Ties are broken by position, so the result is
/// deterministic. Selection, not sorting: O(n) for 2.4 M weights.
pub fn weight_mask(weights: &Weights, sparsity: Sparsity, scope: Scope) -> Mask {
    let mut mask = Mask::full(weights);
    // Every hidden-kernel weight as (score, layer, index); the lowest scores go first.
    let scored = |li: usize| {
        let values = &weights.layers[li].weight.values;
        let scores = if scope == Scope::Lamp { lamp_scores(values) } else { values.iter().map(|v| v.abs()).collect() };
        scores.into_iter().enumerate().map(move |(i, s)| (s, li as u32, i as u32))
    };
    // The groups of weights that compete for removal.
    let groups: Vec<Vec<(f32, u32, u32)>> = match scope {
        Scope::Global | Scope::Lamp => vec![weights.hidden_layers().flat_map(scored).collect()],
        Scope::Layer => weights.hidden_layers().map(|li| scored(li).collect()).collect(),
    };
    for mut group in groups {
        for (_, li, i) in smallest(&mut group, sparsity) {
            mask.layers[*li as usize].weight[*i as usize] = false;
        }
    }
    mask
}

/// LAMP scores of one layer's weights: w² over the sum of w'² of the weights at least as large.
/// Needs a sort within the layer.
fn lamp_scores(values: &[f32]) -> Vec<f32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| values[a as usize].abs().total_cmp(&values[b as usize].abs()).then(a.cmp(&b)));
    // Suffix sums of w², accumulated in f64 so the tail of a million small terms is exact enough.
    let mut tail = 0.0f64;
    let mut scores = vec![0.0f32; values.len()];
    for &i in order.iter().rev() {
        let sq = (values[i as usize] as f64).powi(2);
        tail += sq;
        scores[i as usize] = if tail > 0.0 { (sq / tail) as f32 } else { 0.0 };
    }
    scores
}

/// The ⌊k/100 · n⌋ smallest items by (magnitude, layer, index), in no particular order.
fn smallest(items: &mut [(f32, u32, u32)], sparsity: Sparsity) -> &[(f32, u32, u32)] {
    let m = sparsity.count_of(items.len());
    if m == 0 || m == items.len() {
        return &items[..m];
    }
    items.select_nth_unstable_by(m - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    &items[..m]
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{Arch, HostTensor, Layer};

    /// An MLP 784-h-10 whose hidden kernel holds the given pattern repeated.
    pub(crate) fn weights_with(hidden: &[usize], f: impl Fn(usize, usize) -> f32) -> Weights {
        let arch = Arch::Mlp { hidden: hidden.to_vec() };
        let layers = arch
            .layer_shapes()
            .into_iter()
            .enumerate()
            .map(|(li, (name, kind, w, b))| {
                let n: usize = w.iter().product();
                Layer { name, kind, weight: HostTensor::new(w, (0..n).map(|i| f(li, i)).collect()), bias: HostTensor::new(vec![b], vec![0.1; b]) }
            })
            .collect();
        Weights { arch, layers }
    }

    #[test]
    fn global_removes_exactly_the_floor_and_only_hidden_kernels() {
        let w = weights_with(&[7, 5], |li, i| ((i * 37 + li * 11) % 101) as f32 - 50.0);
        let hidden_n: usize = w.layers[..2].iter().map(|l| l.weight.len()).sum();
        for k in [0.0, 25.0, 50.0, 90.0, 99.0, 100.0] {
            let m = weight_mask(&w, Sparsity::new(k).unwrap(), Scope::Global);
            assert_eq!(m.removed(), (k * hidden_n as f64 / 100.0).floor() as usize, "k = {k}");
            assert!(m.layers[2].weight.iter().all(|k| *k), "output layer untouched");
            assert!(m.layers.iter().all(|l| l.bias.iter().all(|k| *k)), "biases untouched");
        }
    }

    #[test]
    fn removed_weights_are_the_smallest_and_ties_are_deterministic() {
        // All weights equal in magnitude: ties everywhere, broken by layer then position.
        let w = weights_with(&[3], |_, i| if i % 2 == 0 { 1.0 } else { -1.0 });
        let m = weight_mask(&w, Sparsity::new(50.0).unwrap(), Scope::Global);
        let n = w.layers[0].weight.len();
        assert!(m.layers[0].weight[..n / 2].iter().all(|k| !*k));
        assert!(m.layers[0].weight[n / 2..].iter().all(|k| *k));
        assert_eq!(m, weight_mask(&w, Sparsity::new(50.0).unwrap(), Scope::Global));
        // Magnitude order: every removed |w| ≤ every kept |w|.
        let w = weights_with(&[6, 4], |li, i| (((i * 7919 + li) % 1000) as f32 - 500.0) / 100.0);
        let m = weight_mask(&w, Sparsity::new(70.0).unwrap(), Scope::Global);
        let (mut max_removed, mut min_kept) = (0f32, f32::MAX);
        for (l, lm) in w.layers[..2].iter().zip(&m.layers) {
            for (v, keep) in l.weight.values.iter().zip(&lm.weight) {
                if *keep { min_kept = min_kept.min(v.abs()) } else { max_removed = max_removed.max(v.abs()) }
            }
        }
        assert!(max_removed <= min_kept);
    }

    #[test]
    fn lamp_removes_exactly_the_floor_and_spares_every_layer() {
        // Layer 1's weights are 1000× smaller: global magnitude empties it, LAMP does not.
        let w = weights_with(&[9, 6], |li, i| (1 + i % 13) as f32 * if li == 1 { 1e-3 } else { 1.0 });
        let hidden_n: usize = w.layers[..2].iter().map(|l| l.weight.len()).sum();
        let k = Sparsity::new(90.0).unwrap();
        let lamp = weight_mask(&w, k, Scope::Lamp);
        assert_eq!(lamp.removed(), 90 * hidden_n / 100);
        assert!(lamp.layers[1].weight.iter().any(|k| *k));
        let global = weight_mask(&w, k, Scope::Global);
        assert!(global.layers[1].weight.iter().all(|k| !*k));
        // Within a layer LAMP still removes smaller weights first.
        let vals = &w.layers[0].weight.values;
        let max_removed = vals.iter().zip(&lamp.layers[0].weight).filter(|(_, k)| !**k).map(|(v, _)| v.abs()).fold(0.0, f32::max);
        let min_kept = vals.iter().zip(&lamp.layers[0].weight).filter(|(_, k)| **k).map(|(v, _)| v.abs()).fold(f32::MAX, f32::min);
        assert!(max_removed <= min_kept);
    }

    #[test]
    fn per_layer_scope_removes_the_share_from_each_layer() {
        let w = weights_with(&[9, 6], |li, i| if li == 0 { 0.001 * i as f32 } else { 10.0 + i as f32 });
        let m = weight_mask(&w, Sparsity::new(60.0).unwrap(), Scope::Layer);
        for li in 0..2 {
            let n = w.layers[li].weight.len();
            assert_eq!(m.layers[li].weight.iter().filter(|k| !**k).count(), 60 * n / 100);
        }
        // Globally, the tiny first layer would lose far more.
        let g = weight_mask(&w, Sparsity::new(60.0).unwrap(), Scope::Global);
        assert!(g.layers[1].weight.iter().all(|k| *k));
    }
}
