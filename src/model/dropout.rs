//! Dropout whose mask is drawn on the host when the tensor is on flex.
//!
//! burn's `Dropout` draws its mask as a Bernoulli tensor, one ChaCha draw and one sampler call
//! per value: on the CNN's first pooled activations (800,000 values a batch) that took longer
//! than the convolution. Here each value's draw is a hash of its index and a seed taken from the
//! device's generator (so `device.seed` still makes training repeat), and the mask
//! holds 0 or 1 / keep, so dropping is one multiplication (and so is its gradient). Elsewhere
//! (WebGPU, and the page's WebGPU bundle: see [`FUSED`]) burn's own dropout runs.

use burn::nn::Dropout;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use prunelab_kernels::dropout_mask;

use super::FUSED;

/// `layer`'s dropout of `x`: active only where burn's would be (a layer in training mode, on
/// an autodiff device, with a probability above zero).
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !layer.training.is_enabled() || !device.is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    if !FUSED || device.clone().without_autodiff() != Device::flex() {
        return layer.forward(x);
    }
    let keep = 1.0 - layer.prob;
    let shape = x.shape();
    let mask = dropout_mask(shape.num_elements(), keep, seed(&device));
    x * Tensor::from_data(TensorData::new(mask, shape), &device)
}

/// 64 bits from the device's generator: three uniform floats, 24 bits each. (Its integer
/// generator would do too, but costs the WebGPU bundle 12 kB.)
fn seed(device: &Device) -> u64 {
    let parts = Tensor::<1>::random([3], Distribution::Default, &device.clone().without_autodiff());
    let parts = parts.into_data().try_into_vec_as::<f32>().unwrap_or_default();
    parts.iter().fold(0u64, |s, &p| (s << 24) ^ (p * 16_777_216.0) as u64)
}

#[cfg(test)]
mod tests {
    use burn::nn::DropoutConfig;

    use super::*;

    #[test]
    fn masks_keep_the_right_share_and_scale() {
        let m = dropout_mask(100_001, 0.7, 42);
        assert_eq!(m.len(), 100_001);
        let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / m.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(m.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        assert_eq!(m, dropout_mask(100_001, 0.7, 42), "the same seed gives the same mask");
        assert_ne!(m, dropout_mask(100_001, 0.7, 43));
    }

    #[test]
    fn drops_only_in_training_on_autodiff_and_repeats_with_the_seed() {
        let layer = DropoutConfig::new(0.5).init();
        let x = |device: &Device| Tensor::<2>::ones([8, 100], device);
        let plain = Device::flex();
        assert_eq!(dropout(&layer, x(&plain)).sum().into_scalar::<f32>(), 800.0, "inactive off autodiff");

        let ad = plain.autodiff();
        let run = |seed| {
            ad.seed(seed);
            dropout(&layer, x(&ad)).into_data().try_into_vec_as::<f32>().unwrap()
        };
        let a = run(5);
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((300..500).contains(&zeros), "{zeros} of 800 dropped at 0.5");
        assert!(a.iter().all(|&v| v == 0.0 || v == 2.0));
        assert_eq!(a, run(5));
        assert_ne!(a, run(6));

        // The gradient is the mask.
        let input = x(&ad).require_grad();
        ad.seed(5);
        let grads = dropout(&layer, input.clone()).sum().backward();
        assert_eq!(input.grad(&grads).unwrap().into_data().try_into_vec_as::<f32>().unwrap(), a);
    }
}
