//! What a Lab holds between calls (dataset, dense model, its pruning, the network in use) and
//! the rules of its calls: one long call at a time, cancellation, state changed only on success.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::{Duration, Instant};

use super::backend::BackendInfo;
use super::js::{Callback, LabError, yield_now};
use super::types::{Classifier, DatasetInfo, LabInfo, ModelInfo};
use crate::confidence::{Calibration, Verdict};
use crate::data::FashionMnist;
use crate::model::file::{Snapshot, decode_snapshot, encode_snapshot};
use crate::model::{Model, Weights};
use crate::prune::{Gradual, PruneSpec, Pruning, Sensitivity, compact};
use crate::train::{self, BatchProgress, EpochSummary, Observer};

#[derive(Default)]
pub struct State {
    pub data: Option<Rc<FashionMnist>>,
    /// The trained or imported weights: what pruning starts from and `reset` returns to.
    pub dense: Option<Rc<Weights>>,
    /// How to read the dense model's logits; pruning keeps it (README, drawings).
    pub calibration: Calibration,
    /// The current pruning of `dense`, if any.
    pub pruning: Option<Rc<Pruning>>,
    /// Whether the network in use is the pruning compacted.
    pub compacted: bool,
    /// The network in use (the pruned one when there is one), ready for inference.
    pub model: Option<Rc<Model>>,
    /// The dense model, ready for inference, to compare with the pruned one.
    pub dense_model: Option<Rc<Model>>,
    /// A second network for the pad, trained for drawings, with its weights' facts.
    pub drawings: Option<DrawingModel>,
    /// The dense model's per-layer sensitivity, once measured (the sensitivity scope needs it).
    pub sensitivity: Option<Rc<Sensitivity>>,
}

/// The model `classify` uses when asked for the drawing model.
pub struct DrawingModel {
    pub model: Rc<Model>,
    pub calibration: Calibration,
    pub info: ModelInfo,
}

pub struct Inner {
    pub device: Device,
    pub backend: BackendInfo,
    pub state: RefCell<State>,
    pub cancel: Cell<bool>,
    busy: Cell<Option<&'static str>>,
}

/// Marks the Lab busy until dropped, even when the call fails.
pub struct BusyGuard<'a>(&'a Inner);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.busy.set(None);
        // Between jobs, give back the device pages the job's buffers left free: burn's pools
        // keep them for reuse, and on WebGPU their reserve crept up job after job (tests/web.rs).
        self.0.device.memory_cleanup();
    }
}

/// What a snapshot records beside its weights and mask.
#[derive(Serialize, Deserialize)]
struct SnapshotMeta {
    pruning: Option<PruningMeta>,
    calibration: Calibration,
    #[serde(default)]
    sensitivity: Option<Sensitivity>,
}

/// The parts of a [`Pruning`] a snapshot records beside its weights and mask.
#[derive(Serialize, Deserialize)]
struct PruningMeta {
    spec: PruneSpec,
    finetune_epochs: usize,
    gradual: Option<Gradual>,
    #[serde(default)]
    calibration_images: Option<usize>,
    prune_ms: f64,
    finetune_ms: f64,
    compacted: bool,
}

impl Inner {
    pub fn new(device: Device, backend: BackendInfo) -> Self {
        Inner { device, backend, state: RefCell::default(), cancel: Cell::new(false), busy: Cell::new(None) }
    }

    /// Starts a long call: refused while another runs.
    pub fn begin(&self, what: &'static str) -> Result<BusyGuard<'_>, LabError> {
        if let Some(doing) = self.busy.get() {
            return Err(LabError::Busy(doing));
        }
        self.busy.set(Some(what));
        self.cancel.set(false);
        Ok(BusyGuard(self))
    }

    pub fn data(&self) -> Result<Rc<FashionMnist>, LabError> {
        self.state.borrow().data.clone().ok_or(LabError::NoData)
    }

    pub fn dense(&self, doing: &'static str) -> Result<Rc<Weights>, LabError> {
        self.state.borrow().dense.clone().ok_or(LabError::NoModel(doing))
    }

    /// The dense model's sensitivity curves, if measured.
    pub fn curves(&self) -> Option<Rc<Sensitivity>> {
        self.state.borrow().sensitivity.clone()
    }

    pub fn pruning(&self, doing: &'static str) -> Result<Rc<Pruning>, LabError> {
        self.state.borrow().pruning.clone().ok_or(LabError::NotPruned(doing))
    }

    pub fn model(&self, doing: &'static str) -> Result<Rc<Model>, LabError> {
        self.state.borrow().model.clone().ok_or(LabError::NoModel(doing))
    }

    /// Makes `weights` the dense model, unpruned.
    pub fn set_dense(&self, weights: Weights, model: Model, calibration: Calibration) {
        let mut s = self.state.borrow_mut();
        s.dense = Some(Rc::new(weights));
        s.sensitivity = None;
        s.calibration = calibration;
        s.pruning = None;
        s.compacted = false;
        let model = Rc::new(model);
        s.dense_model = Some(model.clone());
        s.model = Some(model);
    }

    /// Makes `pruning` the network in use; the dense weights stay for `reset`.
    pub fn set_pruning(&self, pruning: Pruning) -> Result<(), LabError> {
        let model = Model::from_weights(&pruning.weights, &self.device)?;
        let mut s = self.state.borrow_mut();
        s.pruning = Some(Rc::new(pruning));
        s.compacted = false;
        s.model = Some(Rc::new(model));
        Ok(())
    }

    /// Uses the compacted form of the current pruning (same outputs, fewer units).
    pub fn set_compacted(&self, small: &Weights) -> Result<(), LabError> {
        let model = Model::from_weights(small, &self.device)?;
        let mut s = self.state.borrow_mut();
        s.compacted = true;
        s.model = Some(Rc::new(model));
        Ok(())
    }

    /// The verdict of `which` network on 784 values in [0, 1], read through its calibration
    /// (the dense model's, for the network in use).
    pub async fn verdict(&self, which: Classifier, pixels: &[f32]) -> Result<Verdict, LabError> {
        let (model, calibration) = match which {
            Classifier::InUse => (self.model("classifying")?, self.state.borrow().calibration),
            Classifier::Dense => {
                let s = self.state.borrow();
                (s.dense_model.clone().ok_or(LabError::NoModel("classifying"))?, s.calibration)
            }
            Classifier::Drawings => {
                let s = self.state.borrow();
                let d = s.drawings.as_ref().ok_or(LabError::NoModel("classifying with the drawing model (setDrawingModel)"))?;
                (d.model.clone(), d.calibration)
            }
        };
        Ok(calibration.verdict(&train::logits_of(&model, pixels, &self.device).await?))
    }

    /// Back to the dense model.
    pub fn reset(&self) -> Result<(), LabError> {
        let mut s = self.state.borrow_mut();
        let model = s.dense_model.clone().ok_or(LabError::NoModel("resetting"))?;
        s.pruning = None;
        s.compacted = false;
        s.model = Some(model);
        Ok(())
    }

    pub fn info(&self) -> LabInfo {
        let s = self.state.borrow();
        let model = s.dense.as_ref().map(|d| ModelInfo {
            arch: d.arch.describe(),
            kind: d.arch.kind(),
            params: d.num_params(),
            nonzero_params: s.pruning.as_ref().map_or_else(|| d.count_nonzero(), |p| p.weights.count_nonzero()),
            pruned: s.pruning.as_ref().map(|p| p.spec),
            finetune_epochs: s.pruning.as_ref().map_or(0, |p| p.finetune_epochs),
            calibration: s.calibration,
            meta: serde_json::Value::Null,
        });
        LabInfo {
            backend: self.backend.clone(),
            data: s.data.as_ref().map(|d| DatasetInfo { train: d.train.len(), test: d.test.len() }),
            model,
            in_use: s.model.as_ref().map(|m| m.arch().describe()),
            drawing_model: s.drawings.as_ref().map(|d| d.info.clone()),
            busy: self.busy.get().map(String::from),
            sensitivity_images: s.sensitivity.as_ref().map(|c| c.images),
        }
    }

    /// The dense weights, the pruning and its mask, as bytes another Lab can restore.
    pub fn save(&self) -> Result<Vec<u8>, LabError> {
        let s = self.state.borrow();
        let dense = s.dense.as_ref().ok_or(LabError::NoModel("saving the lab's state"))?;
        let pruning = s.pruning.as_ref().map(|p| PruningMeta {
            spec: p.spec,
            finetune_epochs: p.finetune_epochs,
            gradual: p.gradual,
            calibration_images: p.calibration_images,
            prune_ms: p.prune_ms,
            finetune_ms: p.finetune_ms,
            compacted: s.compacted,
        });
        let pruned = s.pruning.as_ref().map(|p| (p.weights.clone(), p.mask.clone()));
        let meta = serde_json::to_value(SnapshotMeta { pruning, calibration: s.calibration, sensitivity: s.sensitivity.as_deref().cloned() }).expect("plain data");
        Ok(encode_snapshot(&Snapshot { dense: dense.as_ref().clone(), pruned, meta }))
    }

    /// Restores what [`Inner::save`] wrote; nothing changes when the bytes are refused.
    pub fn restore(&self, bytes: &[u8]) -> Result<(), LabError> {
        let snap = decode_snapshot(bytes)?;
        let meta: SnapshotMeta = serde_json::from_value(snap.meta).map_err(|e| LabError::Options(format!("lab snapshot: {e}")))?;
        let pruning = match (snap.pruned, meta.pruning) {
            (None, _) => None,
            (Some(_), None) => return Err(LabError::Options("lab snapshot: pruned weights without their pruning".into())),
            (Some((weights, mask)), Some(m)) => {
                let p = Pruning { spec: m.spec, weights, mask, finetune_epochs: m.finetune_epochs, gradual: m.gradual, calibration_images: m.calibration_images, prune_ms: m.prune_ms, finetune_ms: m.finetune_ms };
                Some((p, m.compacted))
            }
        };
        let dense_model = Model::from_weights(&snap.dense, &self.device)?;
        let small = pruning.as_ref().filter(|(_, c)| *c).map(|(p, _)| compact(&p.weights).weights);
        let curves = meta.sensitivity.filter(|c| c.check(&snap.dense).is_ok()).map(Rc::new);
        self.set_dense(snap.dense, dense_model, meta.calibration);
        self.state.borrow_mut().sensitivity = curves;
        if let Some((p, _)) = pruning {
            self.set_pruning(p)?;
        }
        if let Some(small) = small {
            self.set_compacted(&small)?;
        }
        Ok(())
    }
}

/// Hears training progress on behalf of a JS callback, and yields to the event loop.
pub struct WebObserver<'a> {
    inner: &'a Inner,
    callback: Callback,
    last_yield: Instant,
}

impl<'a> WebObserver<'a> {
    pub fn new(inner: &'a Inner, callback: Callback) -> Self {
        Self { inner, callback, last_yield: Instant::now() }
    }
}

impl Observer for WebObserver<'_> {
    fn on_batch(&mut self, progress: &BatchProgress) {
        self.callback.call(Some("batch"), progress);
    }
    fn on_epoch(&mut self, summary: &EpochSummary) {
        self.callback.call(Some("epoch"), summary);
    }
    fn cancelled(&self) -> bool {
        self.inner.cancel.get()
    }
    fn pause(&mut self) -> impl Future<Output = ()> {
        async move {
            // Yield every ~30 ms: often enough for a responsive page, rarely enough that
            // setTimeout's clamping costs little.
            if self.last_yield.elapsed() >= Duration::from_millis(30) {
                yield_now().await;
                self.last_yield = Instant::now();
            }
        }
    }
}
