//! Training a pruned network without letting pruned weights come back: one-shot pruning then
//! fine-tuning, and gradual pruning on the cubic schedule of Zhu & Gupta (2017).

use burn::tensor::Device;

use super::{Mask, PruneSpec, Sparsity, prune_mask};
use crate::data::Dataset;
use crate::model::{Model, ModelError, Weights};
use crate::train::{Observer, TrainConfig, TrainError, Trainer};

/// Why fine-tuning failed.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Prune(#[from] super::PruneError),
}

/// The fine-tuning recipe: the default recipe at half the learning rate, so the surviving
/// weights adjust without forgetting what they learned.
pub fn finetune_config(kind: crate::model::ModelKind, epochs: usize) -> TrainConfig {
    let mut c = crate::train::Recipe::Default.config(kind, epochs);
    c.lr *= 0.5;
    c.schedule = crate::train::Schedule::Cosine { warmup: 0.0 };
    c.seed = c.seed.wrapping_add(1000);
    c
}

/// Trains `weights` (already masked) for `config.epochs`, re-applying `mask` after every
/// optimizer step. Returns `None` when cancelled.
pub async fn finetune<O: Observer>(
    weights: &Weights,
    mask: &Mask,
    train: &Dataset,
    config: TrainConfig,
    device: &Device,
    obs: &mut O,
) -> Result<Option<Weights>, TuneError> {
    mask.check(weights)?;
    let model = Model::from_weights(weights, device)?;
    let mut trainer = Trainer::new(model, config, device, train.len())?;
    trainer.set_mask(mask);
    let report = trainer.run(train, None, obs).await?;
    if report.cancelled {
        return Ok(None);
    }
    Ok(Some(trainer.into_model().to_weights().await?))
}

/// Sparsity after pruning step `step` of `steps` on the cubic schedule
/// s_t = s_f · (1 − (1 − t/n)³), which prunes fast while many redundant weights remain and
/// slowly near the target.
pub fn cubic_sparsity(target: Sparsity, step: usize, steps: usize) -> Sparsity {
    let t = (step as f64 / steps.max(1) as f64).min(1.0);
    Sparsity::new(target.percent() * (1.0 - (1.0 - t).powi(3))).expect("within 0..=target")
}

/// Gradual pruning over `config.epochs` epochs: before epoch e (1-based) the network is pruned
/// to `cubic_sparsity(target, e, epochs)` of the *current* weights, then trained with that mask;
/// the last epoch trains at the target. Returns the final weights and mask, or `None` if
/// cancelled.
pub async fn gradual<O: Observer>(
    weights: &Weights,
    spec: PruneSpec,
    train: &Dataset,
    config: TrainConfig,
    device: &Device,
    obs: &mut O,
) -> Result<Option<(Weights, Mask)>, TuneError> {
    let epochs = config.epochs;
    let mut trainer = Trainer::new(Model::from_weights(weights, device)?, config, device, train.len())?;
    let mut mask = Mask::full(weights);
    for e in 1..=epochs {
        let current = trainer.model().to_weights().await?;
        let step_spec = PruneSpec { sparsity: cubic_sparsity(spec.sparsity, e, epochs), ..spec };
        // Once pruned, always pruned: the new mask also keeps every earlier removal.
        let fresh = prune_mask(&current, step_spec);
        mask = mask.and(&fresh);
        trainer.set_mask(&mask);
        if trainer.run_epoch(train, None, obs).await?.is_none() {
            return Ok(None);
        }
    }
    Ok(Some((trainer.into_model().to_weights().await?, mask)))
}
