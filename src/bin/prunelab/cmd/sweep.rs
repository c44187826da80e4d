//! `prunelab sweep`: the report's table, for both methods, from one trained model.

use std::path::{Path, PathBuf};

use prunelab::block_on;
use prunelab::data::FashionMnist;
use prunelab::model::file::ModelFile;
use prunelab::model::{Arch, ModelKind};
use prunelab::prune::{Method, Scope, Sparsity, Variant};
use prunelab::sweep::{self, SweepConfig};
use prunelab::train::{self, Recipe};

use crate::cmd::prune::How;
use crate::common::{CliError, CliObserver, Common, check_cancelled, named, print_json, write};

#[derive(clap::Args)]
pub struct Args {
    /// The trained model to sweep; without it, one is trained first with --model and --epochs.
    #[arg(long, conflicts_with = "model")]
    model_file: Option<PathBuf>,
    /// mlp or cnn.
    #[arg(long, value_parser = named::<ModelKind>)]
    model: Option<ModelKind>,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// weight, neuron, or both (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = named::<Method>, default_values = ["weight", "neuron"])]
    methods: Vec<Method>,
    /// Percents to remove, 0 to 100, comma-separated.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, default_values = ["0", "25", "50", "60", "70", "80", "90", "95", "97", "99"])]
    sparsities: Vec<Sparsity>,
    /// Weight pruning's scopes, one line each (comma-separated): global, layer, lamp,
    /// sensitivity.
    #[arg(long, value_delimiter = ',', value_parser = named::<Scope>, default_values = ["global"])]
    scope: Vec<Scope>,
    #[command(flatten)]
    how: How,
    /// Folder for sweep.md, sweep.csv, sweep.json and sweep.svg.
    #[arg(long, default_value = "out/sweep")]
    out_dir: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let device = a.common.device()?;
    let file = match (&a.model_file, a.model) {
        (Some(f), _) => Some(ModelFile::load(f)?),
        (None, None) => return Err(CliError::Usage("give --model-file FILE, or --model mlp|cnn to train one first".into())),
        (None, Some(_)) => None,
    };
    let data = FashionMnist::load_dir(&a.common.data)?;
    let mut obs = CliObserver::new(a.common.json);
    let weights = match (file, a.model) {
        (Some(f), _) => f.weights,
        (None, kind) => {
            let kind = kind.expect("checked above");
            let (model, _) = block_on(train::train(&Arch::report(kind), Recipe::Default.config(kind, a.epochs), &data.train, None, None, &device, &mut obs))?;
            obs.finish();
            block_on(model.ok_or(CliError::Cancelled)?.to_weights())?
        }
    };
    let curves = if a.methods.contains(&Method::Weight) { a.how.curves.resolve(&a.scope, &weights, &a.common)? } else { None };
    let config = SweepConfig { methods: a.methods, sparsities: a.sparsities, scopes: a.scope, connected: a.how.connected, variant: a.how.variant, finetune_epochs: a.how.finetune_epochs, reconstruct: a.how.reconstruct.then_some(a.how.calibration) };
    let json = a.common.json;
    let lines = config.lines();
    let report = block_on(sweep::sweep(&weights, Some(&data.train), &data.test, curves.as_ref(), &config, &device, &mut obs, |p| {
        if !json {
            let name = lines.iter().find(|l| l.has(p)).map_or(String::new(), |l| l.name(&config));
            eprintln!("  {name} {:>5} %: accuracy {:.2} %, {} non-zero, prune {:.0} ms, eval {:.0} ms", p.sparsity, p.accuracy * 100.0, p.nonzero_params, p.prune_ms, p.eval_ms);
        }
    }))?;
    obs.finish();
    if report.cancelled {
        return Err(CliError::Cancelled);
    }
    check_cancelled()?;
    let title = format!(
        "{} — {} pruning sweep{}",
        weights.arch.describe(),
        if config.variant == Variant::Report { "report-variant" } else { "one-shot" },
        if config.finetune_epochs > 0 { format!(", {} epoch(s) fine-tuning", config.finetune_epochs) } else { String::new() }
    );
    let overlay: [(&str, &[(f64, f64)]); 2] = [("report: weight", &sweep::REPORT_WEIGHT_POINTS), ("report: neuron", &sweep::REPORT_NEURON_POINTS)];
    let overlay: &[(&str, &[(f64, f64)])] = if weights.arch.kind() == ModelKind::Mlp { &overlay } else { &[] };
    let out: &Path = &a.out_dir;
    write(&out.join("sweep.md"), report.markdown())?;
    write(&out.join("sweep.csv"), report.csv())?;
    write(&out.join("sweep.json"), serde_json::to_string_pretty(&report).expect("plain data"))?;
    write(&out.join("sweep.svg"), sweep::chart::svg(&report, &title, overlay))?;
    if json {
        print_json(&report);
    } else {
        println!("{}", report.markdown());
        println!("{} points in {:.1} s; wrote sweep.md, sweep.csv, sweep.json, sweep.svg to {}", report.points.len(), report.seconds, out.display());
    }
    Ok(())
}
