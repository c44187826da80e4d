//! The report's multi-layer perceptron: 784 → 1000 → 1000 → 500 → 200 → 10 with ReLU.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::dense::dense;
use super::layer_sizes;

#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers then the output layer.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// A freshly initialised MLP with the given hidden sizes.
    pub fn new(hidden: &[usize], device: &Device) -> Self {
        let sizes = layer_sizes(hidden);
        let layers = sizes.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect();
        Self { layers }
    }

    /// `[N, 784]` pixels in [0, 1] → `[N, 10]` logits.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |x, (i, layer)| dense(x, layer, i < last))
    }
}
