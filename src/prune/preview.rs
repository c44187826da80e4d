//! A pruning's effect on a few images, without committing it: what the page's live preview
//! shows while the sparsity slider moves. The dense and the pruned network classify the same
//! images side by side.

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;
use web_time::Instant;

use super::finetune::TuneError;
use super::{PruneSpec, Sensitivity, prune};
use crate::data::{IMAGE_PIXELS, NUM_CLASSES};
use crate::model::{Model, Weights};
use crate::train::{TrainError, argmax, softmax};

/// One network's answer for one image.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Guess {
    pub class: usize,
    pub probability: f32,
}

/// The dense and the pruned network on the same images.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    pub spec: PruneSpec,
    /// One per image, in order.
    pub dense: Vec<Guess>,
    pub pruned: Vec<Guess>,
    /// Non-zero parameters of the pruned network.
    pub nonzero_params: usize,
    /// Pruning and both classifications, end to end.
    pub millis: f64,
}

/// Prunes a copy of `dense` by `spec` and classifies `images` (784 values in [0, 1] each) with
/// both networks. Nothing is kept.
pub async fn preview(dense: &Weights, spec: PruneSpec, curves: Option<&Sensitivity>, images: &[f32], device: &Device) -> Result<Preview, TuneError> {
    if images.is_empty() || !images.len().is_multiple_of(IMAGE_PIXELS) || images.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(TuneError::Train(TrainError::BadImage(format!("{} values, not 784 per image in [0, 1]", images.len()))));
    }
    let start = Instant::now();
    let pruning = prune(dense, spec, curves)?;
    let plain = device.clone().without_autodiff();
    let n = images.len() / IMAGE_PIXELS;
    let guesses = async |w: &Weights| -> Result<Vec<Guess>, TrainError> {
        let model = Model::from_weights(w, &plain)?;
        let x = Tensor::<2>::from_data(TensorData::new(images.to_vec(), [n, IMAGE_PIXELS]), &plain);
        let data = model.forward(x).into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
        let logits = data.try_into_vec_as::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))?;
        Ok(logits
            .chunks_exact(NUM_CLASSES)
            .map(|row| {
                let p = softmax(row);
                let class = argmax(&p);
                Guess { class, probability: p[class] }
            })
            .collect())
    };
    let dense_guesses = guesses(dense).await?;
    let pruned_guesses = guesses(&pruning.weights).await?;
    Ok(Preview {
        spec,
        dense: dense_guesses,
        pruned: pruned_guesses,
        nonzero_params: pruning.weights.count_nonzero(),
        millis: start.elapsed().as_secs_f64() * 1e3,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::Arch;
    use crate::prune::{Method, Scope, Sparsity, Variant};

    fn spec(k: f64) -> PruneSpec {
        PruneSpec { method: Method::Weight, sparsity: Sparsity::new(k).unwrap(), scope: Scope::Global, connected: false, variant: Variant::default() }
    }

    #[test]
    fn the_preview_agrees_with_a_committed_prune_and_keeps_nothing() {
        let device = Device::flex();
        let dense = crate::block_on(Arch::Mlp { hidden: vec![32, 16] }.init(&device).to_weights()).unwrap();
        let images: Vec<f32> = (0..3 * IMAGE_PIXELS).map(|i| ((i * 37) % 256) as f32 / 255.0).collect();
        let p = crate::block_on(preview(&dense, spec(80.0), None, &images, &device)).unwrap();
        assert_eq!((p.dense.len(), p.pruned.len()), (3, 3));
        // The pruned answers are those of the same prune, committed.
        let committed = Model::from_weights(&prune(&dense, spec(80.0), None).unwrap().weights, &device).unwrap();
        for (i, g) in p.pruned.iter().enumerate() {
            let logits = crate::block_on(crate::train::logits_of(&committed, &images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS], &device)).unwrap();
            assert_eq!(g.class, argmax(&logits));
        }
        // At 0 % the two agree exactly.
        let same = crate::block_on(preview(&dense, spec(0.0), None, &images, &device)).unwrap();
        assert_eq!(same.dense, same.pruned);
        assert!(crate::block_on(preview(&dense, spec(50.0), None, &images[..100], &device)).is_err());
    }
}
