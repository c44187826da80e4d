//! The report's CNN: Conv 64 (2×2, same) → pool → dropout 0.3 → Conv 32 (2×2, same) → pool →
//! dropout 0.3 → flatten → Dense 256 → dropout 0.5 → Dense 10.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::conv_block::conv_relu_pool;
use super::dense::dense;
use super::dropout::dropout;
use super::{KERNEL, POOLED_SIDE};
use crate::data::{IMAGE_SIDE, NUM_CLASSES};

#[derive(Module, Debug)]
pub struct Cnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub fc1: Linear,
    pub fc2: Linear,
    pool: MaxPool2d,
    drop_conv: Dropout,
    drop_dense: Dropout,
}

pub fn conv_config(in_ch: usize, out_ch: usize) -> Conv2dConfig {
    Conv2dConfig::new([in_ch, out_ch], [KERNEL, KERNEL]).with_padding(PaddingConfig2d::Same)
}

impl Cnn {
    pub fn new(conv: [usize; 2], dense: usize, device: &Device) -> Self {
        Self::from_layers(
            conv_config(1, conv[0]).init(device),
            conv_config(conv[0], conv[1]).init(device),
            LinearConfig::new(conv[1] * POOLED_SIDE * POOLED_SIDE, dense).init(device),
            LinearConfig::new(dense, NUM_CLASSES).init(device),
        )
    }

    /// Wraps given layers with the parameter-free parts (pooling, dropout).
    pub fn from_layers(conv1: Conv2d, conv2: Conv2d, fc1: Linear, fc2: Linear) -> Self {
        Self {
            conv1,
            conv2,
            fc1,
            fc2,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            drop_conv: DropoutConfig::new(0.3).init(),
            drop_dense: DropoutConfig::new(0.5).init(),
        }
    }

    /// `[N, 784]` pixels in [0, 1] → `[N, 10]` logits. Dropout is active only on an autodiff
    /// device in training mode (burn's `Dropout` checks both).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let x = x.reshape([n, 1, IMAGE_SIDE, IMAGE_SIDE]);
        let x = dropout(&self.drop_conv, conv_relu_pool(x, &self.conv1, &self.pool));
        let x = dropout(&self.drop_conv, conv_relu_pool(x, &self.conv2, &self.pool));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = dropout(&self.drop_dense, dense(x, &self.fc1, true));
        dense(x, &self.fc2, false)
    }
}
