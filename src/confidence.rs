//! Honest confidence: temperature scaling, and saying "not sure" instead of naming a class.
//!
//! A network trained by cross-entropy is over-confident. Temperature scaling (Guo et al., 2017)
//! divides its logits by one number T, fitted on held-out training images to minimise their
//! negative log-likelihood; the ranking, hence accuracy, is unchanged, but a calibrated 70 %
//! is then right about 70 % of the time on images like the training set.
//!
//! A drawing can be unlike every training image, and then even a calibrated probability means
//! little. Two signals, both from the logits alone so any model (pruned, compacted, on any
//! backend) gives them:
//! - the calibrated top probability: below `min_confidence` the model is more often wrong than
//!   right on held-out images;
//! - the free energy's magnitude, logsumexp(logits / T) (Liu et al., 2020): the network's total
//!   evidence for any class. Held-out images of the training distribution rarely fall below its
//!   1st percentile, which is `min_evidence`; an input below it is far from what the model knows.

use serde::{Deserialize, Serialize};

use crate::data::{Dataset, NUM_CLASSES};
use crate::drawing::{Drawing, DrawingSet, Split};
use crate::model::Model;
use crate::train::{self, Evaluation, TrainError, argmax};
use burn::tensor::Device;

/// How to read a model's logits; stored in a model file's `meta.calibration`.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Divides the logits before the softmax; 1 is the model as trained.
    pub temperature: f32,
    /// Below this calibrated top probability the verdict is "not sure".
    pub min_confidence: f32,
    /// Below this evidence (logsumexp of the scaled logits) the input is unfamiliar; `None`
    /// when not fitted.
    pub min_evidence: Option<f32>,
    /// How many held-out images these were fitted on (0: not fitted, the defaults).
    pub images: usize,
}

impl Default for Calibration {
    /// For a model never calibrated: its own probabilities, and "not sure" below one half.
    fn default() -> Self {
        Calibration { temperature: 1.0, min_confidence: 0.5, min_evidence: None, images: 0 }
    }
}

/// Why the verdict is what it is.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    Sure,
    /// The top calibrated probability is below `min_confidence`.
    LowConfidence,
    /// The input is unlike the training images (evidence below `min_evidence`).
    Unfamiliar,
    /// A drawing no bigger than its brush (a tap): no shape to read ([`Drawing::is_blot`]).
    Blot,
}

/// What the pad shows for one input.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Calibrated class probabilities.
    pub probabilities: Vec<f32>,
    /// The most probable class, named only when `certainty` is `sure`.
    pub class: usize,
    pub confidence: f32,
    pub evidence: f32,
    pub certainty: Certainty,
}

impl Calibration {
    /// The calibration recorded in a model file's metadata, or the default.
    pub fn from_meta(meta: &serde_json::Value) -> Self {
        meta.get("calibration").and_then(|c| serde_json::from_value(c.clone()).ok()).filter(Calibration::is_valid).unwrap_or_default()
    }

    fn is_valid(&self) -> bool {
        self.temperature.is_finite() && self.temperature > 0.0 && (0.0..=1.0).contains(&self.min_confidence) && self.min_evidence.is_none_or(f32::is_finite)
    }

    /// The verdict for one row of raw logits.
    pub fn verdict(&self, logits: &[f32]) -> Verdict {
        let scaled: Vec<f32> = logits.iter().map(|v| v / self.temperature).collect();
        let probabilities = train::softmax(&scaled);
        let class = argmax(&probabilities);
        let confidence = probabilities[class];
        let evidence = logsumexp(&scaled);
        let certainty = if self.min_evidence.is_some_and(|m| evidence < m) {
            Certainty::Unfamiliar
        } else if confidence < self.min_confidence {
            Certainty::LowConfidence
        } else {
            Certainty::Sure
        };
        Verdict { probabilities, class, confidence, evidence, certainty }
    }

    /// Fits the temperature and the two thresholds to held-out logits (10 per image) and labels.
    pub fn fit(logits: &[f32], labels: &[u8]) -> Self {
        let temperature = fit_temperature(logits, labels);
        let rows = || logits.chunks_exact(NUM_CLASSES).map(|r| r.iter().map(|v| v / temperature).collect::<Vec<f32>>());
        let mut evidence: Vec<f32> = rows().map(|r| logsumexp(&r)).collect();
        evidence.sort_by(f32::total_cmp);
        let min_evidence = evidence.get(evidence.len() / 100).copied();
        // Calibrated, a top probability of one half is where right and wrong are equally likely.
        Calibration { temperature, min_confidence: 0.5, min_evidence, images: labels.len() }
    }
}

impl Verdict {
    /// This verdict for `drawing`: a blot is never named, whatever the network says of it.
    pub fn for_drawing(mut self, drawing: &Drawing) -> Self {
        if drawing.is_blot() {
            self.certainty = Certainty::Blot;
        }
        self
    }
}

/// How well probabilities match outcomes on held-out images, before and after calibration.
#[derive(Clone, Debug, Serialize)]
pub struct CalibrationReport {
    pub calibration: Calibration,
    /// Negative log-likelihood per image at T = 1 and at the fitted T.
    pub nll_before: f64,
    pub nll_after: f64,
    /// Expected calibration error (15 equal-width bins of confidence), before and after.
    pub ece_before: f64,
    pub ece_after: f64,
}

/// Fits a [`Calibration`] for `model` on `held_out` (images it was not trained on).
pub async fn calibrate(model: &Model, held_out: &Dataset, device: &Device) -> Result<CalibrationReport, TrainError> {
    if held_out.is_empty() {
        return Err(TrainError::BadConfig("calibration needs held-out images (for example --validation 5000)".into()));
    }
    let logits = train::logits(model, held_out, device).await?;
    let labels = held_out.labels();
    let calibration = Calibration::fit(&logits, labels);
    let t = calibration.temperature;
    Ok(CalibrationReport {
        calibration,
        nll_before: nll(&logits, labels, 1.0),
        nll_after: nll(&logits, labels, t),
        ece_before: ece(&logits, labels, 1.0),
        ece_after: ece(&logits, labels, t),
    })
}

/// A drawing the model names wrongly with high confidence: what calibration must prevent.
#[derive(Clone, Debug, Serialize)]
pub struct ConfidentMistake {
    pub id: String,
    pub label: u8,
    pub predicted: usize,
    pub confidence: f32,
}

/// A model on (part of) a drawings file.
#[derive(Clone, Debug, Serialize)]
pub struct DrawingsReport {
    /// `None`: every drawing.
    pub split: Option<Split>,
    pub evaluation: Evaluation,
    /// How many the verdict leaves "not sure" (either reason).
    pub not_sure: usize,
    /// Wrong answers at a calibrated confidence of [`CONFIDENT`] or more.
    pub confident_mistakes: Vec<ConfidentMistake>,
}

/// What counts as a confident answer.
pub const CONFIDENT: f32 = 0.95;

/// Evaluates `model` (read through `calibration`) on the drawings of `split` in `set`.
pub async fn evaluate_drawings(model: &Model, calibration: &Calibration, set: &DrawingSet, split: Option<Split>, device: &Device) -> Result<DrawingsReport, TrainError> {
    let (data, drawings) = set.dataset(split);
    let start = web_time::Instant::now();
    let logits = train::logits(model, &data, device).await?;
    let mut evaluation = Evaluation::of_logits(&logits, data.labels());
    evaluation.seconds = start.elapsed().as_secs_f64();
    // The loss as the pad's probabilities see it: calibrated.
    evaluation.loss = nll(&logits, data.labels(), calibration.temperature) as f32;
    // Read as the pad reads them: a blot is never named.
    let verdicts: Vec<Verdict> = logits.chunks_exact(NUM_CLASSES).zip(&drawings).map(|(row, d)| calibration.verdict(row).for_drawing(&set.drawing(d))).collect();
    let confident_mistakes = verdicts
        .iter()
        .zip(&drawings)
        .filter(|(v, d)| v.class != d.label as usize && v.confidence >= CONFIDENT)
        .map(|(v, d)| ConfidentMistake { id: d.id.clone(), label: d.label, predicted: v.class, confidence: v.confidence })
        .collect();
    Ok(DrawingsReport { split, evaluation, not_sure: verdicts.iter().filter(|v| v.certainty != Certainty::Sure).count(), confident_mistakes })
}

fn logsumexp(row: &[f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    max + row.iter().map(|v| (v - max).exp()).sum::<f32>().ln()
}

/// Mean negative log-likelihood of `labels` under softmax(logits / t).
pub fn nll(logits: &[f32], labels: &[u8], t: f32) -> f64 {
    let sum: f64 = logits
        .chunks_exact(NUM_CLASSES)
        .zip(labels)
        .map(|(row, &l)| {
            let scaled: Vec<f32> = row.iter().map(|v| v / t).collect();
            (logsumexp(&scaled) - scaled[l as usize]) as f64
        })
        .sum();
    sum / labels.len().max(1) as f64
}

/// Expected calibration error: the gap between confidence and accuracy, averaged over 15 bins
/// of confidence weighted by how many images fall in each.
pub fn ece(logits: &[f32], labels: &[u8], t: f32) -> f64 {
    const BINS: usize = 15;
    let mut bins = [(0usize, 0f64, 0f64); BINS];
    for (row, &l) in logits.chunks_exact(NUM_CLASSES).zip(labels) {
        let p = train::softmax(&row.iter().map(|v| v / t).collect::<Vec<_>>());
        let c = argmax(&p);
        let b = ((p[c] * BINS as f32) as usize).min(BINS - 1);
        bins[b].0 += 1;
        bins[b].1 += p[c] as f64;
        bins[b].2 += (c == l as usize) as u8 as f64;
    }
    let n = labels.len().max(1) as f64;
    bins.iter().map(|&(_, conf, hits)| (conf - hits).abs()).sum::<f64>() / n
}

/// The temperature minimising [`nll`], by golden-section search over ln T in [ln 0.05, ln 20]
/// (the likelihood is convex in 1/T, so one minimum).
pub fn fit_temperature(logits: &[f32], labels: &[u8]) -> f32 {
    let f = |ln_t: f64| nll(logits, labels, ln_t.exp() as f32);
    let (mut a, mut b) = (0.05f64.ln(), 20f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits that are right 70 % of the time but say so with about 99 % confidence.
    fn overconfident(n: usize) -> (Vec<f32>, Vec<u8>) {
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = (i % NUM_CLASSES) as u8;
            let predicted = if i % 10 < 7 { label as usize } else { (label as usize + 1) % NUM_CLASSES };
            logits.extend((0..NUM_CLASSES).map(|c| if c == predicted { 8.0 } else { 0.0 }));
            labels.push(label);
        }
        (logits, labels)
    }

    #[test]
    fn a_blot_is_never_named_however_sure_the_network_is() {
        use crate::drawing::Stroke;
        let sure = Calibration::default().verdict(&[9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(sure.certainty, Certainty::Sure);
        let tap = Drawing { pixels: None, side: 280, strokes: vec![Stroke { size: 20.0, points: vec![[140.0, 140.0]] }] };
        let shape = Drawing { pixels: None, side: 280, strokes: vec![Stroke { size: 20.0, points: vec![[40.0, 40.0], [200.0, 40.0], [120.0, 220.0]] }] };
        assert_eq!(sure.clone().for_drawing(&tap).certainty, Certainty::Blot);
        assert_eq!(sure.clone().for_drawing(&shape), sure, "a shape keeps its verdict");
    }

    #[test]
    fn temperature_scaling_fixes_overconfidence() {
        let (logits, labels) = overconfident(1000);
        let c = Calibration::fit(&logits, &labels);
        assert!(c.temperature > 1.5, "{}", c.temperature);
        assert!(nll(&logits, &labels, c.temperature) < nll(&logits, &labels, 1.0));
        assert!(ece(&logits, &labels, c.temperature) < 0.02, "{}", ece(&logits, &labels, c.temperature));
        assert!(ece(&logits, &labels, 1.0) > 0.25);
        // Calibrated, the top probability is about the 70 % it is right.
        let v = c.verdict(&logits[..NUM_CLASSES]);
        assert!((v.confidence - 0.7).abs() < 0.03, "{}", v.confidence);
    }

    #[test]
    fn flat_or_weak_logits_are_not_sure() {
        let c = Calibration { temperature: 1.0, min_confidence: 0.5, min_evidence: Some(3.0), images: 1 };
        let mut strong = vec![0.0; NUM_CLASSES];
        strong[3] = 9.0;
        assert_eq!(c.verdict(&strong).certainty, Certainty::Sure);
        assert_eq!(c.verdict(&strong).class, 3);
        let mut split = vec![0.0; NUM_CLASSES];
        (split[1], split[2]) = (5.0, 5.0);
        assert_eq!(c.verdict(&split).certainty, Certainty::LowConfidence);
        // All logits low: little evidence for anything, however peaked the softmax.
        let mut faint = vec![-9.0; NUM_CLASSES];
        faint[4] = 1.0;
        assert_eq!(c.verdict(&faint).certainty, Certainty::Unfamiliar);
    }

    #[test]
    fn a_model_file_without_calibration_reads_as_the_default() {
        assert_eq!(Calibration::from_meta(&serde_json::json!({})), Calibration::default());
        let bad = serde_json::json!({"calibration": {"temperature": -1.0, "min_confidence": 0.5, "min_evidence": null, "images": 3}});
        assert_eq!(Calibration::from_meta(&bad), Calibration::default());
    }
}
