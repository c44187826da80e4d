//! The two networks as one burn module on any [`Device`], and the way between it and the host
//! [`Weights`].

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Arch, Cnn, HostTensor, Layer, Mlp, ModelError, ModelKind, Weights, check_shapes, cnn};
use crate::data::IMAGE_PIXELS;

impl Arch {
    /// A freshly initialised network (burn's default initialisers, seeded through the device).
    pub fn init(&self, device: &Device) -> Model {
        match self {
            Arch::Mlp { hidden } => Model::Mlp(Mlp::new(hidden, device)),
            Arch::Cnn { conv, dense } => Model::Cnn(Cnn::new(*conv, *dense, device)),
        }
    }

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
    fn modules_have_the_architectures_parameter_count() {
        let device = Device::flex();
        assert_eq!(Arch::report(ModelKind::Mlp).init(&device).num_params(), 2_388_710);
        assert_eq!(Arch::report(ModelKind::Cnn).init(&device).num_params(), 412_778);
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
