//! Per-layer sensitivity: prune one hidden layer at a time, one-shot, and see what accuracy is
//! left (the classic sensitivity plot); then split a global budget across layers from it (the
//! `sensitivity` scope).
//!
//! The curves alone allocate badly: each is measured with every other layer dense, and at high
//! sparsity the layers' losses compound (README, sensitivity, has the numbers). So the curves only
//! choose a safe starting point: every layer pruned as far as it can go alone losing the same
//! accuracy, as far as the network pruned so loses at most [`START_DROP`]. From there a greedy
//! path (as NetAdapt does) removes [`STEP`] of one layer's remaining weights at a time, from the
//! layer whose extra pruning raises the loss least per weight removed *with the others pruned as
//! they are* (the loss, not the accuracy: it is far less noisy on a few thousand images). A
//! global target is read off the path.
//!
//! Measured on training images, never the test set: the first N, which `prunelab train
//! --validation N` holds out of training.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::weight::{Budget, magnitude_mask};
use super::{PruneError, Sparsity, evaluate_pruned};
use crate::data::Dataset;
use crate::model::Weights;
use crate::train::{Observer, TrainError};

/// The sparsities each layer is pruned to, in percent. Ends at 100 so that every global target
/// can be allocated from measured points; dense towards the end, where curves bend.
pub const SENSITIVITY_SPARSITIES: [f64; 13] = [20.0, 40.0, 60.0, 70.0, 80.0, 85.0, 90.0, 93.0, 95.0, 97.0, 98.0, 99.0, 100.0];

/// The accuracy the network may lose at the start of the path.
pub const START_DROP: f32 = 0.005;

/// Evaluations that bisect for the start of the path.
const START_PROBES: usize = 6;

/// The sparsity of `removed` weights out of `all`.
fn share(removed: &[usize], all: usize) -> Sparsity {
    Sparsity::new(100.0 * removed.iter().sum::<usize>() as f64 / all as f64).expect("a share")
}

/// Share of a layer's remaining weights a step of the path removes.
pub const STEP: f64 = 0.25;

/// The path ends when less than this share of all weights is left.
const PATH_END: f64 = 0.01;

/// Training images measured by default: 0.7 % resolution per point, a few seconds natively.
pub const DEFAULT_IMAGES: usize = 2000;

/// Accuracy with one hidden layer pruned, for each layer and each of [`SENSITIVITY_SPARSITIES`].
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    pub sparsities: Vec<Sparsity>,
    /// With nothing pruned: every curve's point at 0 %.
    pub dense_accuracy: f32,
    /// How many training images each point was measured on (the first ones).
    pub images: usize,
    pub layers: Vec<LayerSensitivity>,
    /// The greedy path, from its start until less than 1 % of the weights is left (`allocate`
    /// goes on from there to everything removed in a straight line).
    pub path: Vec<PathStep>,
    pub seconds: f64,
}

/// A point of the greedy path: weights removed from each hidden layer, and the accuracy then.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    pub removed: Vec<usize>,
    pub accuracy: f32,
}

/// One hidden layer's curve.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSensitivity {
    pub name: String,
    /// Kernel weights, which the layer's sparsity counts.
    pub weights: usize,
    /// One per sparsity.
    pub accuracy: Vec<f32>,
}

/// One measured point, as it is done (for progress).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensitivityPoint {
    /// The layer pruned alone, or none for a step of the path.
    pub layer: Option<String>,
    /// The layer's sparsity, or the whole network's for a step of the path.
    pub sparsity: Sparsity,
    pub accuracy: f32,
    /// Points done so far, of about `total` (the path may end a little early).
    pub done: usize,
    pub total: usize,
}

/// Measures the curves of `weights` on `images` (training images). Returns `None` if cancelled.
pub async fn sensitivity<O: Observer>(
    weights: &Weights,
    images: &Dataset,
    device: &Device,
    obs: &mut O,
    mut on_point: impl FnMut(&SensitivityPoint),
) -> Result<Option<Sensitivity>, TrainError> {
    if images.is_empty() {
        return Err(TrainError::EmptyDataset);
    }
    let start = web_time::Instant::now();
    let sparsities: Vec<Sparsity> = SENSITIVITY_SPARSITIES.iter().map(|&k| Sparsity::new(k).expect("a percentage")).collect();
    let dense_accuracy = evaluate_pruned(weights, images, device).await?.accuracy;
    let hidden: Vec<usize> = weights.hidden_layers().collect();
    let sizes: Vec<usize> = hidden.iter().map(|&li| weights.layers[li].weight.len()).collect();
    let all: usize = sizes.iter().sum();
    let total = hidden.len() * sparsities.len() + START_PROBES + hidden.len() * 25;
    let evaluate = async |removed: &[usize]| -> Result<(f32, f32), TrainError> {
        let mut pruned = weights.clone();
        magnitude_mask(weights, &Budget::PerLayer(removed.to_vec())).apply(&mut pruned).expect("a mask of these weights");
        let e = evaluate_pruned(&pruned, images, device).await?;
        Ok((e.accuracy, e.loss))
    };
    let mut layers = Vec::with_capacity(hidden.len());
    for (h, &li) in hidden.iter().enumerate() {
        let n = weights.layers[li].weight.len();
        let mut accuracy = Vec::with_capacity(sparsities.len());
        for (j, &k) in sparsities.iter().enumerate() {
            if obs.cancelled() {
                return Ok(None);
            }
            let counts: Vec<usize> = hidden.iter().map(|&lj| if lj == li { k.count_of(n) } else { 0 }).collect();
            let (acc, _) = evaluate(&counts).await?;
            accuracy.push(acc);
            let name = weights.layers[li].name.clone();
            on_point(&SensitivityPoint { layer: Some(name), sparsity: k, accuracy: acc, done: h * sparsities.len() + j + 1, total });
            obs.pause().await;
        }
        layers.push(LayerSensitivity { name: weights.layers[li].name.clone(), weights: n, accuracy });
    }
    let mut curves = Sensitivity { sparsities, dense_accuracy, images: images.len(), layers, path: vec![], seconds: 0.0 };
    // The start: the largest equal drop δ whose network loses at most START_DROP (bisected).
    let mut done = hidden.len() * curves.sparsities.len();
    let at = |delta: f64| -> Vec<usize> { curves.layers.iter().map(|l| (curves.curve(l).reach(dense_accuracy as f64 - delta) * l.weights as f64) as usize).collect() };
    let (mut lo, mut hi) = (0.0, 0.1);
    let mut start_point = (at(0.0), evaluate(&at(0.0)).await?.0);
    for _ in 0..START_PROBES {
        let mid = 0.5 * (lo + hi);
        let (acc, _) = evaluate(&at(mid)).await?;
        done += 1;
        on_point(&SensitivityPoint { layer: None, sparsity: share(&at(mid), all), accuracy: acc, done, total });
        obs.pause().await;
        if dense_accuracy - acc <= START_DROP {
            (lo, start_point) = (mid, (at(mid), acc));
        } else {
            hi = mid;
        }
    }
    let (mut removed, accuracy) = start_point;
    curves.path.push(PathStep { removed: removed.clone(), accuracy });
    // The path, greedily to almost everything removed.
    let mut loss = evaluate(&removed).await?.1;
    while ((all - removed.iter().sum::<usize>()) as f64) >= all as f64 * PATH_END {
        let mut best: Option<(f32, f32, f32, Vec<usize>)> = None;
        for l in (0..sizes.len()).filter(|&l| removed[l] < sizes[l]) {
            if obs.cancelled() {
                return Ok(None);
            }
            let mut next = removed.clone();
            next[l] += (((sizes[l] - removed[l]) as f64 * STEP).ceil() as usize).max(1);
            let (acc, next_loss) = evaluate(&next).await?;
            done += 1;
            on_point(&SensitivityPoint { layer: None, sparsity: share(&next, all), accuracy: acc, done, total });
            obs.pause().await;
            let cost = (next_loss - loss) / (next[l] - removed[l]) as f32;
            if best.as_ref().is_none_or(|(c, ..)| cost < *c) {
                best = Some((cost, next_loss, acc, next));
            }
        }
        let (_, next_loss, accuracy, next) = best.expect("some layer has weights left");
        loss = next_loss;
        curves.path.push(PathStep { removed: next.clone(), accuracy });
        removed = next;
    }
    curves.seconds = start.elapsed().as_secs_f64();
    Ok(Some(curves))
}

impl Sensitivity {
    /// Whether these curves were measured on a network of `weights`' shape; an error says why not.
    pub fn check(&self, weights: &Weights) -> Result<(), PruneError> {
        let hidden: Vec<_> = weights.hidden_layers().map(|li| (&weights.layers[li].name, weights.layers[li].weight.len())).collect();
        let ours: Vec<_> = self.layers.iter().map(|l| (&l.name, l.weights)).collect();
        if hidden != ours {
            return Err(PruneError::SensitivityMismatch(format!("they are for layers {ours:?}, the model has {hidden:?}")));
        }
        let ascending = self.sparsities.windows(2).all(|w| w[0] < w[1]);
        if !ascending || self.sparsities.last().map(|k| k.percent()) != Some(100.0) || self.layers.iter().any(|l| l.accuracy.len() != self.sparsities.len()) {
            return Err(PruneError::SensitivityMismatch("the curves need ascending sparsities up to 100 % and one accuracy for each".into()));
        }
        let sizes: Vec<usize> = self.layers.iter().map(|l| l.weights).collect();
        let fits = |p: &PathStep| p.removed.len() == sizes.len() && p.removed.iter().zip(&sizes).all(|(r, n)| r <= n);
        let grows = self.path.windows(2).all(|w| w[0].removed.iter().zip(&w[1].removed).all(|(a, b)| a <= b));
        if self.path.is_empty() || !self.path.iter().all(fits) || !grows {
            return Err(PruneError::SensitivityMismatch("the path needs steps of one count per layer, each within the layer, never shrinking".into()));
        }
        let finite = |a: f32| a.is_finite() && (0.0..=1.0).contains(&a);
        if !finite(self.dense_accuracy) || self.layers.iter().flat_map(|l| &l.accuracy).any(|&a| !finite(a)) {
            return Err(PruneError::SensitivityMismatch("accuracies must lie in [0, 1]".into()));
        }
        Ok(())
    }

    /// How many weights each hidden layer loses so that `removed` go in all: read off the path,
    /// linearly between its two steps around `removed` (and between nothing removed and the
    /// path's start below it). The sum is exactly `removed`.
    pub fn allocate(&self, removed: usize) -> Vec<usize> {
        let sizes: Vec<usize> = self.layers.iter().map(|l| l.weights).collect();
        let removed = removed.min(sizes.iter().sum());
        let zero = vec![0; sizes.len()];
        let points: Vec<&[usize]> = std::iter::once(zero.as_slice()).chain(self.path.iter().map(|p| p.removed.as_slice())).chain([sizes.as_slice()]).collect();
        let sum = |v: &[usize]| v.iter().sum::<usize>();
        let i = points.windows(2).position(|w| sum(w[1]) >= removed).unwrap_or(points.len() - 2);
        let (a, b) = (points[i], points[i + 1]);
        let t = if sum(b) > sum(a) { (removed - sum(a).min(removed)) as f64 / (sum(b) - sum(a)) as f64 } else { 1.0 };
        let want: Vec<f64> = a.iter().zip(b).map(|(&x, &y)| x as f64 + t * (y as f64 - x as f64)).collect();
        largest_remainder(&want, removed, &sizes)
    }

    /// The per-layer sparsities [`Self::allocate`] gives for a global `sparsity`.
    pub fn budget(&self, sparsity: Sparsity) -> Budget {
        let total: usize = self.layers.iter().map(|l| l.weights).sum();
        Budget::PerLayer(self.allocate(sparsity.count_of(total)))
    }

    fn curve(&self, layer: &LayerSensitivity) -> Curve {
        let mut points = vec![(0.0, self.dense_accuracy as f64)];
        let mut low = self.dense_accuracy as f64;
        for (k, &a) in self.sparsities.iter().zip(&layer.accuracy) {
            low = low.min(a as f64);
            points.push((k.percent() / 100.0, low));
        }
        Curve(points)
    }
}

/// A layer's accuracy against its sparsity (as a fraction), non-increasing.
struct Curve(Vec<(f64, f64)>);

impl Curve {
    /// The largest sparsity (fraction) at which accuracy stays at least `floor`.
    fn reach(&self, floor: f64) -> f64 {
        for w in self.0.windows(2) {
            let ((s0, a0), (s1, a1)) = (w[0], w[1]);
            if a1 < floor {
                return if a0 < floor { s0 } else { s0 + (s1 - s0) * (a0 - floor) / (a0 - a1) };
            }
        }
        self.0.last().map_or(0.0, |&(s, _)| s)
    }
}

/// Whole counts near `want` (each at most its `cap`) that sum to exactly `total`.
fn largest_remainder(want: &[f64], total: usize, caps: &[usize]) -> Vec<usize> {
    let mut counts: Vec<usize> = want.iter().zip(caps).map(|(w, &c)| (w.max(0.0).floor() as usize).min(c)).collect();
    let mut order: Vec<usize> = (0..want.len()).collect();
    order.sort_by(|&a, &b| (want[b] - want[b].floor()).total_cmp(&(want[a] - want[a].floor())).then(a.cmp(&b)));
    let mut left = total.saturating_sub(counts.iter().sum());
    // First one each to the largest remainders, then whatever is left to any layer with room.
    for pass in 0..2 {
        for &i in &order {
            let room = caps[i] - counts[i];
            let give = if pass == 0 { left.min(room).min(1) } else { left.min(room) };
            counts[i] += give;
            left -= give;
        }
    }
    let mut over = counts.iter().sum::<usize>().saturating_sub(total);
    for &i in order.iter().rev() {
        let take = over.min(counts[i]);
        counts[i] -= take;
        over -= take;
    }
    counts
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prune::Scope;
    use crate::prune::weight::tests::weights_with;

    fn curves(sizes: &[usize], path: &[&[usize]]) -> Sensitivity {
        Sensitivity {
            sparsities: SENSITIVITY_SPARSITIES.iter().map(|&k| Sparsity::new(k).unwrap()).collect(),
            dense_accuracy: 0.9,
            images: 100,
            layers: sizes.iter().enumerate().map(|(i, &n)| LayerSensitivity { name: format!("l{i}"), weights: n, accuracy: vec![0.5; 13] }).collect(),
            path: path.iter().map(|r| PathStep { removed: r.to_vec(), accuracy: 0.5 }).collect(),
            seconds: 0.0,
        }
    }

    #[test]
    fn allocation_follows_the_path_and_sums_exactly() {
        let s = curves(&[1000, 500], &[&[600, 100], &[800, 100], &[800, 300], &[1000, 500]]);
        for removed in [0, 1, 349, 700, 900, 1000, 1001, 1499, 1500, 9999] {
            let c = s.allocate(removed);
            assert_eq!(c.iter().sum::<usize>(), removed.min(1500), "{removed}");
            assert!(c[0] <= 1000 && c[1] <= 500);
        }
        assert_eq!(s.allocate(900), vec![800, 100]);
        assert_eq!(s.allocate(1000), vec![800, 200]);
        // Below the start: a straight line from nothing removed.
        assert_eq!(s.allocate(350), vec![300, 50]);
    }

    #[test]
    fn mismatched_curves_are_refused() {
        let w = weights_with(&[4, 3], |_, i| i as f32);
        let names: Vec<String> = w.hidden_layers().map(|li| w.layers[li].name.clone()).collect();
        let mut good = curves(&[784 * 4, 12], &[&[100, 2], &[3136, 12]]);
        for (l, n) in good.layers.iter_mut().zip(&names) {
            l.name = n.clone();
        }
        assert!(good.check(&w).is_ok());
        let wrong_sizes = curves(&[784 * 4, 13], &[&[100, 2]]);
        assert!(matches!(wrong_sizes.check(&w), Err(PruneError::SensitivityMismatch(_))));
        let mut short = good.clone();
        short.layers[1].accuracy.pop();
        assert!(short.check(&w).is_err());
        let mut nan = good.clone();
        nan.layers[0].accuracy[3] = f32::NAN;
        assert!(nan.check(&w).is_err());
        let mut shrinking = good.clone();
        shrinking.path[1].removed[1] = 1;
        assert!(shrinking.check(&w).is_err());
        let mut over = good;
        over.path[1].removed[1] = 13;
        assert!(over.check(&w).is_err());
    }

    #[test]
    fn measured_curves_and_path_hold_together() {
        let w = weights_with(&[6, 4], |li, i| (((i * 7919 + li * 31) % 1000) as f32 - 500.0) / 400.0);
        let images = crate::data::Dataset::new((0..20 * 784).map(|i| (i * 37 % 256) as u8).collect(), (0..20).map(|i| (i % 10) as u8).collect()).unwrap();
        let device = Device::flex();
        let mut seen = 0;
        let s = crate::block_on(sensitivity(&w, &images, &device, &mut crate::train::Quiet, |_| seen += 1)).unwrap().unwrap();
        assert!(s.check(&w).is_ok());
        assert_eq!(s.layers.len(), 2);
        assert!(s.layers.iter().all(|l| l.accuracy.len() == SENSITIVITY_SPARSITIES.len()));
        let all = 784 * 6 + 24;
        assert!(s.path.last().unwrap().removed.iter().sum::<usize>() as f64 >= all as f64 * (1.0 - PATH_END));
        assert_eq!(s.allocate(all), vec![784 * 6, 24]);
        let k = Sparsity::new(90.0).unwrap();
        let mask = magnitude_mask(&w, &Scope::Sensitivity.budget(&w, k, Some(&s)).unwrap());
        assert_eq!(mask.removed(), k.count_of(all), "exactly the floor");
        // Every curve point and at least one candidate per step of the path was reported.
        assert!(seen >= 2 * SENSITIVITY_SPARSITIES.len() + s.path.len() - 1);
    }
}
