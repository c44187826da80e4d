//! Masks: which parameters are removed, kept beside the model so that training cannot bring
//! them back. Pruning makes them; the trainer and the model files only carry them.

use super::{ModelError, Weights};

/// Per layer, `true` for every kernel and bias entry that survives.
#[derive(Clone, Debug, PartialEq)]
pub struct Mask {
    pub layers: Vec<LayerMask>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LayerMask {
    pub weight: Vec<bool>,
    pub bias: Vec<bool>,
}

impl Mask {
    /// Keeps everything.
    pub fn full(weights: &Weights) -> Self {
        Mask {
            layers: weights
                .layers
                .iter()
                .map(|l| LayerMask { weight: vec![true; l.weight.len()], bias: vec![true; l.bias.len()] })
                .collect(),
        }
    }

    pub fn check(&self, weights: &Weights) -> Result<(), ModelError> {
        let fits = self.layers.len() == weights.layers.len()
            && self.layers.iter().zip(&weights.layers).all(|(m, l)| m.weight.len() == l.weight.len() && m.bias.len() == l.bias.len());
        if fits { Ok(()) } else { Err(ModelError::MaskMismatch(weights.arch.describe())) }
    }

    /// Zeroes the removed entries of `weights`.
    pub fn apply(&self, weights: &mut Weights) -> Result<(), ModelError> {
        self.check(weights)?;
        for (m, l) in self.layers.iter().zip(&mut weights.layers) {
            for (v, keep) in l.weight.values.iter_mut().zip(&m.weight).chain(l.bias.values.iter_mut().zip(&m.bias)) {
                if !keep {
                    *v = 0.0;
                }
            }
        }
        Ok(())
    }

    /// Keeps only what both masks keep.
    pub fn and(&self, other: &Mask) -> Mask {
        let zip = |a: &[bool], b: &[bool]| a.iter().zip(b).map(|(x, y)| *x && *y).collect();
        Mask {
            layers: self
                .layers
                .iter()
                .zip(&other.layers)
                .map(|(a, b)| LayerMask { weight: zip(&a.weight, &b.weight), bias: zip(&a.bias, &b.bias) })
                .collect(),
        }
    }

    /// Entries removed, over all layers.
    pub fn removed(&self) -> usize {
        self.layers.iter().map(|l| l.weight.iter().chain(&l.bias).filter(|k| !**k).count()).sum()
    }
}

#[cfg(feature = "engine")]
pub use device::DeviceMask;

/// The mask on a device, for training.
#[cfg(feature = "engine")]
mod device {
    use burn::module::Param;
    use burn::tensor::{Device, Tensor, TensorData};

    use super::Mask;
    use crate::model::{Model, ParamMap};

    impl Mask {
        /// The mask as 0/1 tensors on `device`, to multiply parameters by after each optimizer step.
        pub fn to_device(&self, device: &Device) -> DeviceMask {
            let t = |keep: &[bool]| {
                Tensor::<1>::from_data(TensorData::new(keep.iter().map(|&k| k as u8 as f32).collect::<Vec<f32>>(), [keep.len()]), device)
            };
            DeviceMask { layers: self.layers.iter().map(|l| (t(&l.weight), t(&l.bias))).collect() }
        }
    }

    /// A [`Mask`] resident on a device.
    #[derive(Clone, Debug)]
    pub struct DeviceMask {
        layers: Vec<(Tensor<1>, Tensor<1>)>,
    }

    impl DeviceMask {
        /// Multiplies every parameter by its mask, keeping parameter ids (so optimizer state
        /// survives) and gradient tracking.
        pub fn apply(&self, model: Model) -> Model {
            model.map_params(&mut Apply(self))
        }
    }

    struct Apply<'a>(&'a DeviceMask);

    impl ParamMap for Apply<'_> {
        fn map<const D: usize>(&mut self, layer: usize, bias: bool, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (w, b) = &self.0.layers[layer];
            let m = if bias { b } else { w }.clone();
            p.map(|t| {
                let tracked = t.device().is_autodiff();
                let masked = (t.clone() * m.reshape(t.dims())).detach();
                if tracked { masked.require_grad() } else { masked }
            })
        }
    }
}
