//! `prunelab calibrate`: fit a saved model's temperature and "not sure" thresholds on held-out
//! training images and record them in the file (README, drawings).

use std::path::PathBuf;

use prunelab::block_on;
use prunelab::confidence::{self, CalibrationReport};
use prunelab::data::Dataset;
use prunelab::model::Model;
use prunelab::model::file::{ModelFile, Precision};

use crate::common::{CliError, Common, print_json};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    /// Fit on the first N training images: the ones `train --validation N` held out.
    #[arg(long, default_value_t = 5000)]
    held_out: usize,
    /// Where to write the calibrated model (default: over the model file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Store weights as f16.
    #[arg(long)]
    f16: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let device = a.common.device()?;
    let mut file = ModelFile::load(&a.model_file)?;
    let held_out_in_training = file.meta.get("validation_images").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
    if held_out_in_training < a.held_out {
        return Err(CliError::Usage(format!(
            "{} was trained with {held_out_in_training} held-out images, fewer than the {} asked for: calibrating on images it learnt from would make it over-confident",
            a.model_file.display(),
            a.held_out
        )));
    }
    let model = Model::from_weights(&file.weights, &device)?;
    let held_out = Dataset::load_split(&a.common.data, true)?.take(a.held_out);
    let report = block_on(confidence::calibrate(&model, &held_out, &device))?;
    file.meta["calibration"] = serde_json::to_value(report.calibration).expect("plain data");
    let out = a.out.unwrap_or_else(|| a.model_file.clone());
    file.save(&out, if a.f16 { Precision::F16 } else { Precision::F32 })?;
    if a.common.json {
        print_json(&report);
    } else {
        print_report(&report);
        println!("saved {}", out.display());
    }
    Ok(())
}

pub fn print_report(r: &CalibrationReport) {
    let c = &r.calibration;
    println!(
        "calibrated on {} held-out images: temperature {:.3}, NLL {:.4} → {:.4}, ECE {:.2} % → {:.2} %; not sure below {:.0} % or evidence {}",
        c.images,
        c.temperature,
        r.nll_before,
        r.nll_after,
        r.ece_before * 100.0,
        r.ece_after * 100.0,
        c.min_confidence * 100.0,
        c.min_evidence.map_or("-".into(), |e| format!("{e:.2}"))
    );
}
