//! The engine on the real Fashion-MNIST files (installed by `scripts/setup-data.sh`).

#![cfg(not(target_arch = "wasm32"))]

use burn::tensor::Device;
use prunelab::block_on;
use prunelab::data::{Dataset, FashionMnist, default_data_dir};
use prunelab::model::file::{ModelFile, Precision, decode, encode};
use prunelab::model::{Arch, Model, ModelKind, image_tensor};
use prunelab::train::{self, BatchProgress, Observer, Recipe, Trainer};

fn data() -> FashionMnist {
    FashionMnist::load_dir(&default_data_dir()).expect("Fashion-MNIST missing: run `bash scripts/setup-data.sh`")
}

#[test]
fn real_files_parse_with_the_known_counts_and_labels() {
    let d = data();
    assert_eq!(d.train.len(), 60_000);
    assert_eq!(d.test.len(), 10_000);
    assert_eq!(&d.train.labels()[..10], &[9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert_eq!(&d.test.labels()[..10], &[9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // Every class appears 6,000 times in training and 1,000 times in test.
    for (set, per) in [(&d.train, 6000), (&d.test, 1000)] {
        for c in 0..10u8 {
            assert_eq!(set.labels().iter().filter(|&&l| l == c).count(), per);
        }
    }
}

#[test]
fn a_truncated_real_file_is_an_error_not_a_short_dataset() {
    let dir = default_data_dir();
    let images = prunelab::data::read_idx_file(&dir, prunelab::data::TEST_IMAGES).unwrap();
    let raw = prunelab::data::maybe_gunzip("t10k", &images).unwrap();
    let labels = prunelab::data::read_idx_file(&dir, prunelab::data::TEST_LABELS).unwrap();
    let err = Dataset::from_idx("t10k-images", &raw[..raw.len() - 784], "t10k-labels", &labels).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

/// Records the loss of every batch.
struct Losses(Vec<f32>);
impl Observer for Losses {
    fn on_batch(&mut self, p: &BatchProgress) {
        self.0.push(p.loss);
    }
}

#[test]
fn short_training_lowers_the_loss_and_generalises_then_saves_and_loads_identically() {
    let d = data();
    let device = Device::flex();
    let train_set = d.train.take(3000);
    let held_out = d.test.take(1000);
    let mut cfg = Recipe::Default.config(ModelKind::Mlp, 2);
    cfg.seed = 7;
    let arch = Arch::Mlp { hidden: vec![256, 128] };
    let mut trainer = Trainer::fresh(&arch, cfg, &device, train_set.len()).unwrap();
    let mut losses = Losses(Vec::new());
    let report = block_on(trainer.run(&train_set, None, &mut losses)).unwrap();
    assert_eq!(report.epochs.len(), 2);
    let first: f32 = losses.0[..5].iter().sum::<f32>() / 5.0;
    let last: f32 = losses.0[losses.0.len() - 5..].iter().sum::<f32>() / 5.0;
    assert!(last < first * 0.6, "loss did not fall: {first} → {last}");

    let model = trainer.into_model();
    let eval = block_on(train::evaluate(&model, &held_out, 500, &device)).unwrap();
    assert!(eval.accuracy > 0.70, "held-out accuracy {}", eval.accuracy);
    assert_eq!(eval.confusion.iter().flatten().sum::<u32>(), 1000);

    // Save, load, predict: identical logits.
    let weights = block_on(model.to_weights()).unwrap();
    let path = std::env::temp_dir().join(format!("prunelab-test-{}.plab", std::process::id()));
    ModelFile { weights: weights.clone(), meta: serde_json::json!({"test": true}) }.save(&path, Precision::F32).unwrap();
    let loaded = ModelFile::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let reloaded = Model::from_weights(&loaded.weights, &device).unwrap();
    let pixels: Vec<f32> = (0..8).flat_map(|i| held_out.image(i).iter().map(|&p| p as f32 / 255.0).collect::<Vec<_>>()).collect();
    let a = model.forward(image_tensor(&pixels, &device)).into_data();
    let b = reloaded.forward(image_tensor(&pixels, &device)).into_data();
    assert_eq!(a, b);
    // The f16 file is half the size and predicts the same classes.
    let half = decode(&encode(&weights, &serde_json::Value::Null, Precision::F16)).unwrap();
    let h = block_on(train::evaluate(&Model::from_weights(&half.weights, &device).unwrap(), &held_out, 500, &device)).unwrap();
    assert!((h.accuracy - eval.accuracy).abs() <= 0.003, "{} vs {}", h.accuracy, eval.accuracy);
}

#[test]
fn the_cnn_trains_a_few_batches() {
    let d = data();
    let device = Device::flex();
    let train_set = d.train.take(640);
    let cfg = Recipe::Default.config(ModelKind::Cnn, 1);
    let batches = 640usize.div_ceil(cfg.batch_size);
    let mut trainer = Trainer::fresh(&Arch::report(ModelKind::Cnn), cfg, &device, 640).unwrap();
    let mut losses = Losses(Vec::new());
    block_on(trainer.run(&train_set, None, &mut losses)).unwrap();
    assert_eq!(losses.0.len(), batches);
    assert!(losses.0.iter().all(|l| l.is_finite()));
    let eval = block_on(train::evaluate(&trainer.into_model(), &d.test.take(500), 250, &device)).unwrap();
    assert!(eval.accuracy > 0.4, "{}", eval.accuracy);
}

/// Every batch's progress, and the epochs' read-back counts.
#[derive(Default)]
struct Progress {
    batches: Vec<(usize, f32, f32)>,
    read_backs: Vec<usize>,
}
impl Observer for Progress {
    fn on_batch(&mut self, p: &BatchProgress) {
        self.batches.push((p.batch, p.loss, p.accuracy));
    }
    fn on_epoch(&mut self, s: &train::EpochSummary) {
        self.read_backs.push(s.read_backs);
    }
}

/// The device is read once per 16 batches, not per batch, yet every batch is still reported,
/// in order, with its own loss; and the epoch's loss is the mean of those.
#[test]
fn training_reads_the_device_once_per_sixteen_batches_and_reports_every_batch() {
    let d = data();
    let device = Device::flex();
    let train_set = d.train.take(1600); // 25 batches of 64
    let mut trainer = Trainer::fresh(&Arch::Mlp { hidden: vec![32] }, Recipe::Default.config(ModelKind::Mlp, 1), &device, 1600).unwrap();
    let mut obs = Progress::default();
    let report = block_on(trainer.run(&train_set, None, &mut obs)).unwrap();
    assert_eq!(obs.batches.iter().map(|b| b.0).collect::<Vec<_>>(), (1..=25).collect::<Vec<_>>());
    assert_eq!(obs.read_backs, vec![2]);
    let losses: Vec<f32> = obs.batches.iter().map(|b| b.1).collect();
    assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0) && losses.windows(2).any(|w| w[0] != w[1]), "{losses:?}");
    let mean = losses.iter().sum::<f32>() / 25.0;
    assert!((report.epochs[0].loss - mean).abs() < 1e-4, "{} vs {mean}", report.epochs[0].loss);
    assert_eq!(report.epochs[0].accuracy, obs.batches[24].2);
}

/// A learning rate far too high blows the weights up: training stops at the first batch whose
/// loss passes train::DIVERGED_LOSS, says which batch and what to change, and the trainer holds
/// the weights from the last read before it (finite, and not those of the batch that blew up).
#[test]
fn a_diverging_run_stops_names_the_batch_and_keeps_the_weights_from_before_it() {
    let d = data();
    let device = Device::flex();
    let mut cfg = Recipe::Default.config(ModelKind::Mlp, 1);
    cfg.lr = 10.0;
    let mut trainer = Trainer::fresh(&Arch::Mlp { hidden: vec![64] }, cfg, &device, 3000).unwrap();
    let mut obs = Progress::default();
    let err = block_on(trainer.run(&d.train.take(3000), None, &mut obs)).unwrap_err();
    let train::TrainError::Diverged { loss, epoch, batch, lr } = err else { panic!("{err}") };
    assert!(!(loss <= train::DIVERGED_LOSS) && epoch == 1 && lr == 10.0, "{err}");
    // Every batch reported before it was below the bound; none at or after it.
    assert!(obs.batches.iter().all(|b| b.0 < batch && b.1 <= train::DIVERGED_LOSS), "{:?} then batch {batch}", obs.batches);
    let message = err.to_string();
    assert!(message.contains(&format!("batch {batch}")) && message.contains("learning rate 10") && message.contains("try 1"), "{message}");
    let weights = block_on(trainer.into_model().to_weights()).unwrap();
    assert!(weights.layers.iter().all(|l| l.weight.values.iter().chain(&l.bias.values).all(|v| v.is_finite() && v.abs() < 1e6)), "the kept weights blew up too");
}

/// Cancels after three batches.
struct CancelSoon(usize);
impl Observer for CancelSoon {
    fn on_batch(&mut self, _: &BatchProgress) {
        self.0 += 1;
    }
    fn cancelled(&self) -> bool {
        self.0 >= 3
    }
}

#[test]
fn cancellation_stops_training_and_keeps_the_model_usable() {
    let d = data();
    let device = Device::flex();
    let train_set = d.train.take(1000);
    let mut trainer = Trainer::fresh(&Arch::Mlp { hidden: vec![32] }, Recipe::Default.config(ModelKind::Mlp, 3), &device, 1000).unwrap();
    let mut obs = CancelSoon(0);
    let report = block_on(trainer.run(&train_set, None, &mut obs)).unwrap();
    assert!(report.cancelled);
    // Progress comes in bursts (train::READ_EVERY batches): the cancel is seen after the first.
    assert!((3..3 * 16).contains(&obs.0), "{} batches reported", obs.0);
    assert!(block_on(train::evaluate(&trainer.into_model(), &d.test.take(100), 100, &device)).is_ok());
}

/// Cancels after `after` batches.
struct CancelAfter(usize, usize);
impl Observer for CancelAfter {
    fn on_batch(&mut self, _: &BatchProgress) {
        self.0 += 1;
    }
    fn cancelled(&self) -> bool {
        self.0 >= self.1
    }
}

#[test]
fn train_reports_its_outcome_and_keeps_no_model_when_cancelled() {
    let d = data();
    let device = Device::flex();
    let arch = Arch::Mlp { hidden: vec![32] };
    let cfg = Recipe::Default.config(ModelKind::Mlp, 1);
    let (model, outcome) = block_on(train::train(&arch, cfg.clone(), &d.train.take(640), None, Some(&d.test.take(200)), &device, &mut CancelAfter(0, usize::MAX))).unwrap();
    assert!(model.is_some() && !outcome.cancelled);
    assert_eq!((outcome.arch.as_str(), outcome.params, outcome.train_images, outcome.epochs.len()), ("mlp 784-32-10", arch.num_params(), 640, 1));
    let eval = outcome.evaluation.expect("evaluated on the test images");
    assert_eq!(eval.confusion.iter().flatten().sum::<u32>(), 200);
    let (model, outcome) = block_on(train::train(&arch, cfg, &d.train.take(2560), None, Some(&d.test.take(200)), &device, &mut CancelAfter(0, 3))).unwrap();
    assert!(model.is_none() && outcome.cancelled && outcome.evaluation.is_none() && outcome.epochs.is_empty());
}

/// The timing `auto` uses to choose a backend: a speed, finite and positive, on the CPU.
#[test]
fn training_speed_times_the_mlp() {
    let sps = block_on(train::training_speed(&Arch::report(ModelKind::Mlp), &Device::flex(), 2)).unwrap();
    assert!(sps.is_finite() && sps > 10.0, "{sps} samples/s");
}
