//! What the Lab takes from JavaScript beyond the options (`crate::options`, re-exported here):
//! the dataset's files; and the few results that are the Lab's own rather than the engine's
//! (snake_case like every result). tsify writes each into `pkg/prunelab.d.ts`.

use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use super::backend::BackendInfo;
use crate::confidence::{Calibration, Verdict};
use crate::model::ModelKind;
pub use crate::options::{FineTuneOptions, LabOptions, PreviewOptions, PruneOptions, SensitivityOptions, SweepOptions, TrainOptions};
use crate::prune::PruneSpec;

// Callbacks receive the engine's progress records with a `type` added.
#[wasm_bindgen(typescript_custom_section)]
const PROGRESS: &'static str = r#"
export type Progress = ({ type: "batch" } & BatchProgress) | ({ type: "epoch" } & EpochSummary) | ({ type: "reconstruct" } & ReconstructProgress);
"#;

/// The four Fashion-MNIST files, gzipped or raw IDX.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatasetFiles {
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub train_images: Vec<u8>,
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub train_labels: Vec<u8>,
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub test_images: Vec<u8>,
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub test_labels: Vec<u8>,
}

/// What the engine holds in memory (`Lab.memoryUse`): what a leak would make climb.
#[derive(Serialize, Tsify)]
pub struct MemoryUse {
    /// Bytes the engine holds on its heap, in the wasm memory.
    pub heap_bytes: usize,
    /// The device allocator as burn reports it (WebGPU); none on the CPU backend.
    pub device: Option<DeviceMemory>,
}

#[derive(Serialize, Tsify)]
pub struct DeviceMemory {
    /// Live buffers (slices of the allocator's pages).
    pub allocations: u64,
    pub bytes_in_use: u64,
    /// In use, plus the pages kept for reuse.
    pub bytes_reserved: u64,
}

#[derive(Serialize, Tsify)]
pub struct DatasetInfo {
    pub train: usize,
    pub test: usize,
}

/// The model a Lab holds: the dense one pruning starts from, and its current pruning.
#[derive(Clone, Serialize, Tsify)]
pub struct ModelInfo {
    pub arch: String,
    pub kind: ModelKind,
    pub params: usize,
    /// Of the network in use.
    pub nonzero_params: usize,
    pub pruned: Option<PruneSpec>,
    pub finetune_epochs: usize,
    /// How the pad reads this model's logits (fitted when `calibration.images` > 0).
    pub calibration: Calibration,
    #[tsify(type = "unknown")]
    pub meta: serde_json::Value,
}

#[derive(Serialize, Tsify)]
pub struct LabInfo {
    pub backend: BackendInfo,
    pub data: Option<DatasetInfo>,
    pub model: Option<ModelInfo>,
    /// The network in use, which differs from `model.arch` after `compact`.
    pub in_use: Option<String>,
    /// The model for drawings (`setDrawingModel`), if one is set.
    pub drawing_model: Option<ModelInfo>,
    /// What the running long call is doing, if one runs.
    pub busy: Option<String>,
    /// Images the dense model's sensitivity was measured on, if it was (the sensitivity scope
    /// needs it).
    pub sensitivity_images: Option<usize>,
}

/// The report's published numbers, to overlay on a sweep chart.
#[derive(Serialize, Tsify)]
pub struct ReportNumbers {
    /// (sparsity %, accuracy 0..1).
    pub weight: Vec<(f64, f64)>,
    pub neuron: Vec<(f64, f64)>,
    pub pearson_weight: f64,
    pub pearson_neuron: f64,
    /// The report's ten sparsities, in percent.
    pub sparsities: Vec<f64>,
}

#[derive(Serialize, Tsify)]
pub struct TestImage {
    /// 784 bytes, 0 = background.
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub pixels: Vec<u8>,
    pub label: u8,
    pub class_name: String,
}

#[derive(Serialize, Tsify)]
pub struct SampleImages {
    pub indices: Vec<usize>,
    pub labels: Vec<u8>,
    /// 784 bytes per image, concatenated.
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub pixels: Vec<u8>,
}

/// Which network answers `classify` and `classifyDrawing`.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, Tsify)]
#[serde(rename_all = "snake_case")]
pub enum Classifier {
    /// The network in use: trained, imported, pruned or compacted.
    #[default]
    InUse,
    /// The model set by `setDrawingModel`, trained for drawings (the page's pad default).
    Drawings,
    /// The trained or imported model before pruning, to compare with the pruned one.
    Dense,
}

#[derive(Deserialize, Default, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassifyOptions {
    #[tsify(optional)]
    pub model: Option<Classifier>,
}

/// What the network sees for a drawing, and what the pad says about it.
#[derive(Serialize, Tsify)]
pub struct DrawingVerdict {
    /// The 28×28 input, 784 bytes (0 = background).
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub input: Vec<u8>,
    pub verdict: Verdict,
}

/// A test image with its label and a prediction for it.
#[derive(Serialize, Tsify)]
pub struct PredictedImage {
    pub index: usize,
    pub label: u8,
    pub predicted: u8,
    #[serde(with = "serde_bytes")]
    #[tsify(type = "Uint8Array")]
    pub pixels: Vec<u8>,
}
