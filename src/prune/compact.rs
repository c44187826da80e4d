//! Compaction: rebuild a neuron-pruned network as a smaller dense one, and measure what a
//! weight-pruned one would take in a sparse encoding.

use burn::tensor::Device;
use serde::Serialize;

use crate::data::Dataset;
use crate::model::{Arch, HostTensor, Layer, LayerKind, Model, Weights};
use crate::train::{TrainError, evaluate, logits};

/// A smaller network with the same outputs, and which units of the original it kept.
#[derive(Clone, Debug)]
pub struct Compacted {
    pub weights: Weights,
    /// `kept[l]`: the original indices of the units hidden layer `l` kept.
    pub kept: Vec<Vec<usize>>,
}

/// A unit is dead when it can only output zero (no incoming weights and no bias) or when
/// nothing reads it (no outgoing weights). Removing dead units leaves every output exactly as
/// it was, whichever way the weights came to be zero, so this needs no record of the pruning.
pub fn dead_units(weights: &Weights, layer: usize) -> Vec<bool> {
    let l = &weights.layers[layer];
    (0..l.units())
        .map(|u| {
            let silent = l.bias.values[u] == 0.0 && l.incoming(u).all(|i| l.weight.values[i] == 0.0);
            let unread = weights.reading(layer + 1, u).iter().all(|&i| weights.layers[layer + 1].weight.values[i] == 0.0);
            silent || unread
        })
        .collect()
}

/// Drops every dead unit (keeping at least one per layer, so the shapes stay valid).
pub fn compact(weights: &Weights) -> Compacted {
    let kept: Vec<Vec<usize>> = weights
        .hidden_layers()
        .map(|li| {
            let dead = dead_units(weights, li);
            let alive: Vec<usize> = (0..dead.len()).filter(|&u| !dead[u]).collect();
            if alive.is_empty() { vec![0] } else { alive }
        })
        .collect();
    let n = weights.layers.len();
    let mut layers = Vec::with_capacity(n);
    for (li, l) in weights.layers.iter().enumerate() {
        let outs: Vec<usize> = if li + 1 < n { kept[li].clone() } else { (0..l.units()).collect() };
        let inputs: Vec<usize> = if li == 0 { (0..weights.input_units(0)).collect() } else { kept[li - 1].clone() };
        let ins: Vec<usize> = inputs.iter().flat_map(|&u| weights.input_rows(li, u)).collect();
        let weight = match l.kind {
            LayerKind::Dense => {
                let out = l.weight.shape[1];
                let values = ins.iter().flat_map(|&i| outs.iter().map(move |&o| l.weight.values[i * out + o])).collect();
                HostTensor::new(vec![ins.len(), outs.len()], values)
            }
            LayerKind::Conv => {
                let (cin, kh, kw) = (l.weight.shape[1], l.weight.shape[2], l.weight.shape[3]);
                let kk = kh * kw;
                let values = outs
                    .iter()
                    .flat_map(|&o| ins.iter().flat_map(move |&i| (0..kk).map(move |k| l.weight.values[(o * cin + i) * kk + k])))
                    .collect();
                HostTensor::new(vec![outs.len(), ins.len(), kh, kw], values)
            }
        };
        let bias = HostTensor::new(vec![outs.len()], outs.iter().map(|&o| l.bias.values[o]).collect());
        layers.push(Layer { name: l.name.clone(), kind: l.kind, weight, bias });
    }
    let arch = match &weights.arch {
        Arch::Mlp { .. } => Arch::Mlp { hidden: kept.iter().map(Vec::len).collect() },
        Arch::Cnn { .. } => Arch::Cnn { conv: [kept[0].len(), kept[1].len()], dense: kept[2].len() },
    };
    Compacted { weights: Weights { arch, layers }, kept }
}

/// A compacted network against the network it came from (same shapes as the trained one).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompactReport {
    pub arch: String,
    pub params: usize,
    /// As f32.
    pub bytes: usize,
    pub dense_arch: String,
    pub dense_params: usize,
    pub dense_bytes: usize,
    /// Per image, best of the timed passes over `images` images.
    pub latency_ms: f64,
    pub dense_latency_ms: f64,
    pub speedup: f64,
    pub images: usize,
    /// Largest difference between the two networks' logits on the first images.
    pub max_abs_diff: f32,
    /// Multiply–adds × 2 per image of the masked network as it runs: every zero is still
    /// multiplied, so pruning weights alone saves none.
    pub dense_flops: u64,
    /// The same counting only the non-zero weights: what a sparse kernel could skip to.
    pub nonzero_flops: u64,
    /// Of the compacted network, which really runs with fewer units.
    pub flops: u64,
    pub file_bytes: FileBytes,
}

/// What the network takes as a `.plab` file, values in f16.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FileBytes {
    /// Every value, zeros too.
    pub dense: usize,
    /// A bitmask and the non-zero values (the format's sparse encoding).
    pub sparse: usize,
    /// The compacted network, in whichever encoding is smaller (what `prune --out` saves).
    pub compacted: usize,
}

impl FileBytes {
    pub fn of(pruned: &Weights, compacted: &Weights) -> Self {
        use crate::model::file::{Encoding, Precision, encode_as};
        let size = |w: &Weights, e: Encoding| encode_as(w, &serde_json::Value::Null, Precision::F16, e).len();
        FileBytes {
            dense: size(pruned, Encoding::Dense),
            sparse: size(pruned, Encoding::Sparse),
            compacted: size(compacted, Encoding::smallest(compacted, Precision::F16)),
        }
    }
}

/// Multiply–adds × 2 per image through the non-zero weights only.
pub fn nonzero_flops(weights: &Weights) -> u64 {
    // Per layer: its dense count scaled by its share of non-zero weights (each weight of a
    // layer is used equally often).
    weights.layers.iter().zip(weights.arch.layer_flops()).map(|(l, f)| (f as f64 * l.weight.count_nonzero() as f64 / l.weight.len().max(1) as f64).round() as u64).sum()
}

/// Compacts `pruned` and measures it against itself uncompacted: latency per image (best of
/// `repeats` passes over `images`, after one untimed pass each) and the largest logit
/// difference. `between` runs between timed passes (the browser yields there).
pub async fn measure_compaction(pruned: &Weights, images: &Dataset, repeats: usize, device: &Device, mut between: impl AsyncFnMut()) -> Result<(Compacted, CompactReport), TrainError> {
    let small = compact(pruned);
    let (big_model, small_model) = (Model::from_weights(pruned, device)?, Model::from_weights(&small.weights, device)?);
    let mut latency = [f64::MAX; 2];
    for (i, m) in [&big_model, &small_model].into_iter().enumerate() {
        evaluate(m, &images.take(100), 100, device).await?;
        for _ in 0..repeats.max(1) {
            latency[i] = latency[i].min(evaluate(m, images, 1000, device).await?.seconds);
            between().await;
        }
    }
    let first = images.take(64);
    let (a, b) = (logits(&big_model, &first, device).await?, logits(&small_model, &first, device).await?);
    let max_abs_diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    let per_image = |s: f64| s * 1e3 / images.len().max(1) as f64;
    let report = CompactReport {
        arch: small.weights.arch.describe(),
        params: small.weights.num_params(),
        bytes: small.weights.num_params() * 4,
        dense_arch: pruned.arch.describe(),
        dense_params: pruned.num_params(),
        dense_bytes: pruned.num_params() * 4,
        latency_ms: per_image(latency[1]),
        dense_latency_ms: per_image(latency[0]),
        speedup: latency[0] / latency[1],
        images: images.len(),
        max_abs_diff,
        dense_flops: pruned.arch.forward_flops(),
        nonzero_flops: nonzero_flops(pruned),
        flops: small.weights.arch.forward_flops(),
        file_bytes: FileBytes::of(pruned, &small.weights),
    };
    Ok((small, report))
}

/// Bytes a model takes dense and in two sparse encodings (f32 values, u32 indices).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SparseSizes {
    pub params: usize,
    pub nonzero: usize,
    /// Every value as f32.
    pub dense_bytes: usize,
    /// One bit per parameter saying whether it is present, then the non-zero values.
    pub bitmask_bytes: usize,
    /// Compressed sparse rows per kernel (row pointers, column indices, values); biases dense.
    pub csr_bytes: usize,
}

pub fn sparse_sizes(weights: &Weights) -> SparseSizes {
    let params = weights.num_params();
    let nonzero = weights.count_nonzero();
    let csr_bytes = weights
        .layers
        .iter()
        .map(|l| (l.weight.shape[0] + 1) * 4 + l.weight.count_nonzero() * 8 + l.bias.len() * 4)
        .sum();
    SparseSizes { params, nonzero, dense_bytes: params * 4, bitmask_bytes: params.div_ceil(8) + nonzero * 4, csr_bytes }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::block_on;
    use crate::model::{Model, image_tensor};
    use crate::prune::{Sparsity, Variant, neuron::neuron_prune};
    use burn::tensor::{Device, Tensor};

    #[test]
    fn nonzero_flops_are_the_compacted_flops_after_neuron_pruning() {
        let w = crate::prune::weight::tests::weights_with(&[8, 6], |li, i| 0.01 + ((i * 31 + li) % 17) as f32);
        assert_eq!(nonzero_flops(&w), w.arch.forward_flops());
        let p = neuron_prune(&w, Sparsity::new(50.0).unwrap(), Variant::Full);
        let mut pruned = w.clone();
        p.mask.apply(&mut pruned).unwrap();
        let small = compact(&pruned).weights;
        assert_eq!(nonzero_flops(&pruned), small.arch.forward_flops());
        let files = FileBytes::of(&pruned, &small);
        assert!(files.sparse < files.dense && files.compacted <= files.sparse, "{files:?}");
    }

    fn max_abs_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
        (a - b).abs().max().into_data().try_into_vec_as::<f32>().unwrap()[0]
    }

    #[test]
    fn compacted_models_compute_what_the_masked_ones_do() {
        let device = Device::flex();
        for arch in [Arch::Mlp { hidden: vec![40, 30, 20] }, Arch::Cnn { conv: [8, 6], dense: 12 }] {
            device.seed(3);
            let mut w = block_on(arch.init(&device).to_weights()).unwrap();
            let p = neuron_prune(&w, Sparsity::new(50.0).unwrap(), Variant::Full);
            p.mask.apply(&mut w).unwrap();
            let c = compact(&w);
            assert_eq!(c.kept.iter().map(Vec::len).sum::<usize>(), p.removed.iter().zip(&w.layers).map(|(r, l)| l.units() - r.len()).sum::<usize>());
            assert!(c.weights.num_params() < w.num_params() / 2 + 1000);
            let pixels: Vec<f32> = (0..4 * 784).map(|i| ((i * 13) % 255) as f32 / 255.0).collect();
            let masked = Model::from_weights(&w, &device).unwrap().forward(image_tensor(&pixels, &device));
            let small = Model::from_weights(&c.weights, &device).unwrap().forward(image_tensor(&pixels, &device));
            assert!(max_abs_diff(masked, small) < 1e-4);
        }
    }

    #[test]
    fn nothing_dead_means_nothing_removed() {
        let device = Device::flex();
        let w = block_on(Arch::Mlp { hidden: vec![5] }.init(&device).to_weights()).unwrap();
        assert_eq!(compact(&w).weights, w);
    }

    #[test]
    fn sparse_sizes_count_bytes() {
        let device = Device::flex();
        let mut w = block_on(Arch::Mlp { hidden: vec![16] }.init(&device).to_weights()).unwrap();
        let s = sparse_sizes(&w);
        assert_eq!(s.dense_bytes, 4 * (784 * 16 + 16 + 16 * 10 + 10));
        w.layers[0].weight.values.iter_mut().for_each(|v| *v = 0.0);
        let t = sparse_sizes(&w);
        assert_eq!(t.nonzero, s.nonzero - 784 * 16);
        assert_eq!(t.bitmask_bytes, t.params.div_ceil(8) + 4 * t.nonzero);
        // Layer 0 is empty: 785 row pointers, no entries, 16 biases.
        let l1 = 17 * 4 + 160 * 8 + 10 * 4;
        assert_eq!(t.csr_bytes, 785 * 4 + 16 * 4 + l1);
        assert!(t.csr_bytes < t.dense_bytes && t.bitmask_bytes < t.dense_bytes);
    }
}
