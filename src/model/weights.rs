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

    /// Flat kernel indices of the incoming weights of output unit `u`.
    pub fn incoming(&self, u: usize) -> Box<dyn Iterator<Item = usize> + '_> {
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

/// The topology of the layers: which weights join which units. Neuron pruning, connected weight
/// pruning and compaction all ask these questions, so they are answered here once.
impl Weights {
    /// How many units layer `li` reads: the units of the layer before, or for the first layer its
    /// input pixels (dense) or channels (conv).
    pub fn input_units(&self, li: usize) -> usize {
        match (li, self.layers[li].kind) {
            (0, LayerKind::Dense) => self.layers[0].weight.shape[0],
            (0, LayerKind::Conv) => self.layers[0].weight.shape[1],
            _ => self.layers[li - 1].units(),
        }
    }

    /// The kernel rows (dense) or input channels (conv) of layer `li` that belong to its input
    /// unit `u`. After a conv layer a dense layer reads the flattened, channel-major feature
    /// map, so one unit (a filter) owns several consecutive rows.
    pub fn input_rows(&self, li: usize, u: usize) -> std::ops::Range<usize> {
        let l = &self.layers[li];
        match l.kind {
            LayerKind::Conv => u..u + 1,
            LayerKind::Dense => {
                let per = l.weight.shape[0] / self.input_units(li);
                u * per..(u + 1) * per
            }
        }
    }

    /// Flat kernel indices, in layer `li`, of the weights that read its input unit `u`.
    pub fn reading(&self, li: usize, u: usize) -> Vec<usize> {
        let l = &self.layers[li];
        match l.kind {
            // A conv kernel [out, in, kh, kw]: channel u of every filter.
            LayerKind::Conv => {
                let kk = l.weight.shape[2] * l.weight.shape[3];
                let per = l.weight.shape[1] * kk;
                (0..l.weight.shape[0]).flat_map(|o| (o * per + u * kk)..(o * per + (u + 1) * kk)).collect()
            }
            // A dense kernel [in, out]: whole rows.
            LayerKind::Dense => {
                let rows = self.input_rows(li, u);
                let out = l.weight.shape[1];
                (rows.start * out..rows.end * out).collect()
            }
        }
    }

    /// Maps kernel indices of layer `li` to the (input unit, output unit) they join; built once
    /// per layer because connected pruning asks for every weight.
    pub fn edges(&self, li: usize) -> Edges {
        let l = &self.layers[li];
        match l.kind {
            LayerKind::Dense => Edges::Dense { out: l.weight.shape[1], rows_per_unit: (l.weight.shape[0] / self.input_units(li)).max(1) },
            LayerKind::Conv => Edges::Conv { cin: l.weight.shape[1], kk: l.weight.shape[2] * l.weight.shape[3] },
        }
    }
}

/// See [`Weights::edges`].
#[derive(Clone, Copy, Debug)]
pub enum Edges {
    Dense { out: usize, rows_per_unit: usize },
    Conv { cin: usize, kk: usize },
}

impl Edges {
    /// The (input unit, output unit) that kernel entry `i` joins.
    pub fn of(self, i: usize) -> (usize, usize) {
        match self {
            Edges::Dense { out, rows_per_unit } => (i / out / rows_per_unit, i % out),
            Edges::Conv { cin, kk } => ((i / kk) % cin, i / (cin * kk)),
        }
    }
}
