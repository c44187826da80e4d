//! Host-side weights: the one representation that model files, pruning and compaction share.
//!
//! Pruning ranks weights on the host (sorting and selection are missing or slow on WebGPU), and a
//! compacted model has different shapes from the one it came from, so both work on plain `f32`
//! vectors here and rebuild a device [`Model`](super::Model) afterwards.

use serde::{Deserialize, Serialize};

use super::Arch;

/// A row-major tensor on the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl HostTensor {
    pub fn new(shape: Vec<usize>, values: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Self { shape, values }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn count_nonzero(&self) -> usize {
        self.values.iter().filter(|v| **v != 0.0).count()
    }
}

/// Whether a layer is a dense (`[in, out]` kernel) or a convolution (`[out, in, kh, kw]` kernel).
/// The two store an output unit differently: a column for dense, a contiguous block for conv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerKind {
    Dense,
    Conv,
}

/// One layer's kernel and bias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    pub kind: LayerKind,
    pub weight: HostTensor,
    pub bias: HostTensor,
}

impl Layer {
    /// Number of output units (dense neurons or conv filters).
    pub fn units(&self) -> usize {
        self.bias.len()
    }

    /// The (input unit, output unit) that kernel entry `i` connects, where the layer before has
    /// `prev_units` units (the first layer: pass its input size). After a conv layer a dense
    /// layer reads the flattened feature map, so each input unit owns `in / prev_units` rows.
    pub fn edge(&self, i: usize, prev_units: usize) -> (usize, usize) {
        match self.kind {
            LayerKind::Dense => {
                let (rows, out) = (self.weight.shape[0], self.weight.shape[1]);
                (i / out / (rows / prev_units).max(1), i % out)
            }
            LayerKind::Conv => {
                let kk = self.weight.shape[2] * self.weight.shape[3];
                let cin = self.weight.shape[1];
                ((i / kk) % cin, i / (cin * kk))
            }
        }
    }

    /// How many units the layer reads: input pixels or channels for a first layer, otherwise
    /// the units of the layer before.
    pub fn input_units(&self) -> usize {
        match self.kind {
            LayerKind::Dense => self.weight.shape[0],
            LayerKind::Conv => self.weight.shape[1],
        }
    }

    /// Flat indices of the incoming weights of output unit `u`.
    pub fn unit_weight_indices(&self, u: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        match self.kind {
            LayerKind::Dense => {
                let out = self.weight.shape[1];
                Box::new((0..self.weight.shape[0]).map(move |r| r * out + u))
            }
            LayerKind::Conv => {
                let per = self.weight.len() / self.weight.shape[0];
                Box::new(u * per..(u + 1) * per)
            }
        }
    }
}

/// A whole model on the host: its architecture and its layers, input to output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub arch: Arch,
    pub layers: Vec<Layer>,
}

impl Weights {
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    pub fn count_nonzero(&self) -> usize {
        self.layers.iter().map(|l| l.weight.count_nonzero() + l.bias.count_nonzero()).sum()
    }

    /// The layers whose units can be pruned: all but the output layer.
    pub fn hidden_layers(&self) -> std::ops::Range<usize> {
        0..self.layers.len().saturating_sub(1)
    }
}
