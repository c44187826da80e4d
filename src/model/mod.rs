//! The two networks of the report, as burn modules that run on any [`Device`].
//!
//! [`Arch`] describes a network by its sizes (so a compacted, smaller network is just another
//! `Arch`), [`Model`] is the burn module, and [`Weights`] is the same network on the host.

pub mod cnn;
pub mod file;
pub mod mask;
pub mod mlp;
pub mod weights;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{IMAGE_PIXELS, NUM_CLASSES};
pub use cnn::Cnn;
pub use mask::{DeviceMask, LayerMask, Mask};
pub use mlp::Mlp;
pub use weights::{Edges, HostTensor, Layer, LayerKind, Weights};

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
            ModelKind::Mlp => Arch::Mlp { hidden: mlp::REPORT_HIDDEN.to_vec() },
            ModelKind::Cnn => Arch::Cnn { conv: cnn::REPORT_CONV, dense: cnn::REPORT_DENSE },
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            Arch::Mlp { .. } => ModelKind::Mlp,
            Arch::Cnn { .. } => ModelKind::Cnn,
        }
    }

    /// A freshly initialised network (burn's default initialisers, seeded through the device).
    pub fn init(&self, device: &Device) -> Model {
        match self {
            Arch::Mlp { hidden } => Model::Mlp(Mlp::new(hidden, device)),
            Arch::Cnn { conv, dense } => Model::Cnn(Cnn::new(*conv, *dense, device)),
        }
    }

    /// `(name, kind, weight shape, bias length)` of every layer, input to output.
    pub fn layer_shapes(&self) -> Vec<(String, LayerKind, Vec<usize>, usize)> {
        match self {
            Arch::Mlp { hidden } => mlp::layer_sizes(hidden)
                .windows(2)
                .enumerate()
                .map(|(i, w)| (format!("dense{i}"), LayerKind::Dense, vec![w[0], w[1]], w[1]))
                .collect(),
            Arch::Cnn { conv, dense } => {
                let k = cnn::KERNEL;
                let flat = conv[1] * cnn::POOLED_SIDE * cnn::POOLED_SIDE;
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
        let side = crate::data::IMAGE_SIDE as u64;
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
                let sizes: Vec<String> = mlp::layer_sizes(hidden).iter().map(|s| s.to_string()).collect();
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

/// One of the two networks, on some device.
#[derive(Module, Debug)]
pub enum Model {
    Mlp(Mlp),
    Cnn(Cnn),
}

impl Model {
    /// `[N, 784]` pixels in [0, 1] → `[N, 10]` logits.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Model::Mlp(m) => m.forward(x),
            Model::Cnn(m) => m.forward(x),
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Mlp(_) => ModelKind::Mlp,
            Model::Cnn(_) => ModelKind::Cnn,
        }
    }

    /// The layers that carry parameters, input to output, as (kernel, bias) tensors of any rank.
    fn dense_layers(&self) -> Vec<&Linear> {
        match self {
            Model::Mlp(m) => m.layers.iter().collect(),
            Model::Cnn(m) => vec![&m.fc1, &m.fc2],
        }
    }

    /// The architecture, read off the parameter shapes.
    pub fn arch(&self) -> Arch {
        match self {
            Model::Mlp(m) => Arch::Mlp { hidden: m.layers[..m.layers.len() - 1].iter().map(|l| l.weight.dims()[1]).collect() },
            Model::Cnn(m) => Arch::Cnn { conv: [m.conv1.weight.dims()[0], m.conv2.weight.dims()[0]], dense: m.fc1.weight.dims()[1] },
        }
    }

    /// Copies every parameter to the host. Async because WebGPU in the browser can only read
    /// asynchronously; natively, [`crate::block_on`] it.
    pub async fn to_weights(&self) -> Result<Weights, ModelError> {
        let arch = self.arch();
        let mut tensors: Vec<(Tensor<1>, Tensor<1>)> = Vec::new();
        if let Model::Cnn(m) = self {
            for conv in [&m.conv1, &m.conv2] {
                tensors.push((flat(conv.weight.val()), bias_of(conv.bias.as_ref())));
            }
        }
        for lin in self.dense_layers() {
            tensors.push((flat(lin.weight.val()), bias_of(lin.bias.as_ref())));
        }
        let mut layers = Vec::with_capacity(tensors.len());
        for ((name, kind, wshape, blen), (w, b)) in arch.layer_shapes().into_iter().zip(tensors) {
            let weight = HostTensor::new(wshape, read(w).await?);
            let bias = HostTensor::new(vec![blen], read(b).await?);
            layers.push(Layer { name, kind, weight, bias });
        }
        Ok(Weights { arch, layers })
    }

    /// Builds the network from host weights, after checking every shape against `weights.arch`.
    pub fn from_weights(weights: &Weights, device: &Device) -> Result<Model, ModelError> {
        check_shapes(weights)?;
        let l = &weights.layers;
        Ok(match &weights.arch {
            Arch::Mlp { .. } => Model::Mlp(Mlp { layers: l.iter().map(|layer| linear(layer, device)).collect() }),
            Arch::Cnn { .. } => {
                let conv = |layer: &Layer, in_ch: usize| {
                    let mut c = cnn::conv_config(in_ch, layer.units()).init(device);
                    c.weight = param(&layer.weight, device);
                    c.bias = Some(param(&layer.bias, device));
                    c
                };
                Model::Cnn(Cnn::from_layers(conv(&l[0], 1), conv(&l[1], l[0].units()), linear(&l[2], device), linear(&l[3], device)))
            }
        })
    }
}

/// A rewrite of parameters, called once per kernel and bias, in the order of
/// [`Weights::layers`]; `layer` indexes that list.
pub trait ParamMap {
    fn map<const D: usize>(&mut self, layer: usize, bias: bool, p: Param<Tensor<D>>) -> Param<Tensor<D>>;
}

impl Model {
    /// Applies `f` to every kernel and bias.
    pub fn map_params(self, f: &mut impl ParamMap) -> Model {
        fn lin(i: usize, mut l: Linear, f: &mut impl ParamMap) -> Linear {
            l.weight = f.map(i, false, l.weight);
            l.bias = l.bias.map(|b| f.map(i, true, b));
            l
        }
        match self {
            Model::Mlp(mut m) => {
                m.layers = m.layers.into_iter().enumerate().map(|(i, l)| lin(i, l, f)).collect();
                Model::Mlp(m)
            }
            Model::Cnn(mut m) => {
                m.conv1.weight = f.map(0, false, m.conv1.weight);
                m.conv1.bias = m.conv1.bias.map(|b| f.map(0, true, b));
                m.conv2.weight = f.map(1, false, m.conv2.weight);
                m.conv2.bias = m.conv2.bias.map(|b| f.map(1, true, b));
                m.fc1 = lin(2, m.fc1, f);
                m.fc2 = lin(3, m.fc2, f);
                Model::Cnn(m)
            }
        }
    }
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

fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let n = t.shape().num_elements();
    t.reshape([n])
}

fn bias_of(b: Option<&Param<Tensor<1>>>) -> Tensor<1> {
    b.expect("every layer of these models has a bias").val()
}

async fn read(t: Tensor<1>) -> Result<Vec<f32>, ModelError> {
    let data = t.into_data_async().await.map_err(|e| ModelError::Read(format!("{e:?}")))?;
    data.try_into_vec_as::<f32>().map_err(|e| ModelError::Read(format!("{e:?}")))
}

fn param<const D: usize>(t: &HostTensor, device: &Device) -> Param<Tensor<D>> {
    let dims: [usize; D] = t.shape.clone().try_into().expect("rank checked by check_shapes");
    Param::from_data(TensorData::new(t.values.clone(), dims), device)
}

fn linear(layer: &Layer, device: &Device) -> Linear {
    Linear { weight: param(&layer.weight, device), bias: Some(param(&layer.bias, device)) }
}

/// Pixels of one image as a `[1, 784]` batch; used by classification.
pub fn image_tensor(pixels: &[f32], device: &Device) -> Tensor<2> {
    debug_assert_eq!(pixels.len(), IMAGE_PIXELS);
    Tensor::from_data(TensorData::new(pixels.to_vec(), [pixels.len() / IMAGE_PIXELS, IMAGE_PIXELS]), device)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn report_parameter_counts() {
        // 784·1000+1000 + 1000·1000+1000 + 1000·500+500 + 500·200+200 + 200·10+10, and the CNN
        // as the report's Keras summary gives it.
        assert_eq!(Arch::report(ModelKind::Mlp).num_params(), 2_388_710);
        assert_eq!(Arch::report(ModelKind::Cnn).num_params(), 412_778);
        // The burn modules agree with the architecture's own count.
        let device = Device::flex();
        assert_eq!(Arch::report(ModelKind::Mlp).init(&device).num_params(), 2_388_710);
        assert_eq!(Arch::report(ModelKind::Cnn).init(&device).num_params(), 412_778);
    }

    #[test]
    fn flops_match_the_hand_count() {
        // 2 × (784·1000 + 1000·1000 + 1000·500 + 500·200 + 200·10) ≈ 4.77 MFLOP; ×3 ≈ 14.3 per step.
        assert_eq!(Arch::report(ModelKind::Mlp).forward_flops(), 2 * 2_386_000);
        let cnn = 2 * (64 * 4 * 28 * 28 + 32 * 64 * 4 * 14 * 14 + 1568 * 256 + 256 * 10);
        assert_eq!(Arch::report(ModelKind::Cnn).forward_flops(), cnn as u64);
    }

    #[test]
    fn weights_round_trip_through_a_device() {
        let device = Device::flex();
        for kind in [ModelKind::Mlp, ModelKind::Cnn] {
            let arch = match kind {
                ModelKind::Mlp => Arch::Mlp { hidden: vec![8, 4] },
                ModelKind::Cnn => Arch::Cnn { conv: [3, 2], dense: 5 },
            };
            let model = arch.init(&device);
            let w = crate::block_on(model.to_weights()).unwrap();
            assert_eq!(w.arch, arch);
            assert_eq!(w.num_params(), arch.num_params());
            let again = crate::block_on(Model::from_weights(&w, &device).unwrap().to_weights()).unwrap();
            assert_eq!(w, again);
        }
    }

    #[test]
    fn mismatched_weights_are_rejected() {
        let device = Device::flex();
        let mut w = crate::block_on(Arch::Mlp { hidden: vec![4] }.init(&device).to_weights()).unwrap();
        w.arch = Arch::Mlp { hidden: vec![5] };
        assert!(matches!(Model::from_weights(&w, &device), Err(ModelError::ShapeMismatch { .. })));
        w.arch = Arch::Mlp { hidden: vec![4, 4] };
        assert!(matches!(Model::from_weights(&w, &device), Err(ModelError::LayerCount { .. })));
    }
}
