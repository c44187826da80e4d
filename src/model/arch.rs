//! A network's shape, and what follows from it alone (parameter counts, FLOPs, the layers a
//! weights file must have). Nothing here needs burn: the model files and their fuzz targets
//! build without the engine.

use serde::{Deserialize, Serialize};

use super::{LayerKind, Weights};
use crate::data::{IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

/// The report's MLP hidden sizes.
pub const REPORT_HIDDEN: [usize; 4] = [1000, 1000, 500, 200];
/// Filters of the CNN's two conv layers and units of its hidden dense layer, as in the report.
pub const REPORT_CONV: [usize; 2] = [64, 32];
pub const REPORT_DENSE: usize = 256;
/// Two 2×2 poolings take 28×28 to 7×7.
pub const POOLED_SIDE: usize = IMAGE_SIDE / 4;
pub const KERNEL: usize = 2;

/// Which of the report's two networks.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Mlp,
    Cnn,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
        })
    }
}

/// A network's shape: enough to build it, and to check that weights fit it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Arch {
    /// Hidden layer sizes; input 784 and output 10 are implied.
    Mlp { hidden: Vec<usize> },
    /// Filters of the two conv layers and units of the hidden dense layer.
    Cnn { conv: [usize; 2], dense: usize },
}

impl Arch {
    /// The report's network of this kind.
    pub fn report(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Mlp => Arch::Mlp { hidden: REPORT_HIDDEN.to_vec() },
            ModelKind::Cnn => Arch::Cnn { conv: REPORT_CONV, dense: REPORT_DENSE },
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            Arch::Mlp { .. } => ModelKind::Mlp,
            Arch::Cnn { .. } => ModelKind::Cnn,
        }
    }

    /// `(name, kind, weight shape, bias length)` of every layer, input to output.
    pub fn layer_shapes(&self) -> Vec<(String, LayerKind, Vec<usize>, usize)> {
        match self {
            Arch::Mlp { hidden } => layer_sizes(hidden)
                .windows(2)
                .enumerate()
                .map(|(i, w)| (format!("dense{i}"), LayerKind::Dense, vec![w[0], w[1]], w[1]))
                .collect(),
            Arch::Cnn { conv, dense } => {
                let k = KERNEL;
                let flat = conv[1] * POOLED_SIDE * POOLED_SIDE;
                vec![
                    ("conv1".into(), LayerKind::Conv, vec![conv[0], 1, k, k], conv[0]),
                    ("conv2".into(), LayerKind::Conv, vec![conv[1], conv[0], k, k], conv[1]),
                    ("dense1".into(), LayerKind::Dense, vec![flat, *dense], *dense),
                    ("output".into(), LayerKind::Dense, vec![*dense, NUM_CLASSES], NUM_CLASSES),
                ]
            }
        }
    }

    pub fn num_params(&self) -> usize {
        self.layer_shapes().iter().map(|(_, _, w, b)| w.iter().product::<usize>() + b).sum()
    }

    /// Multiply–adds × 2 of one forward pass on one image. A training step costs about three
    /// times this (forward, and two matrix products backward).
    pub fn forward_flops(&self) -> u64 {
        self.layer_flops().iter().sum()
    }

    /// [`Self::forward_flops`] layer by layer.
    pub fn layer_flops(&self) -> Vec<u64> {
        let side = IMAGE_SIDE as u64;
        self.layer_shapes()
            .iter()
            .enumerate()
            .map(|(i, (_, kind, w, _))| {
                let macs: u64 = w.iter().map(|&d| d as u64).product();
                match kind {
                    LayerKind::Dense => 2 * macs,
                    // conv1 runs at 28×28, conv2 at 14×14 (after one pooling).
                    LayerKind::Conv => 2 * macs * (side >> i) * (side >> i),
                }
            })
            .collect()
    }

    /// A short human description, e.g. `mlp 784-1000-1000-500-200-10`.
    pub fn describe(&self) -> String {
        match self {
            Arch::Mlp { hidden } => {
                let sizes: Vec<String> = layer_sizes(hidden).iter().map(|s| s.to_string()).collect();
                format!("mlp {}", sizes.join("-"))
            }
            Arch::Cnn { conv, dense } => format!("cnn conv{}-conv{}-dense{}-10", conv[0], conv[1], dense),
        }
    }
}

/// Why a model could not be built, loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("layer {layer}: {what} has shape {found:?}, the architecture needs {expected:?}")]
    ShapeMismatch { layer: String, what: &'static str, found: Vec<usize>, expected: Vec<usize> },
    #[error("the architecture has {expected} layers, the weights have {found}")]
    LayerCount { expected: usize, found: usize },
    #[error("invalid architecture: {0}")]
    BadArch(String),
    #[error("not a Prune Lab model file: {0}")]
    BadFile(String),
    #[error("model file version {found} is not supported (this build reads version {supported})")]
    Version { found: u32, supported: u32 },
    #[error("cannot read the model's tensors from the device: {0}")]
    Read(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("the mask does not fit the model ({0})")]
    MaskMismatch(String),
}

/// Checks that the weights have exactly the layers and shapes their architecture promises.
pub fn check_shapes(weights: &Weights) -> Result<(), ModelError> {
    let expected = weights.arch.layer_shapes();
    if expected.iter().any(|(_, _, w, _)| w.contains(&0)) {
        return Err(ModelError::BadArch(format!("{} has a layer of size 0", weights.arch.describe())));
    }
    if expected.len() != weights.layers.len() {
        return Err(ModelError::LayerCount { expected: expected.len(), found: weights.layers.len() });
    }
    for ((name, _, wshape, blen), layer) in expected.into_iter().zip(&weights.layers) {
        for (what, found, want) in [("weight", &layer.weight, wshape), ("bias", &layer.bias, vec![blen])] {
            if found.shape != want || found.values.len() != want.iter().product::<usize>() {
                return Err(ModelError::ShapeMismatch { layer: name.clone(), what, found: found.shape.clone(), expected: want });
            }
        }
    }
    Ok(())
}

/// `[784, hidden…, 10]`.
pub fn layer_sizes(hidden: &[usize]) -> Vec<usize> {
    std::iter::once(IMAGE_PIXELS).chain(hidden.iter().copied()).chain(std::iter::once(NUM_CLASSES)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_parameter_counts() {
        // 784·1000+1000 + 1000·1000+1000 + 1000·500+500 + 500·200+200 + 200·10+10, and the CNN
        // as the report's Keras summary gives it.
        assert_eq!(Arch::report(ModelKind::Mlp).num_params(), 2_388_710);
        assert_eq!(Arch::report(ModelKind::Cnn).num_params(), 412_778);
    }

    #[test]
    fn flops_match_the_hand_count() {
        // 2 × (784·1000 + 1000·1000 + 1000·500 + 500·200 + 200·10) ≈ 4.77 MFLOP; ×3 ≈ 14.3 per step.
        assert_eq!(Arch::report(ModelKind::Mlp).forward_flops(), 2 * 2_386_000);
        let cnn = 2 * (64 * 4 * 28 * 28 + 32 * 64 * 4 * 14 * 14 + 1568 * 256 + 256 * 10);
        assert_eq!(Arch::report(ModelKind::Cnn).forward_flops(), cnn as u64);
    }
}
