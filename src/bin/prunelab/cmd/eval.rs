//! `prunelab eval`: a saved model on the test set, or on a drawings file.

use std::path::PathBuf;

use prunelab::block_on;
use prunelab::confidence::{self, CONFIDENT, Calibration, DrawingsReport};
use prunelab::data::{CLASS_NAMES, Dataset};
use prunelab::drawing::{DrawingSet, Split};
use prunelab::model::Model;
use prunelab::model::file::ModelFile;
use prunelab::train::{self, Evaluation};
use serde::Serialize;

use crate::common::{CliError, Common, print_classes, print_eval, print_json, read, strip};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    /// Evaluate on drawings files (for example www/drawings/generated.json; repeat for more)
    /// instead of the test set: each split, then all of them.
    #[arg(long)]
    drawings: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Output<'a> {
    model_file: &'a PathBuf,
    arch: String,
    params: usize,
    nonzero_params: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation: Option<Evaluation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drawings: Option<Vec<DrawingsReport>>,
    calibration: Calibration,
    meta: &'a serde_json::Value,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let device = a.common.device()?;
    let file = ModelFile::load(&a.model_file)?;
    let model = Model::from_weights(&file.weights, &device)?;
    let calibration = Calibration::from_meta(&file.meta);
    let w = &file.weights;
    let mut out = Output {
        model_file: &a.model_file,
        arch: w.arch.describe(),
        params: w.num_params(),
        nonzero_params: w.count_nonzero(),
        evaluation: None,
        drawings: None,
        calibration,
        meta: &file.meta,
    };
    if !a.common.json {
        println!("{}: {} ({} parameters, {} non-zero)", a.model_file.display(), out.arch, out.params, out.nonzero_params);
    }
    match drawing_set(&a.drawings)? {
        Some(set) => {
            if set.drawings.is_empty() {
                return Err(CliError::Usage("the drawings files hold no drawings".into()));
            }
            let mut reports = Vec::new();
            // Each split the files have (a file of further dev drawings has no held-out part), then all.
            let has = |split: Split| set.drawings.iter().any(|d| d.split == split);
            for split in [Split::Dev, Split::Heldout].into_iter().filter(|&s| has(s)).map(Some).chain([None]) {
                let mut r = block_on(confidence::evaluate_drawings(&model, &calibration, &set, split, &device))?;
                r.evaluation = strip(&r.evaluation);
                if !a.common.json {
                    print_drawings(&r);
                }
                reports.push(r);
            }
            out.drawings = Some(reports);
        }
        None => {
            let test = Dataset::load_split(&a.common.data, false)?;
            let eval = block_on(train::evaluate(&model, &test, 1000, &device))?;
            if !a.common.json {
                print_eval(&eval);
            }
            out.evaluation = Some(strip(&eval));
        }
    }
    if a.common.json {
        print_json(&out);
    }
    Ok(())
}

/// The drawings of all `paths` as one set (they must share a pad size), or `None` for none.
fn drawing_set(paths: &[PathBuf]) -> Result<Option<DrawingSet>, CliError> {
    let mut all: Option<DrawingSet> = None;
    for path in paths {
        let set = DrawingSet::parse(&read(path)?).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        match &mut all {
            None => all = Some(set),
            Some(a) if a.canvas == set.canvas => a.drawings.extend(set.drawings),
            Some(a) => return Err(CliError::Usage(format!("{} is drawn on a {} px pad, the others on {} px", path.display(), set.canvas, a.canvas))),
        }
    }
    Ok(all)
}

fn print_drawings(r: &DrawingsReport) {
    let e = &r.evaluation;
    let split = match r.split {
        Some(Split::Dev) => "dev",
        Some(Split::Heldout) => "held-out",
        None => "all",
    };
    println!(
        "\n{split} drawings ({}): accuracy {:.2} %, calibrated loss {:.4}, not sure {}, wrong at ≥ {:.0} %: {}",
        e.confusion.iter().flatten().sum::<u32>(),
        e.accuracy * 100.0,
        e.loss,
        r.not_sure,
        CONFIDENT * 100.0,
        r.confident_mistakes.len()
    );
    for m in &r.confident_mistakes {
        println!("  {}: a {} called {} at {:.1} %", m.id, CLASS_NAMES[m.label as usize], CLASS_NAMES[m.predicted], m.confidence * 100.0);
    }
    print_classes(e);
}
