//! `prunelab train`: train one of the report's networks and save it.

use std::path::PathBuf;

use prunelab::block_on;
use prunelab::confidence;
use prunelab::data::FashionMnist;
use prunelab::model::file::{ModelFile, Precision};
use prunelab::model::{Arch, ModelKind};
use prunelab::train::{self, Recipe, TrainOutcome};
use serde::Serialize;

use crate::common::{CliError, CliObserver, Common, check_cancelled, name_of, named, print_eval, print_json, strip};

#[derive(clap::Args)]
pub struct Args {
    /// mlp or cnn.
    #[arg(long, value_parser = named::<ModelKind>)]
    model: ModelKind,
    /// default or report (the report's Keras recipe).
    #[arg(long, value_parser = named::<Recipe>, default_value = "default")]
    recipe: Recipe,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Batch size (default: the recipe's).
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate (default: the recipe's).
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only.
    #[arg(long)]
    limit: Option<usize>,
    /// Hold out the first N training images for validation (the report held out 5000 for the CNN).
    #[arg(long, default_value_t = 0)]
    validation: usize,
    /// Where to save the model (default: out/<model>.plab).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Store weights as f16 (half the size).
    #[arg(long)]
    f16: bool,
    /// Train on mirrored, tilted, re-shaded images, tops with raised sleeves or a neckline,
    /// silhouettes and outlines too (some wider or narrower), so the model reads drawings
    /// (README, drawings).
    #[arg(long)]
    augment: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    outcome: &'a TrainOutcome,
    model_file: &'a PathBuf,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let mut cfg = a.recipe.config(a.model, a.epochs).with(a.lr, a.batch, a.seed);
    cfg.augment = a.augment;
    cfg.validate()?;
    let device = a.common.device()?;
    let data = FashionMnist::load_dir(&a.common.data)?;
    let (val, train_set) = data.train.split_at(a.validation);
    let train_set = match a.limit {
        Some(n) => train_set.take(n),
        None => train_set,
    };
    let arch = Arch::report(a.model);
    let out = a.out.unwrap_or_else(|| PathBuf::from(format!("out/{}.plab", a.model)));
    if !a.common.json {
        println!(
            "training {} ({} parameters) on {} images, {} epochs, batch {}, lr {}, recipe {}, device {}",
            arch.describe(), arch.num_params(), train_set.len(), cfg.epochs, cfg.batch_size, cfg.lr, name_of(&a.recipe), a.common.device
        );
    }
    let mut obs = CliObserver::new(a.common.json);
    let (model, mut outcome) = block_on(train::train(&arch, cfg, &train_set, Some(&val), Some(&data.test), &device, &mut obs))?;
    obs.finish();
    let model = model.ok_or(CliError::Cancelled)?;
    check_cancelled()?;
    let test = outcome.evaluation.as_ref().map(strip).expect("evaluated on the test set");
    // Held-out images, when there are some, tell how far to trust the model's probabilities.
    let calibration = match val.is_empty() {
        true => None,
        false => Some(block_on(confidence::calibrate(&model, &val, &device))?),
    };
    let meta = serde_json::json!({
        "recipe": a.recipe, "config": outcome.config, "train_images": outcome.train_images,
        "validation_images": val.len(), "calibration": calibration.as_ref().map(|r| r.calibration),
        "epochs_completed": outcome.epochs.len(), "test_accuracy": test.accuracy, "test_loss": test.loss,
        "epoch_seconds": outcome.epochs.iter().map(|e| e.seconds).collect::<Vec<_>>(),
    });
    let weights = block_on(model.to_weights())?;
    ModelFile { weights, meta }.save(&out, if a.f16 { Precision::F16 } else { Precision::F32 })?;
    if a.common.json {
        outcome.evaluation = Some(test);
        print_json(&Output { outcome: &outcome, model_file: &out });
    } else {
        print_eval(&test);
        if let Some(r) = &calibration {
            super::calibrate::print_report(r);
        }
        println!("saved {}", out.display());
    }
    Ok(())
}
