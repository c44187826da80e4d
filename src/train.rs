//! Training and evaluation on any device.
//!
//! burn's `Learner` does not run in the browser, so this is our own loop over `burn::optim`
//! (AdamW, which is Adam when weight decay is 0). It is async because WebGPU in wasm can only be
//! read asynchronously and the page must get the event loop back between batches; natively it is
//! driven by [`crate::block_on`].

use std::future::Future;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::augment::Augment;
use crate::data::{Batch, Dataset, IMAGE_PIXELS, NUM_CLASSES, shuffled_indices};
use crate::model::{Arch, DeviceMask, Mask, Model, Weights};
pub use crate::spec::{DIVERGED_LOSS, Recipe, Schedule, TrainConfig, TrainError};



/// Reported for every batch, in bursts: see [`READ_EVERY`].
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, Serialize)]
pub struct BatchProgress {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// 1-based.
    pub batch: usize,
    pub batches: usize,
    pub loss: f32,
    /// Accuracy over the batches of this epoch so far.
    pub accuracy: f32,
    pub samples_per_sec: f64,
    pub lr: f64,
}

/// Reported after every epoch.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, Serialize)]
pub struct EpochSummary {
    pub epoch: usize,
    pub loss: f32,
    pub accuracy: f32,
    pub seconds: f64,
    pub samples_per_sec: f64,
    /// Reads of device data during the epoch's batches (losses and hit counts, weights for
    /// gradual pruning): each one stops a GPU until it catches up, so they are batched.
    pub read_backs: usize,
    pub validation: Option<Evaluation>,
}

/// What the caller hears during training, and how it steers it (reconstruction uses its
/// `pause` and `cancelled` too).
pub trait Observer {
    fn on_batch(&mut self, _progress: &BatchProgress) {}
    fn on_epoch(&mut self, _summary: &EpochSummary) {}
    /// Polled between batches; `true` stops training after the current batch.
    fn cancelled(&self) -> bool {
        false
    }
    /// Awaited between batches: the browser yields to its event loop here so that progress is
    /// drawn and a cancel message can arrive. Natively, nothing.
    fn pause(&mut self) -> impl Future<Output = ()> {
        async {}
    }
}

/// Changes the mask while training runs (gradual pruning). Steps count batches over the whole
/// run, 0-based, out of `total`.
pub trait Repruner {
    /// Whether to prune again before batch `step`. Asked before every batch; answering yes costs
    /// a read of the weights from the device.
    fn due(&self, step: usize, total: usize) -> bool;
    /// The mask to train with from batch `step` on, given the current weights.
    fn mask(&mut self, current: &Weights, step: usize, total: usize) -> Mask;
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Loss, accuracy, per-class accuracy and the confusion matrix on a dataset.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
    pub per_class_accuracy: Vec<f32>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u32>>,
    /// The predicted class of every item, in dataset order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub predictions: Vec<u8>,
    pub seconds: f64,
}

/// Host batch → `[N, 784]` pixels and `[N]` labels on `device`. Takes the batch, so that its
/// pixels go to the device without another copy on the host.
pub fn batch_tensors(batch: Batch, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let n = batch.len();
    let x = Tensor::from_data(TensorData::new(batch.images, [n, IMAGE_PIXELS]), device);
    let y = Tensor::from_data(TensorData::new(batch.labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [n]), device);
    (x, y)
}

/// Mean softmax cross-entropy of `logits` against class indices.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    log_softmax(logits, 1).gather(1, labels.reshape([n, 1])).mean().neg()
}


/// Batches trained between two reads of their losses and hit counts. Reading after every batch
/// would stop a GPU once per step; progress is reported in bursts instead, every batch still
/// with its own loss.
const READ_EVERY: usize = 16;

/// One trained batch whose loss and hit count are still on the device.
struct Unread {
    /// 1-based.
    batch: usize,
    len: usize,
    lr: f64,
    loss: Tensor<1>,
    hits: Tensor<1>,
    /// Seconds into the epoch when it was queued.
    at: f64,
}

/// The epoch's running totals, over the batches read so far.
#[derive(Default)]
struct Tally {
    seen: usize,
    correct: usize,
    loss_sum: f64,
    reads: usize,
}

impl Tally {
    /// Reads the unread batches' losses and hits in one transfer and returns their progress
    /// reports, or the first batch whose loss diverged (`lr`: the learning rate asked for).
    async fn read(&mut self, unread: &mut Vec<Unread>, epoch: usize, epochs: usize, batches: usize, lr: f64) -> Result<Vec<BatchProgress>, TrainError> {
        let n = unread.len();
        let values = unread.iter().map(|u| u.loss.clone()).chain(unread.iter().map(|u| u.hits.clone())).collect();
        let values = read_f32(Tensor::cat(values, 0)).await?;
        self.reads += 1;
        let mut out = Vec::with_capacity(n);
        for (i, u) in unread.drain(..).enumerate() {
            let (loss, hits) = (values[i], values[n + i]);
            if !loss.is_finite() || loss > DIVERGED_LOSS {
                return Err(TrainError::Diverged { loss, epoch, batch: u.batch, lr });
            }
            self.seen += u.len;
            self.correct += hits as usize;
            self.loss_sum += loss as f64 * u.len as f64;
            out.push(BatchProgress {
                epoch,
                epochs,
                batch: u.batch,
                batches,
                loss,
                accuracy: self.correct as f32 / self.seen as f32,
                samples_per_sec: self.seen as f64 / u.at.max(1e-9),
                lr: u.lr,
            });
        }
        Ok(out)
    }
}

async fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    let data = t.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
    data.try_into_vec_as::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))
}

/// How fast `arch` trains on `device`, in samples/s: `batches` batches of the default recipe
/// after one warm-up batch, on pseudo-random images (a timing, never a result: it decides
/// which backend a visitor gets).
pub async fn training_speed(arch: &Arch, device: &Device, batches: usize) -> Result<f64, TrainError> {
    let cfg = Recipe::Default.config(arch.kind(), 1);
    let batch = cfg.batch_size;
    let images = |n: usize, salt: usize| {
        let pixels = (0..n * IMAGE_PIXELS).map(|i| ((i + salt).wrapping_mul(2_654_435_761) >> 7) as u8).collect();
        Dataset::new(pixels, (0..n).map(|i| (i % NUM_CLASSES) as u8).collect()).map_err(|e| TrainError::BadConfig(e.to_string()))
    };
    let timed = images(batches.max(1) * batch, 1)?;
    let mut trainer = Trainer::fresh(arch, cfg, device, timed.len())?;
    trainer.run_epoch(&images(batch, 0)?, None, &mut Quiet).await?;
    let t = Instant::now();
    trainer.run_epoch(&timed, None, &mut Quiet).await?;
    Ok(timed.len() as f64 / t.elapsed().as_secs_f64().max(1e-9))
}

/// Evaluates `model` on `data` (no gradients, dropout off), in batches of `batch_size`.
pub async fn evaluate(model: &Model, data: &Dataset, batch_size: usize, device: &Device) -> Result<Evaluation, TrainError> {
    let start = Instant::now();
    let logits = logits_in(model, data, batch_size, device).await?;
    let mut e = Evaluation::of_logits(&logits, data.labels());
    e.seconds = start.elapsed().as_secs_f64();
    Ok(e)
}

impl Evaluation {
    /// Loss, accuracy, per-class accuracy, confusion and predictions of `logits` (10 per image)
    /// against `labels`; `seconds` is left 0.
    pub fn of_logits(logits: &[f32], labels: &[u8]) -> Evaluation {
        let mut confusion = vec![vec![0u32; NUM_CLASSES]; NUM_CLASSES];
        let mut predictions = Vec::with_capacity(labels.len());
        let mut loss_sum = 0.0f64;
        for (row, &label) in logits.chunks_exact(NUM_CLASSES).zip(labels) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
            loss_sum += (lse - row[label as usize]) as f64;
            let pred = argmax(row);
            confusion[label as usize][pred] += 1;
            predictions.push(pred as u8);
        }
        let total = labels.len().max(1);
        let correct: u32 = (0..NUM_CLASSES).map(|c| confusion[c][c]).sum();
        let per_class_accuracy = confusion.iter().enumerate().map(|(c, row)| row[c] as f32 / row.iter().sum::<u32>().max(1) as f32).collect();
        Evaluation { loss: (loss_sum / total as f64) as f32, accuracy: correct as f32 / total as f32, per_class_accuracy, confusion, predictions, seconds: 0.0 }
    }
}

/// The logits of every image of `data`, row by row (10 per image).
pub async fn logits(model: &Model, data: &Dataset, device: &Device) -> Result<Vec<f32>, TrainError> {
    logits_in(model, data, 1000, device).await
}

/// The same in batches of `batch_size`: one device read per batch, the rest on the host.
async fn logits_in(model: &Model, data: &Dataset, batch_size: usize, device: &Device) -> Result<Vec<f32>, TrainError> {
    let plain = device.clone().without_autodiff();
    let model = model.valid();
    let mut out = Vec::with_capacity(data.len() * NUM_CLASSES);
    for batch in data.batches(batch_size.max(1), None) {
        out.extend(read_f32(model.forward(batch_tensors(batch, &plain).0)).await?);
    }
    Ok(out)
}

/// The 10 logits of one 28×28 image given as 784 values in [0, 1] (0 = black background).
pub async fn logits_of(model: &Model, pixels: &[f32], device: &Device) -> Result<Vec<f32>, TrainError> {
    if pixels.len() != IMAGE_PIXELS {
        return Err(TrainError::BadImage(format!("{} values", pixels.len())));
    }
    if let Some(v) = pixels.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(TrainError::BadImage(format!("a value of {v}")));
    }
    let plain = device.clone().without_autodiff();
    read_f32(model.valid().forward(crate::model::image_tensor(pixels, &plain))).await
}


/// Index of the largest value (the first on ties).
pub fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, v)| if *v > row[best] { i } else { best })
}

/// Softmax probabilities of one row of logits.
pub fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// AdamW at the recipe's settings, with its fused step on flex ([`crate::adamw`]: the same bits
/// as burn's, faster) where the build has it ([`crate::model::FUSED`]).
fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    if crate::model::FUSED {
        crate::adamw::FusedAdamW::module(config.weight_decay, config.epsilon)
    } else {
        burn::optim::AdamWConfig::new().with_weight_decay(config.weight_decay).with_epsilon(config.epsilon).init()
    }
}

/// A model with its optimizer and step counter, trained an epoch at a time so that fine-tuning
/// and gradual pruning can change the mask between epochs.
pub struct Trainer {
    /// Always `Some` between calls; taken out while the optimizer consumes it.
    model: Option<Model>,
    optim: ModuleOptimizer,
    pub config: TrainConfig,
    device: Device,
    step: usize,
    total_steps: usize,
    epoch: usize,
    /// Weights forced to zero after every step (pruned weights stay pruned).
    pub mask: Option<DeviceMask>,
    /// The model as of the last read of the losses, all of them fine: what a run that diverges
    /// goes back to. A clone shares the tensors, so this costs no copy until the next step.
    checkpoint: Option<Model>,
}

impl Trainer {
    /// `device` is the base device; the model is moved onto its autodiff form. `train_len` is
    /// the size of the training set, to plan the schedule.
    pub fn new(model: Model, config: TrainConfig, device: &Device, train_len: usize) -> Result<Self, TrainError> {
        config.validate()?;
        if train_len == 0 {
            return Err(TrainError::EmptyDataset);
        }
        let ad = device.clone().autodiff();
        let optim = optimizer(&config);
        let total_steps = config.epochs * train_len.div_ceil(config.batch_size);
        Ok(Self { model: Some(model.to_device(&ad).train()), optim, config, device: ad, step: 0, total_steps, epoch: 0, mask: None, checkpoint: None })
    }

    /// A fresh model of `arch`, seeded by the config's seed.
    pub fn fresh(arch: &Arch, config: TrainConfig, device: &Device, train_len: usize) -> Result<Self, TrainError> {
        device.seed(config.seed);
        Self::new(arch.init(device), config, device, train_len)
    }

    /// Runs one epoch. Returns `None` when cancelled (the model keeps what it learned so far).
    pub async fn run_epoch<O: Observer>(&mut self, data: &Dataset, validation: Option<&Dataset>, obs: &mut O) -> Result<Option<EpochSummary>, TrainError> {
        self.run_epoch_pruning(data, validation, obs, None).await
    }

    /// Runs one epoch, letting `reprune` replace the mask before the batches it names: gradual
    /// pruning takes many small steps this way, even inside a single epoch.
    pub async fn run_epoch_pruning<O: Observer>(
        &mut self,
        data: &Dataset,
        validation: Option<&Dataset>,
        obs: &mut O,
        mut reprune: Option<&mut dyn Repruner>,
    ) -> Result<Option<EpochSummary>, TrainError> {
        if data.is_empty() {
            return Err(TrainError::EmptyDataset);
        }
        self.epoch += 1;
        let cfg = self.config.clone();
        let order = cfg.shuffle.then(|| shuffled_indices(data.len(), cfg.seed.wrapping_add(self.epoch as u64)));
        let batches = data.batches(cfg.batch_size, order.as_deref());
        let nb = batches.count_total();
        let start = Instant::now();
        self.checkpoint = self.model.clone();
        let mut tally = Tally::default();
        let mut unread: Vec<Unread> = Vec::with_capacity(READ_EVERY);
        for (b, mut batch) in batches.enumerate() {
            if obs.cancelled() {
                return Ok(None);
            }
            if let Some(r) = reprune.as_deref_mut().filter(|r| r.due(self.step, self.total_steps)) {
                let current = self.model().to_weights().await?;
                tally.reads += 1;
                let mask = r.mask(&current, self.step, self.total_steps);
                self.set_mask(&mask);
            }
            let lr = cfg.schedule.lr(cfg.lr, self.step, self.total_steps);
            if cfg.augment {
                // Its own stream per batch, so a run is the same however it is split.
                Augment::default().batch(&mut batch.images, &batch.labels, cfg.seed ^ (self.step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
            let n = batch.len();
            let (x, y) = batch_tensors(batch, &self.device);
            let model = self.model.take().expect("trainer holds a model");
            let logits = model.forward(x);
            let loss = cross_entropy(logits.clone(), y.clone());
            let hits = logits.argmax(1).reshape([n]).equal(y).int().sum().float();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let model = self.optim.step(lr, model, grads);
            self.model = Some(match &self.mask {
                Some(mask) => mask.apply(model),
                None => model,
            });
            self.step += 1;
            unread.push(Unread { batch: b + 1, len: n, lr, loss: loss.detach(), hits, at: start.elapsed().as_secs_f64() });
            if unread.len() == READ_EVERY || b + 1 == nb {
                match tally.read(&mut unread, self.epoch, cfg.epochs, nb, cfg.lr).await {
                    Ok(progress) => progress.iter().for_each(|p| obs.on_batch(p)),
                    Err(e) => {
                        // Back to the weights of the last read, before the batch that diverged.
                        self.model = self.checkpoint.take();
                        return Err(e);
                    }
                }
                self.checkpoint = self.model.clone();
            }
            obs.pause().await;
        }
        let Tally { seen, correct, loss_sum, reads } = tally;
        let seconds = start.elapsed().as_secs_f64();
        let validation = match validation {
            Some(v) if !v.is_empty() => Some(evaluate(self.model(), v, 1000, &self.device).await?),
            _ => None,
        };
        let summary = EpochSummary {
            epoch: self.epoch,
            loss: (loss_sum / seen as f64) as f32,
            accuracy: correct as f32 / seen as f32,
            seconds,
            samples_per_sec: seen as f64 / seconds.max(1e-9),
            read_backs: reads,
            validation,
        };
        obs.on_epoch(&summary);
        Ok(Some(summary))
    }

    /// Runs the remaining epochs of the config. Stops early, keeping progress, when cancelled.
    pub async fn run<O: Observer>(&mut self, data: &Dataset, validation: Option<&Dataset>, obs: &mut O) -> Result<TrainReport, TrainError> {
        let mut epochs = Vec::new();
        while self.epoch < self.config.epochs {
            match self.run_epoch(data, validation, obs).await? {
                Some(s) => epochs.push(s),
                None => return Ok(TrainReport { epochs, cancelled: true }),
            }
        }
        Ok(TrainReport { epochs, cancelled: false })
    }

    /// From now on, zero what `mask` removes, now and after every optimizer step.
    pub fn set_mask(&mut self, mask: &Mask) {
        let m = mask.to_device(&self.device);
        let model = self.model.take().expect("trainer holds a model");
        self.model = Some(m.apply(model));
        self.mask = Some(m);
    }

    /// The model being trained (on the autodiff device).
    pub fn model(&self) -> &Model {
        self.model.as_ref().expect("trainer holds a model")
    }

    /// The trained model, on the plain (non-autodiff) device, ready for inference.
    pub fn into_model(self) -> Model {
        self.model().valid()
    }
}

/// What a training run did.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub epochs: Vec<EpochSummary>,
    pub cancelled: bool,
}

/// A trained network and what training it did: the result both faces report.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, Serialize)]
pub struct TrainOutcome {
    /// The architecture, e.g. `mlp 784-1000-1000-500-200-10`.
    pub arch: String,
    pub params: usize,
    pub config: TrainConfig,
    pub train_images: usize,
    pub epochs: Vec<EpochSummary>,
    /// Stopped before the last epoch ended; the model is then not kept.
    pub cancelled: bool,
    /// On the test set, when one was given and training finished.
    pub evaluation: Option<Evaluation>,
    pub seconds: f64,
}

/// Trains a fresh network of `arch` on `train` (validating on `validation` after each epoch),
/// then evaluates it on `test`. The model is `None` when training was cancelled.
pub async fn train<O: Observer>(
    arch: &Arch,
    config: TrainConfig,
    train: &Dataset,
    validation: Option<&Dataset>,
    test: Option<&Dataset>,
    device: &Device,
    obs: &mut O,
) -> Result<(Option<Model>, TrainOutcome), TrainError> {
    let start = Instant::now();
    let mut trainer = Trainer::fresh(arch, config.clone(), device, train.len())?;
    let report = trainer.run(train, validation.filter(|v| !v.is_empty()), obs).await?;
    let model = (!report.cancelled).then(|| trainer.into_model());
    let evaluation = match (&model, test) {
        (Some(m), Some(t)) => Some(evaluate(m, t, 1000, device).await?),
        _ => None,
    };
    let outcome = TrainOutcome {
        arch: arch.describe(),
        params: arch.num_params(),
        config,
        train_images: train.len(),
        epochs: report.epochs,
        cancelled: report.cancelled,
        evaluation,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((model, outcome))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_warms_up_then_decays_to_zero() {
        let s = Schedule::Cosine { warmup: 0.1 };
        assert!(s.lr(1.0, 5, 100) < 1.0);
        assert!((s.lr(1.0, 10, 100) - 1.0).abs() < 1e-9);
        assert!(s.lr(1.0, 55, 100) < 0.6 && s.lr(1.0, 55, 100) > 0.4);
        assert!(s.lr(1.0, 100, 100) < 1e-9);
        assert_eq!(Schedule::Constant.lr(0.1, 99, 100), 0.1);
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut c = Recipe::Default.config(crate::model::ModelKind::Mlp, 1);
        c.lr = f64::NAN;
        assert!(matches!(c.validate(), Err(TrainError::BadConfig(_))));
        c = Recipe::Default.config(crate::model::ModelKind::Mlp, 0);
        assert!(c.validate().is_err());
        c = Recipe::Default.config(crate::model::ModelKind::Mlp, 1);
        c.batch_size = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn host_softmax_and_argmax() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
    }

    #[test]
    fn cross_entropy_matches_the_formula() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0, 0.0, 0.0, 1.0, 0.0], [2, 3]), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2], [2]), &device);
        let got = cross_entropy(logits, labels).into_data().try_into_vec_as::<f32>().unwrap()[0];
        let l0 = -(2f32.exp() / (2f32.exp() + 2.0)).ln();
        let l1 = -(1.0 / (2.0 + 1f32.exp())).ln();
        assert!((got - (l0 + l1) / 2.0).abs() < 1e-5, "{got}");
    }
}
