//! `prunelab eval`: a saved model on the test set.

use std::path::PathBuf;

use prunelab::block_on;
use prunelab::data::Dataset;
use prunelab::model::Model;
use prunelab::model::file::ModelFile;
use prunelab::train::{self, Evaluation};
use serde::Serialize;

use crate::common::{CliError, Common, print_eval, print_json, strip};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model_file: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Output<'a> {
    model_file: &'a PathBuf,
    arch: String,
    params: usize,
    nonzero_params: usize,
    evaluation: Evaluation,
    meta: &'a serde_json::Value,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let device = a.common.device()?;
    let file = ModelFile::load(&a.model_file)?;
    let model = Model::from_weights(&file.weights, &device)?;
    let test = Dataset::load_split(&a.common.data, false)?;
    let eval = block_on(train::evaluate(&model, &test, 1000, &device))?;
    let w = &file.weights;
    if a.common.json {
        print_json(&Output { model_file: &a.model_file, arch: w.arch.describe(), params: w.num_params(), nonzero_params: w.count_nonzero(), evaluation: strip(&eval), meta: &file.meta });
    } else {
        println!("{}: {} ({} parameters, {} non-zero)", a.model_file.display(), w.arch.describe(), w.num_params(), w.count_nonzero());
        print_eval(&eval);
    }
    Ok(())
}
