//! Sweeps: prune the same trained weights at each sparsity, by each method, and record what
//! happens. Every point starts again from the trained weights, as in the report.

pub mod chart;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::data::Dataset;
use crate::model::Weights;
use crate::prune::finetune::{TuneError, finetune, finetune_config};
use crate::prune::reconstruct::{self, reconstruct};
use crate::prune::{Method, PruneSpec, Scope, Sensitivity, Sparsity, Variant, evaluate_pruned, pearson, prune};
use crate::train::Observer;

/// The report's sparsities, in percent.
pub const REPORT_SPARSITIES: [f64; 10] = [0.0, 25.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 97.0, 99.0];

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    pub methods: Vec<Method>,
    pub sparsities: Vec<Sparsity>,
    /// For weight pruning: each scope is a line of its own.
    #[serde(default = "global")]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub variant: Variant,
    /// Weight pruning keeps no stranded weights (see [`crate::prune::weight_mask`]).
    #[serde(default)]
    pub connected: bool,
    /// Epochs of fine-tuning after pruning at each point (0: one-shot, as the report did).
    #[serde(default)]
    pub finetune_epochs: usize,
    /// Each line gets a reconstructed twin, its points reconstructed on this many training
    /// images (see [`crate::prune::reconstruct`]); none: one-shot by magnitude only, as the
    /// report did.
    #[serde(default)]
    pub reconstruct: Option<usize>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            methods: vec![Method::Weight, Method::Neuron],
            sparsities: REPORT_SPARSITIES.iter().map(|&k| Sparsity::new(k).unwrap()).collect(),
            scopes: global(),
            variant: Variant::Full,
            connected: false,
            finetune_epochs: 0,
            reconstruct: None,
        }
    }
}

fn global() -> Vec<Scope> {
    vec![Scope::Global]
}

/// The report's published MLP numbers that we know (dense 87.2 %; weight pruning 82.6 % at 90 %;
/// neuron pruning 75.3 % at 70 %), as (sparsity %, accuracy) to overlay on our curves. Only
/// these points are given; nothing between them is invented.
pub const REPORT_WEIGHT_POINTS: [(f64, f64); 2] = [(0.0, 0.872), (90.0, 0.826)];
pub const REPORT_NEURON_POINTS: [(f64, f64); 2] = [(0.0, 0.872), (70.0, 0.753)];
/// The report's Pearson coefficients of sparsity against accuracy.
pub const REPORT_PEARSON_WEIGHT: f64 = -0.586;
pub const REPORT_PEARSON_NEURON: f64 = -0.830;

/// One row of the sweep table.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub method: Method,
    /// Weight pruning's scope; none for neuron pruning.
    pub scope: Option<Scope>,
    pub sparsity: f64,
    pub accuracy: f32,
    pub loss: f32,
    pub nonzero_params: usize,
    pub total_params: usize,
    /// Set when the point was reconstructed on this many images.
    pub calibration_images: Option<usize>,
    pub prune_ms: f64,
    pub finetune_ms: f64,
    pub eval_ms: f64,
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    pub method: Method,
    pub scope: Option<Scope>,
    /// The line's points were reconstructed (their `calibration_images` are set).
    pub reconstructed: bool,
    /// Pearson correlation of sparsity and accuracy (the report: −0.586 weight, −0.830 neuron).
    pub pearson: Option<f64>,
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub config: SweepConfig,
    pub points: Vec<SweepPoint>,
    pub summaries: Vec<MethodSummary>,
    pub seconds: f64,
    /// True when stopped before every point was done.
    pub cancelled: bool,
}

/// Runs the sweep. `train` is needed only for fine-tuning, `curves` only for the sensitivity
/// scope. `on_point` hears each point as it
/// is done; `obs` hears fine-tuning progress and may cancel (checked between points too).
pub async fn sweep<O: Observer>(
    trained: &Weights,
    train: Option<&Dataset>,
    test: &Dataset,
    curves: Option<&Sensitivity>,
    config: &SweepConfig,
    device: &Device,
    obs: &mut O,
    mut on_point: impl FnMut(&SweepPoint),
) -> Result<SweepReport, TuneError> {
    let start = Instant::now();
    let mut points = Vec::new();
    let mut cancelled = false;
    let lines = config.lines();
    // A line that cannot prune these weights fails before any work.
    for line in &lines {
        PruneSpec { method: line.method, sparsity: Sparsity::ZERO, scope: line.scope.unwrap_or_default(), connected: false, variant: config.variant }.check(trained, curves)?;
        if line.reconstructed {
            reconstruct::check(trained, line.method, config.variant)?;
        }
    }
    'outer: for &Line { method, scope, reconstructed } in &lines {
        for &sparsity in &config.sparsities {
            if obs.cancelled() {
                cancelled = true;
                break 'outer;
            }
            let spec = PruneSpec { method, sparsity, scope: scope.unwrap_or_default(), connected: config.connected, variant: config.variant };
            let mut pruned = prune(trained, spec, curves)?;
            if let Some(images) = config.reconstruct.filter(|_| reconstructed) {
                let train = train.ok_or(crate::train::TrainError::EmptyDataset)?;
                match reconstruct(trained, &pruned, train, images, obs, |_| {}).await? {
                    Some(p) => pruned = p,
                    None => {
                        cancelled = true;
                        break 'outer;
                    }
                }
            }
            if config.finetune_epochs > 0 && sparsity.percent() > 0.0 {
                let train = train.ok_or(crate::train::TrainError::EmptyDataset)?;
                let cfg = finetune_config(trained.arch.kind(), config.finetune_epochs, sparsity);
                match finetune(&pruned, train, cfg, device, obs).await? {
                    Some(p) => pruned = p,
                    None => {
                        cancelled = true;
                        break 'outer;
                    }
                }
            }
            let t = Instant::now();
            let eval = evaluate_pruned(&pruned.weights, test, device).await?;
            let point = SweepPoint {
                method,
                scope,
                sparsity: sparsity.percent(),
                accuracy: eval.accuracy,
                loss: eval.loss,
                nonzero_params: pruned.weights.count_nonzero(),
                total_params: pruned.weights.num_params(),
                calibration_images: pruned.calibration_images,
                prune_ms: pruned.prune_ms,
                finetune_ms: pruned.finetune_ms,
                eval_ms: t.elapsed().as_secs_f64() * 1e3,
            };
            on_point(&point);
            points.push(point);
            obs.pause().await;
        }
    }
    let summaries = lines
        .iter()
        .map(|line| {
            let (x, y): (Vec<f64>, Vec<f64>) = points.iter().filter(|p| line.has(p)).map(|p| (p.sparsity, p.accuracy as f64)).unzip();
            MethodSummary { method: line.method, scope: line.scope, reconstructed: line.reconstructed, pearson: pearson(&x, &y) }
        })
        .collect();
    Ok(SweepReport { config: config.clone(), points, summaries, seconds: start.elapsed().as_secs_f64(), cancelled })
}

/// One line of a sweep's chart and table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub method: Method,
    /// Weight pruning's scope; none for neuron pruning.
    pub scope: Option<Scope>,
    pub reconstructed: bool,
}

impl Line {
    /// Whether `point` lies on this line.
    pub fn has(&self, point: &SweepPoint) -> bool {
        (point.method, point.scope, point.calibration_images.is_some()) == (self.method, self.scope, self.reconstructed)
    }

    /// The line's name: the method, the scope when the sweep compares several (or it is not
    /// global), and whether reconstructed. The page's `sweepLine` (www/charts.js) says the same.
    pub fn name(&self, config: &SweepConfig) -> String {
        let method = self.method;
        let name = match self.scope {
            Some(s) if config.scopes.len() > 1 || s != Scope::Global => format!("{method} ({s})"),
            _ => method.to_string(),
        };
        if self.reconstructed { format!("{name}, reconstructed") } else { name }
    }
}

impl SweepConfig {
    /// The sweep's lines: each method, for weight pruning each scope, and with `reconstruct`
    /// each of them twice, by magnitude and reconstructed, side by side.
    pub fn lines(&self) -> Vec<Line> {
        let scopes = if self.scopes.is_empty() { global() } else { self.scopes.clone() };
        let twins: &[bool] = if self.reconstruct.is_some() { &[false, true] } else { &[false] };
        let mut lines = Vec::new();
        for &method in &self.methods {
            let scopes: Vec<Option<Scope>> = match method {
                Method::Weight => scopes.iter().map(|&s| Some(s)).collect(),
                Method::Neuron => vec![None],
            };
            for scope in scopes {
                lines.extend(twins.iter().map(|&reconstructed| Line { method, scope, reconstructed }));
            }
        }
        lines
    }
}

impl SweepReport {
    /// The report-style table: sparsity down, one accuracy column per line.
    pub fn markdown(&self) -> String {
        let lines = self.config.lines();
        let mut s = String::from("| sparsity |");
        for line in &lines {
            let m = line.name(&self.config);
            s += &format!(" {m} accuracy | {m} non-zero |");
        }
        s += "\n|---:|";
        s += &"---:|---:|".repeat(lines.len());
        s += "\n";
        for k in &self.config.sparsities {
            s += &format!("| {} % |", k.percent());
            for line in &lines {
                match self.points.iter().find(|p| line.has(p) && p.sparsity == k.percent()) {
                    Some(p) => s += &format!(" {:.2} % | {} |", p.accuracy * 100.0, p.nonzero_params),
                    None => s += " – | – |",
                }
            }
            s += "\n";
        }
        for sm in &self.summaries {
            let line = Line { method: sm.method, scope: sm.scope, reconstructed: sm.reconstructed };
            s += &format!("\nPearson r (sparsity, accuracy), {} pruning: {}", line.name(&self.config), sm.pearson.map_or("n/a".into(), |r| format!("{r:.3}")));
        }
        s + "\n"
    }

    pub fn csv(&self) -> String {
        let mut s = String::from("method,scope,sparsity,accuracy,loss,nonzero_params,total_params,prune_ms,finetune_ms,eval_ms,calibration_images\n");
        for p in &self.points {
            s += &format!(
                "{},{},{},{:.6},{:.6},{},{},{:.3},{:.3},{:.3},{}\n",
                p.method,
                p.scope.map_or(String::new(), |s| s.to_string()),
                p.sparsity,
                p.accuracy,
                p.loss,
                p.nonzero_params,
                p.total_params,
                p.prune_ms,
                p.finetune_ms,
                p.eval_ms,
                p.calibration_images.map_or(String::new(), |n| n.to_string())
            );
        }
        s
    }
}
