//! Training a pruned network without letting pruned weights come back: one-shot pruning then
//! fine-tuning, and gradual pruning on the cubic schedule of Zhu & Gupta (2017).

use burn::tensor::Device;

use super::{Gradual, Mask, PruneSpec, Pruning, Sensitivity, Sparsity, prune_mask};
use crate::data::Dataset;
use crate::model::{Model, ModelError, Weights};
use crate::train::{Observer, Repruner, TrainConfig, TrainError, Trainer};

/// Why fine-tuning failed.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Prune(#[from] super::PruneError),
    #[error("the initial sparsity {initial} is above the target {target}: pruned weights never come back")]
    InitialAboveTarget { initial: Sparsity, target: Sparsity },
}

/// The fine-tuning recipe after pruning to `sparsity`: the default recipe, cosine-decayed from
/// its first step, at a peak rate that grows with how much was removed (half the training rate
/// up to 50 %, rising geometrically to 4× at 90 % and 15× at 99 %). A lightly pruned network
/// only needs a nudge, and a high rate undoes its training; after heavy pruning the few
/// surviving weights must move far within one epoch. README (fine-tuning) has the measurements.
pub fn finetune_config(kind: crate::model::ModelKind, epochs: usize, sparsity: Sparsity) -> TrainConfig {
    let mut c = crate::train::Recipe::Default.config(kind, epochs);
    let k = sparsity.percent();
    let up_to_90 = ((k - 50.0) / 40.0).clamp(0.0, 1.0);
    let beyond_90 = ((k - 90.0) / 9.0).clamp(0.0, 1.0);
    c.lr *= 0.5 * 8f64.powf(up_to_90) * (15.0f64 / 4.0).powf(beyond_90);
    c.schedule = crate::train::Schedule::Cosine { warmup: 0.0 };
    c.seed = c.seed.wrapping_add(1000);
    c
}

/// Trains a pruned network for `config.epochs` more epochs, re-applying its mask after every
/// optimizer step so pruned weights stay zero. Returns `None` when cancelled.
pub async fn finetune<O: Observer>(pruning: &Pruning, train: &Dataset, config: TrainConfig, device: &Device, obs: &mut O) -> Result<Option<Pruning>, TuneError> {
    pruning.mask.check(&pruning.weights)?;
    let start = web_time::Instant::now();
    let epochs = config.epochs;
    let mut trainer = Trainer::new(Model::from_weights(&pruning.weights, device)?, config, device, train.len())?;
    trainer.set_mask(&pruning.mask);
    if trainer.run(train, None, obs).await?.cancelled {
        return Ok(None);
    }
    Ok(Some(Pruning {
        weights: trainer.into_model().to_weights().await?,
        finetune_epochs: pruning.finetune_epochs + epochs,
        finetune_ms: pruning.finetune_ms + start.elapsed().as_secs_f64() * 1e3,
        ..pruning.clone()
    }))
}

/// When gradual pruning prunes, and from where: Zhu & Gupta's schedule cut into `steps` equal
/// slices of training. Slice j (0-based) trains at
/// s_j = s_f + (s_i − s_f)(1 − j/(steps − 1))³: the first slice at the initial sparsity s_i, the
/// last at the target s_f, with large cuts early while many redundant weights remain and small
/// ones near the target. One slice is one-shot pruning to the target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CubicSchedule {
    initial: Sparsity,
    target: Sparsity,
    steps: usize,
}

impl CubicSchedule {
    /// `initial` must not exceed `target`: a removed weight never comes back.
    pub fn new(initial: Sparsity, target: Sparsity, steps: usize) -> Result<Self, TuneError> {
        if initial > target {
            return Err(TuneError::InitialAboveTarget { initial, target });
        }
        Ok(Self { initial, target, steps: steps.max(1) })
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The sparsity of the slice that begins at batch `step` of `total` (0-based), if one
    /// does. Slices are equal runs of batches (within one), whatever the number of epochs; with
    /// fewer batches than slices, each batch is a slice of a schedule with that many.
    pub fn starting_at(&self, step: usize, total: usize) -> Option<Sparsity> {
        let total = total.max(1);
        let n = self.steps.min(total);
        let slice = |b: usize| b * n / total;
        (step == 0 || slice(step) != slice(step - 1)).then(|| self.of_slice(slice(step), n))
    }

    /// The sparsity slice `j` trains at.
    pub fn sparsity(&self, j: usize) -> Sparsity {
        self.of_slice(j, self.steps)
    }

    /// Slice `j` of `n`.
    fn of_slice(&self, j: usize, n: usize) -> Sparsity {
        if n == 1 || j + 1 >= n {
            return self.target;
        }
        let left = 1.0 - j as f64 / (n - 1) as f64;
        let (si, sf) = (self.initial.percent(), self.target.percent());
        Sparsity::new(sf + (si - sf) * left.powi(3)).expect("between the initial and the target")
    }
}

/// Gradual pruning over `config.epochs` epochs cut into `schedule.steps()` slices of equal
/// numbers of batches: before each slice the *current* weights are pruned to the schedule's
/// sparsity (so the mask adapts to what training did since), and training goes on with that
/// mask. Returns `None` if cancelled.
pub async fn gradual<O: Observer>(
    weights: &Weights,
    spec: PruneSpec,
    curves: Option<&Sensitivity>,
    schedule: CubicSchedule,
    train: &Dataset,
    config: TrainConfig,
    device: &Device,
    obs: &mut O,
) -> Result<Option<Pruning>, TuneError> {
    let start = web_time::Instant::now();
    let epochs = config.epochs;
    let mut trainer = Trainer::new(Model::from_weights(weights, device)?, config, device, train.len())?;
    // Fails here, before any training, if the scope cannot prune these weights.
    spec.check(weights, curves)?;
    let mut pruner = GradualPruner { spec, curves: curves.cloned(), schedule, mask: Mask::full(weights) };
    for _ in 0..epochs {
        if trainer.run_epoch_pruning(train, None, obs, Some(&mut pruner)).await?.is_none() {
            return Ok(None);
        }
    }
    let spec = PruneSpec { sparsity: schedule.target, ..spec };
    Ok(Some(Pruning {
        spec,
        weights: trainer.into_model().to_weights().await?,
        mask: pruner.mask,
        finetune_epochs: epochs,
        gradual: Some(Gradual { steps: schedule.steps, initial_sparsity: schedule.initial }),
        calibration_images: None,
        prune_ms: 0.0,
        finetune_ms: start.elapsed().as_secs_f64() * 1e3,
    }))
}

struct GradualPruner {
    spec: PruneSpec,
    curves: Option<Sensitivity>,
    schedule: CubicSchedule,
    /// Everything removed so far: once pruned, always pruned.
    mask: Mask,
}

impl Repruner for GradualPruner {
    fn due(&self, step: usize, total: usize) -> bool {
        self.schedule.starting_at(step, total).is_some()
    }

    fn mask(&mut self, current: &Weights, step: usize, total: usize) -> Mask {
        let sparsity = self.schedule.starting_at(step, total).unwrap_or(self.schedule.target);
        let spec = PruneSpec { sparsity, ..self.spec };
        self.mask = self.mask.and(&prune_mask(current, spec, self.curves.as_ref()).expect("checked before training"));
        self.mask.clone()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::ModelKind;

    #[test]
    fn the_finetuning_rate_grows_with_sparsity() {
        let base = crate::train::Recipe::Default.config(ModelKind::Mlp, 1).lr;
        let lr = |k: f64| finetune_config(ModelKind::Mlp, 1, Sparsity::new(k).unwrap()).lr;
        assert_eq!(lr(0.0), base * 0.5);
        assert_eq!(lr(50.0), base * 0.5);
        assert!((lr(90.0) - base * 4.0).abs() < 1e-12);
        assert!((lr(99.0) - base * 15.0).abs() < 1e-12);
        assert_eq!(lr(100.0), lr(99.0));
        assert!(lr(50.0) < lr(70.0) && lr(70.0) < lr(90.0) && lr(90.0) < lr(95.0) && lr(95.0) < lr(99.0));
    }

    #[test]
    fn the_cubic_schedule_runs_from_the_initial_sparsity_to_the_target() {
        let k = |v: f64| Sparsity::new(v).unwrap();
        let s = CubicSchedule::new(Sparsity::ZERO, k(90.0), 11).unwrap();
        assert_eq!(s.sparsity(0).percent(), 0.0);
        assert_eq!(s.sparsity(10).percent(), 90.0);
        assert!(s.sparsity(5).percent() > 45.0, "front-loaded");
        let s = CubicSchedule::new(k(97.0), k(99.0), 2).unwrap();
        assert_eq!((s.sparsity(0).percent(), s.sparsity(1).percent()), (97.0, 99.0));
        assert_eq!(CubicSchedule::new(k(50.0), k(99.0), 1).unwrap().sparsity(0).percent(), 99.0);
        assert!(matches!(CubicSchedule::new(k(99.0), k(90.0), 3), Err(TuneError::InitialAboveTarget { .. })));
    }

    /// The sparsity (in percent) each of `total` batches trains at.
    fn per_batch(s: &CubicSchedule, total: usize) -> Vec<f64> {
        let mut current = f64::NAN;
        (0..total).map(|b| { current = s.starting_at(b, total).map_or(current, |k| k.percent()); current }).collect()
    }

    fn count(xs: &[f64], x: f64) -> usize {
        xs.iter().filter(|v| **v == x).count()
    }

    #[test]
    fn slices_are_equal_runs_of_batches_whatever_the_epochs() {
        let k = |v: f64| Sparsity::new(v).unwrap();
        // 5 epochs of 3 batches in 2 slices: 8 and 7 batches, not 1 epoch and 4.
        let s = CubicSchedule::new(k(50.0), k(90.0), 2).unwrap();
        let per = per_batch(&s, 15);
        assert_eq!((count(&per, 50.0), count(&per, 90.0)), (8, 7));
        assert_eq!(per[7..9], [50.0, 90.0]);
        assert_eq!(s.starting_at(9, 15), None);
        // 10 slices over 1,000 batches: 100 each, in the schedule's order.
        let s = CubicSchedule::new(k(0.0), k(90.0), 10).unwrap();
        let per = per_batch(&s, 1000);
        for j in 0..10 {
            assert_eq!(count(&per, s.sparsity(j).percent()), 100, "slice {j}");
        }
        // More slices than batches: one slice per batch, from the initial sparsity to the target.
        let s = CubicSchedule::new(k(10.0), k(90.0), 50).unwrap();
        let per = per_batch(&s, 7);
        assert_eq!((per[0], per[6]), (10.0, 90.0));
        assert!(per.windows(2).all(|w| w[0] < w[1]));
    }
}
