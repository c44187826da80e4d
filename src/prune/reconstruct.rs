//! One-shot pruning that compensates for what it removes (issue 16). Layer by layer, on a few
//! hundred training images (the *calibration* set), the weights that stay are solved for so that
//! the layer's outputs change least, given inputs from the layers already pruned below it.
//!
//! For weights this is Optimal Brain Surgeon made fast by SparseGPT (Frantar & Alistarh, 2023):
//! a dense layer's output error ‖(W − Ŵ)X‖² has the same Hessian H = XXᵀ for every output unit,
//! so one Cholesky factor U of H⁻¹ serves them all. Inputs are visited in order; in each block of
//! them the weights with the smallest saliency w²/Uᵢᵢ² go, and each removal's error is spread
//! over the weights of the inputs not yet visited (within the block at once, beyond it in one
//! matrix product per block). The scope still decides how many weights each layer loses; only
//! which ones, and what the rest become, change. Before that, a layer whose inputs the pruning
//! below has moved is refitted (least squares) to what the dense network gave there, so errors
//! do not pile up layer after layer (on held-out training images it took 95 % from 75 % to 88 %).
//!
//! For units, see [`units_layer_by_layer`]: the units whose part of the next layer's input is
//! smallest go, and the next layer is refitted by least squares.
//!
//! Everything runs on the host in f64 (faer): the Hessians are at most 1000 × 1000.

use faer::linalg::matmul::matmul;
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Accum, Mat, MatRef, Par, Side};
use serde::Serialize;

use super::{Method, Pruning, PruneError, Variant};
use crate::data::{Dataset, IMAGE_PIXELS};
use crate::model::{LayerKind, Mask, Weights};
use crate::train::Observer;

pub use crate::spec::DEFAULT_CALIBRATION;
/// Damping added to the Hessian's diagonal, as a fraction of its mean: SparseGPT's 1 %. It keeps
/// H invertible when the calibration set is smaller than the layer is wide, or inputs are dead.
pub const DAMPING: f64 = 0.01;
/// The most calibration images one reconstruction takes: their activations are held in f64
/// (6 MB per 1,000 images and layer of 784), and the page's worker has little memory to spare.
pub const MAX_CALIBRATION: usize = 8192;
/// Inputs whose removals are chosen together, and whose errors are carried on in one product.
const BLOCK: usize = 128;

/// How far a reconstruction has got: reported after each block of inputs (weights) or each
/// layer (units), so that a page can draw a progress bar over its seconds of work.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, Serialize)]
pub struct ReconstructProgress {
    /// The layer being reconstructed.
    pub layer: String,
    /// Steps done, of `steps`.
    pub step: usize,
    pub steps: usize,
}

/// Refuses, before any work, what [`reconstruct`] cannot do: convolutions, and neuron pruning
/// in the report's variant (it keeps the units' biases, so the next layer cannot be refitted
/// to their absence).
pub fn check(dense: &Weights, method: Method, variant: Variant) -> Result<(), PruneError> {
    if dense.layers.iter().any(|l| l.kind != LayerKind::Dense) {
        return Err(PruneError::Reconstruct(format!("{} has convolutions: reconstruction handles dense layers only", dense.arch.describe())));
    }
    if method == Method::Neuron && variant == Variant::Report {
        return Err(PruneError::Reconstruct("the report's variant keeps the units' biases: reconstruct with the full variant".into()));
    }
    Ok(())
}

/// Rebuilds `pruning` (a one-shot pruning of `dense`) with reconstruction on the first
/// `images` images of `calibration`: each hidden layer loses as many weights, or units, as the
/// pruning took from it, chosen and compensated layer by layer. `obs` may cancel (then `None`)
/// and is paused between steps; `on_progress` hears each step.
pub async fn reconstruct<O: Observer>(
    dense: &Weights,
    pruning: &Pruning,
    calibration: &Dataset,
    images: usize,
    obs: &mut O,
    on_progress: impl FnMut(&ReconstructProgress),
) -> Result<Option<Pruning>, PruneError> {
    let start = web_time::Instant::now();
    check(dense, pruning.spec.method, pruning.spec.variant)?;
    if images > MAX_CALIBRATION {
        return Err(PruneError::Reconstruct(format!("{images} calibration images: at most {MAX_CALIBRATION}")));
    }
    let n = images.min(calibration.len());
    if n == 0 {
        return Err(PruneError::Reconstruct("no calibration images (load the training set)".into()));
    }
    let x = Mat::from_fn(n, IMAGE_PIXELS, |r, c| calibration.image(r)[c] as f64 / 255.0);
    let hidden = dense.hidden_layers();
    let steps = match pruning.spec.method {
        Method::Weight => hidden.map(|li| dense.layers[li].weight.values.len() / dense.layers[li].units()).map(|d| d.div_ceil(BLOCK)).sum(),
        Method::Neuron => hidden.len(),
    };
    let mut steps = Steps { obs, on_progress, step: 0, steps };
    let done = match pruning.spec.method {
        Method::Weight => weights_layer_by_layer(dense, &pruning.mask, x, &mut steps).await?,
        Method::Neuron => units_layer_by_layer(dense, &pruning.mask, x, &mut steps).await?,
    };
    let Some((mut weights, mask)) = done else { return Ok(None) };
    mask.apply(&mut weights).expect("the mask came from these weights");
    Ok(Some(Pruning { weights, mask, calibration_images: Some(n), prune_ms: pruning.prune_ms + start.elapsed().as_secs_f64() * 1e3, ..pruning.clone() }))
}

/// Counts the steps of a reconstruction for its observer.
struct Steps<'a, O, F> {
    obs: &'a mut O,
    on_progress: F,
    step: usize,
    steps: usize,
}

impl<O: Observer, F: FnMut(&ReconstructProgress)> Steps<'_, O, F> {
    /// One more step done in `layer`: reports it and yields; false when the caller cancelled.
    async fn done(&mut self, layer: &str) -> bool {
        self.step += 1;
        (self.on_progress)(&ReconstructProgress { layer: layer.into(), step: self.step, steps: self.steps });
        self.obs.pause().await;
        !self.obs.cancelled()
    }
}

/// Weight pruning: every hidden layer in turn loses as many weights as `mask` takes from it, by
/// OBS, on its inputs `x` from the layers already pruned.
async fn weights_layer_by_layer<O: Observer, F: FnMut(&ReconstructProgress)>(
    dense: &Weights,
    mask: &Mask,
    mut x: Mat<f64>,
    steps: &mut Steps<'_, O, F>,
) -> Result<Option<(Weights, Mask)>, PruneError> {
    let mut weights = dense.clone();
    let mut mask = mask.clone();
    let hidden = dense.hidden_layers();
    let mut x_dense = x.clone();
    // Whether any layer below lost weights, so that this layer's inputs have moved.
    let mut moved = false;
    for li in hidden.clone() {
        let layer = &dense.layers[li];
        let removed = mask.layers[li].weight.iter().filter(|k| !**k).count();
        let fail = |why: String| PruneError::Reconstruct(format!("layer {}: {why}", layer.name));
        // Once a layer below has lost weights this layer's inputs have moved: first the dense
        // kernel that best gives, on them, what the dense network gave here; then OBS on that.
        let h = gram(x.as_ref());
        let start = if moved { corrected(&h, x.as_ref(), x_dense.as_ref(), &layer.weight.values, layer.units()).map_err(fail)? } else { layer.weight.values.clone() };
        let Some((values, keep)) = reconstruct_layer(h, &start, layer.units(), removed, steps, &layer.name).await.map_err(fail)? else {
            return Ok(None);
        };
        weights.layers[li].weight.values = values;
        mask.layers[li].weight = keep;
        moved |= removed > 0;
        if li + 1 < hidden.end {
            x = relu_layer(x.as_ref(), &weights.layers[li].weight.values, &weights.layers[li].bias.values);
            x_dense = relu_layer(x_dense.as_ref(), &layer.weight.values, &layer.bias.values);
        }
    }
    Ok(Some((weights, mask)))
}

/// XᵀX over the calibration rows of `x`: a layer's Hessian before damping, which the correction
/// and OBS both start from (the largest product of a layer's reconstruction, made once).
fn gram(x: MatRef<f64>) -> Mat<f64> {
    let d = x.ncols();
    let mut h = Mat::<f64>::zeros(d, d);
    matmul(h.as_mut(), Accum::Replace, x.transpose(), x, 1.0, Par::Seq);
    h
}

/// The dense kernel that, on the pruned network's inputs `x` (whose [`gram`] is `xtx`), best
/// gives what the dense kernel `w` gave on the dense network's inputs `x_dense`:
/// (XᵀX + λI)⁻¹ Xᵀ X_dense W.
fn corrected(xtx: &Mat<f64>, x: MatRef<f64>, x_dense: MatRef<f64>, w: &[f32], m: usize) -> Result<Vec<f32>, String> {
    let d = x.ncols();
    let w = Mat::from_fn(d, m, |i, j| w[i * m + j] as f64);
    let mut target = Mat::<f64>::zeros(x.nrows(), m);
    matmul(target.as_mut(), Accum::Replace, x_dense, w.as_ref(), 1.0, Par::Seq);
    let mut h = xtx.clone();
    damp(&mut h);
    let mut rhs = Mat::<f64>::zeros(d, m);
    matmul(rhs.as_mut(), Accum::Replace, x.transpose(), target.as_ref(), 1.0, Par::Seq);
    h.llt(Side::Lower).map_err(|e| format!("the corrected kernel's system is not positive definite ({e:?})"))?.solve_in_place(rhs.as_mut());
    Ok((0..d * m).map(|at| rhs[(at / m, at % m)] as f32).collect())
}

/// Neuron pruning: in each hidden layer, as many units go as `mask` removes there, those whose
/// part of the next layer's input is smallest on the calibration images (a unit adds its
/// activation times its outgoing weights, so it scores ‖activation‖ · ‖outgoing weights‖); then
/// the next layer's kernel and bias are refitted by least squares so that its input comes
/// closest to what it was in the dense network (ThiNet's aim, solved in closed form).
async fn units_layer_by_layer<O: Observer, F: FnMut(&ReconstructProgress)>(
    dense: &Weights,
    pruned: &Mask,
    mut x: Mat<f64>,
    steps: &mut Steps<'_, O, F>,
) -> Result<Option<(Weights, Mask)>, PruneError> {
    let mut weights = dense.clone();
    let mut mask = Mask::full(dense);
    let mut a_dense = x.clone();
    let mut moved = false;
    for li in dense.hidden_layers() {
        let (units, next_units) = (weights.layers[li].units(), weights.layers[li + 1].units());
        let count = pruned.layers[li].bias.iter().filter(|k| !**k).count();
        let a = relu_layer(x.as_ref(), &weights.layers[li].weight.values, &weights.layers[li].bias.values);
        a_dense = relu_layer(a_dense.as_ref(), &dense.layers[li].weight.values, &dense.layers[li].bias.values);
        // The next layer is still the dense one (it is refitted below): what it received in the
        // dense network is what the refit aims at.
        let dense_next = Mat::from_fn(units, next_units, |i, j| dense.layers[li + 1].weight.values[i * next_units + j] as f64);
        let mut target = Mat::<f64>::zeros(a.nrows(), next_units);
        matmul(target.as_mut(), Accum::Replace, a_dense.as_ref(), dense_next.as_ref(), 1.0, Par::Seq);
        let score: Vec<f64> = (0..units).map(|u| (a.col(u).squared_norm_l2() * dense_next.row(u).squared_norm_l2()).sqrt()).collect();
        let mut order: Vec<usize> = (0..units).collect();
        order.sort_by(|&p, &q| score[p].total_cmp(&score[q]).then(p.cmp(&q)));
        let mut gone = vec![false; units];
        for &u in &order[..count] {
            gone[u] = true;
        }
        let kept: Vec<usize> = (0..units).filter(|&u| !gone[u]).collect();
        moved |= count > 0;
        if !moved {
            // Nothing removed so far: the next layer's input is the dense network's.
            x = a;
            if !steps.done(&weights.layers[li].name).await {
                return Ok(None);
            }
            continue;
        }
        let (rows, shift) = refit(a.as_ref(), target.as_ref(), &kept).map_err(|why| PruneError::Reconstruct(format!("layer {}: {why}", weights.layers[li + 1].name)))?;
        let layer = &mut weights.layers[li + 1];
        for (i, row) in (0..units).map(|u| kept.binary_search(&u).ok()).enumerate() {
            for j in 0..next_units {
                layer.weight.values[i * next_units + j] = row.map_or(0.0, |r| rows[(r, j)] as f32);
            }
        }
        for ((b, d), dense_b) in layer.bias.values.iter_mut().zip(&shift).zip(&dense.layers[li + 1].bias.values) {
            *b = dense_b + *d as f32;
        }
        for u in (0..units).filter(|&u| gone[u]) {
            for i in weights.layers[li].incoming(u) {
                mask.layers[li].weight[i] = false;
            }
            mask.layers[li].bias[u] = false;
            for i in weights.reading(li + 1, u) {
                mask.layers[li + 1].weight[i] = false;
            }
        }
        x = Mat::from_fn(a.nrows(), units, |r, u| if gone[u] { 0.0 } else { a[(r, u)] });
        if !steps.done(&weights.layers[li].name).await {
            return Ok(None);
        }
    }
    Ok(Some((weights, mask)))
}

/// Least squares for the layer after a pruned one: the rows of its kernel for the `kept` input
/// units, and a change of its bias, such that `a_kept · rows + shift` is closest to `target`
/// (what the layer received in the dense network) over the calibration rows, with the same
/// damping as above.
fn refit(a: MatRef<f64>, target: MatRef<f64>, kept: &[usize]) -> Result<(Mat<f64>, Vec<f64>), String> {
    let (n, k) = (a.nrows(), kept.len());
    // The kept activations and a column of ones (the bias).
    let ak = Mat::from_fn(n, k + 1, |r, c| if c < k { a[(r, kept[c])] } else { 1.0 });
    let mut g = Mat::<f64>::zeros(k + 1, k + 1);
    matmul(g.as_mut(), Accum::Replace, ak.transpose(), ak.as_ref(), 1.0, Par::Seq);
    damp(&mut g);
    let mut rhs = Mat::<f64>::zeros(k + 1, target.ncols());
    matmul(rhs.as_mut(), Accum::Replace, ak.transpose(), target, 1.0, Par::Seq);
    g.llt(Side::Lower).map_err(|e| format!("the least-squares system is not positive definite ({e:?})"))?.solve_in_place(rhs.as_mut());
    if (0..rhs.nrows()).any(|i| (0..rhs.ncols()).any(|j| !rhs[(i, j)].is_finite())) {
        return Err("the refit produced non-finite weights".into());
    }
    let shift = (0..target.ncols()).map(|j| rhs[(k, j)]).collect();
    Ok((rhs, shift))
}

/// Adds [`DAMPING`] × the mean diagonal to the diagonal of a square Gram matrix (at least the
/// smallest positive number, so an all-zero one becomes invertible).
fn damp(h: &mut Mat<f64>) {
    let n = h.nrows();
    let mean = (0..n).map(|i| h[(i, i)]).sum::<f64>() / n as f64;
    for i in 0..n {
        h[(i, i)] += DAMPING * mean.max(f64::MIN_POSITIVE);
    }
}

/// relu(x · W + b) for a dense kernel `w` stored `[in, out]` row-major.
fn relu_layer(x: MatRef<f64>, w: &[f32], b: &[f32]) -> Mat<f64> {
    let (d, m) = (x.ncols(), b.len());
    let w = Mat::from_fn(d, m, |i, j| w[i * m + j] as f64);
    let mut y = Mat::from_fn(x.nrows(), m, |_, j| b[j] as f64);
    matmul(y.as_mut(), Accum::Add, x, w.as_ref(), 1.0, Par::Seq);
    Mat::from_fn(y.nrows(), m, |r, j| y[(r, j)].max(0.0))
}

/// One dense layer: removes exactly `count` of the `[in, out]` kernel `w` (row-major, `m`
/// outputs) by OBS saliency and updates the rest so the outputs on the calibration inputs, whose
/// [`gram`] is `xtx`, change least. Returns the new kernel and which entries stay (`None` when
/// cancelled between blocks).
async fn reconstruct_layer<O: Observer, F: FnMut(&ReconstructProgress)>(
    xtx: Mat<f64>,
    w: &[f32],
    m: usize,
    count: usize,
    steps: &mut Steps<'_, O, F>,
    name: &str,
) -> Result<Option<(Vec<f32>, Vec<bool>)>, String> {
    let d = xtx.ncols();
    assert_eq!(w.len(), d * m, "kernel shape");
    let u = inverse_hessian_factor(xtx)?;
    // Column i of `wt` holds input i's weights to every output (the kernel transposed), so that a
    // step over the inputs walks contiguous memory.
    let mut wt = Mat::from_fn(m, d, |j, i| w[i * m + j] as f64);
    let mut keep = vec![true; d * m];
    let mut err = Mat::<f64>::zeros(m, BLOCK);
    for i1 in (0..d).step_by(BLOCK) {
        let i2 = (i1 + BLOCK).min(d);
        // This block's share of the count, so that the blocks add up to exactly `count`.
        let share = |i: usize| ((count as u64 * i as u64) / d as u64) as usize;
        let mut order: Vec<(f64, usize)> = (i1..i2)
            .flat_map(|i| {
                let uii = u[(i, i)];
                let wt = &wt;
                (0..m).map(move |j| (wt[(j, i)].powi(2) / (uii * uii), i * m + j))
            })
            .collect();
        let take = share(i2) - share(i1);
        if take > 0 {
            order.select_nth_unstable_by(take - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, at) in &order[..take] {
                keep[at] = false;
            }
        }
        for i in i1..i2 {
            let uii = u[(i, i)];
            for j in 0..m {
                let w = wt[(j, i)];
                let q = if keep[i * m + j] { w } else { 0.0 };
                err[(j, i - i1)] = (w - q) / uii;
                wt[(j, i)] = q;
            }
            for k in i + 1..i2 {
                let f = u[(i, k)];
                if f != 0.0 {
                    for j in 0..m {
                        wt[(j, k)] -= f * err[(j, i - i1)];
                    }
                }
            }
        }
        if i2 < d {
            let b = i2 - i1;
            matmul(wt.as_mut().subcols_mut(i2, d - i2), Accum::Add, err.as_ref().subcols(0, b), u.as_ref().submatrix(i1, i2, b, d - i2), -1.0, Par::Seq);
        }
        if !steps.done(name).await {
            return Ok(None);
        }
    }
    let values: Vec<f32> = (0..d * m).map(|at| wt[(at % m, at / m)] as f32).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err("the reconstruction produced non-finite weights".into());
    }
    Ok(Some((values, keep)))
}

/// The upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), H the [`gram`] `h`, damped. An input that
/// is zero on every calibration image gets a unit diagonal: its weights cannot change the
/// outputs there, and the damping keeps them from dividing by zero.
fn inverse_hessian_factor(mut h: Mat<f64>) -> Result<Mat<f64>, String> {
    let d = h.ncols();
    for i in 0..d {
        if h[(i, i)] == 0.0 {
            h[(i, i)] = 1.0;
        }
    }
    damp(&mut h);
    let hinv = h.llt(Side::Lower).map_err(|e| format!("the damped Hessian is not positive definite ({e:?})"))?.inverse();
    let l = hinv.llt(Side::Lower).map_err(|e| format!("the inverse Hessian is not positive definite ({e:?})"))?;
    Ok(l.L().transpose().to_owned())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::SplitMix64;
    use crate::train::Quiet;

    /// One layer's reconstruction, run to the end.
    fn layer(x: MatRef<f64>, w: &[f32], m: usize, count: usize) -> Result<(Vec<f32>, Vec<bool>), String> {
        let mut steps = Steps { obs: &mut Quiet, on_progress: |_: &ReconstructProgress| {}, step: 0, steps: 0 };
        crate::block_on(reconstruct_layer(gram(x), w, m, count, &mut steps, "test")).map(|done| done.expect("Quiet never cancels"))
    }

    /// Cancels once it has been paused `after` times.
    struct CancelAfter {
        after: usize,
        paused: usize,
    }

    impl Observer for CancelAfter {
        fn cancelled(&self) -> bool {
            self.paused >= self.after
        }
        async fn pause(&mut self) {
            self.paused += 1;
        }
    }

    fn random(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix64::new(seed);
        (0..rows * cols).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5).collect()
    }

    /// ‖X(W − Ŵ)‖² over the calibration rows.
    fn output_error(x: MatRef<f64>, w: &[f32], pruned: &[f32], m: usize) -> f64 {
        let d = x.ncols();
        let diff = Mat::from_fn(d, m, |i, j| (w[i * m + j] - pruned[i * m + j]) as f64);
        let mut e = Mat::<f64>::zeros(x.nrows(), m);
        matmul(e.as_mut(), Accum::Replace, x, diff.as_ref(), 1.0, Par::Seq);
        (0..e.nrows()).flat_map(|r| (0..m).map(move |j| (r, j))).map(|(r, j)| e[(r, j)].powi(2)).sum()
    }

    /// Inputs with structure (correlated columns, as images have), a layer 300 wide.
    fn case(rows: usize, seed: u64) -> (Mat<f64>, Vec<f32>, usize) {
        let (d, m) = (300, 40);
        let base = random(rows, 20, seed);
        let mix = random(20, d, seed + 1);
        let noise = random(rows, d, seed + 2);
        let x = Mat::from_fn(rows, d, |r, c| (0..20).map(|k| base[r * 20 + k] * mix[k * d + c]).sum::<f64>() + 0.1 * noise[r * d + c]);
        let w: Vec<f32> = random(d, m, seed + 3).into_iter().map(|v| v as f32).collect();
        (x, w, m)
    }

    #[test]
    fn removes_exactly_the_count_and_beats_magnitude_on_the_output_error() {
        let (x, w, m) = case(500, 7);
        for count in [0, 1, 6_000, 10_800, 11_999] {
            let (pruned, keep) = layer(x.as_ref(), &w, m, count).unwrap();
            assert_eq!(keep.iter().filter(|k| !**k).count(), count);
            assert!(pruned.iter().zip(&keep).all(|(v, k)| *k || *v == 0.0), "removed weights are zero");
            // Magnitude pruning of the same count, no update.
            let mut order: Vec<usize> = (0..w.len()).collect();
            order.sort_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()).then(a.cmp(&b)));
            let mut magnitude = w.clone();
            for &i in &order[..count] {
                magnitude[i] = 0.0;
            }
            let (ours, theirs) = (output_error(x.as_ref(), &w, &pruned, m), output_error(x.as_ref(), &w, &magnitude, m));
            match count {
                0 => assert!(ours < 1e-6, "{ours}"),
                // A single removal lands where its block's share puts it (the last block, here,
                // with the fewest inputs left to compensate), and with one weight of 12,000 left
                // there is nothing to compensate with: no comparison to make at either end.
                1 | 11_999 => {}
                _ => assert!(ours < 0.5 * theirs, "{count} removed: reconstruction {ours}, magnitude {theirs}"),
            }
        }
    }

    #[test]
    fn the_refit_changes_the_next_layers_input_less_than_dropping_the_units() {
        let (x, w, m) = case(400, 21);
        let a = Mat::from_fn(x.nrows(), x.ncols(), |r, c| x[(r, c)].max(0.0));
        let w = Mat::from_fn(x.ncols(), m, |i, j| w[i * m + j] as f64);
        let kept: Vec<usize> = (0..x.ncols()).filter(|u| u % 3 != 0).collect();
        let mut target = Mat::<f64>::zeros(a.nrows(), m);
        matmul(target.as_mut(), Accum::Replace, a.as_ref(), w.as_ref(), 1.0, Par::Seq);
        let (rows, shift) = refit(a.as_ref(), target.as_ref(), &kept).unwrap();
        let error = |out: &dyn Fn(usize, usize) -> f64| {
            let mut e = 0.0;
            for r in 0..a.nrows() {
                for j in 0..m {
                    let before: f64 = (0..x.ncols()).map(|u| a[(r, u)] * w[(u, j)]).sum();
                    e += (before - out(r, j)).powi(2);
                }
            }
            e
        };
        let dropped = error(&|r, j| kept.iter().map(|&u| a[(r, u)] * w[(u, j)]).sum());
        let refitted = error(&|r, j| kept.iter().enumerate().map(|(i, &u)| a[(r, u)] * rows[(i, j)]).sum::<f64>() + shift[j]);
        assert!(refitted < 0.5 * dropped, "refitted {refitted}, dropped {dropped}");
    }

    #[test]
    fn a_rank_deficient_calibration_set_gives_no_nan() {
        // 10 images for 300 inputs, and a dead input: H is singular before damping.
        let (mut x, w, m) = case(10, 11);
        for r in 0..10 {
            x[(r, 5)] = 0.0;
        }
        let (pruned, keep) = layer(x.as_ref(), &w, m, 9_000).unwrap();
        assert!(pruned.iter().all(|v| v.is_finite()));
        assert_eq!(keep.iter().filter(|k| !**k).count(), 9_000);
    }

    #[test]
    fn a_cancel_stops_between_blocks_and_progress_counts_them() {
        let (x, w, m) = case(50, 3);
        let mut seen = Vec::new();
        let mut obs = CancelAfter { after: 2, paused: 0 };
        let mut steps = Steps { obs: &mut obs, on_progress: |p: &ReconstructProgress| seen.push((p.step, p.steps)), step: 0, steps: 3 };
        let done = crate::block_on(reconstruct_layer(gram(x.as_ref()), &w, m, 6_000, &mut steps, "test")).unwrap();
        assert!(done.is_none(), "cancelled after the second of three blocks");
        assert_eq!(seen, [(1, 3), (2, 3)]);
    }
}
