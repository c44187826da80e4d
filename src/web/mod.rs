//! The browser face of the engine: a `Lab` class that a page, or the Web Worker that owns it,
//! drives from JavaScript. It converts types and nothing more: results are the engine's own
//! types (`TrainOutcome`, `PruneReport`, `CompactReport`, `SweepReport`…) as plain objects with
//! the same snake_case fields as the CLI's `--json`, and their TypeScript declarations are
//! generated from the Rust types (tsify) into `pkg/prunelab.d.ts`.
//!
//! Rules of the face:
//! - Long calls return Promises and yield to the event loop between batches, so progress
//!   callbacks run and `cancel()` gets through.
//! - One long call at a time: a second one while one runs is refused (not queued), and
//!   `classify` keeps working meanwhile.
//! - A failed call rejects with an `Error` that has a stable `kind` (and `file` for a data
//!   error), and leaves the Lab as it was: state changes only when a call succeeds.

mod backend;
mod js;
mod session;
mod types;

use std::borrow::Cow;
use std::rc::Rc;

use js_sys::{Float32Array, Promise};
use wasm_bindgen::prelude::*;

pub use backend::{Adapter, Backend, BackendChoice, BackendInfo, Speeds, adapter, auto, faster, wants_webgpu};
pub use js::LabError;
use js::{Callback, promise, report_panics, required, to_js, yield_now};
use session::{Inner, WebObserver};
use types::*;

use crate::confidence::{self, Calibration};
use crate::data::{CLASS_NAMES, Dataset, FashionMnist, IMAGE_PIXELS, to_unit_floats};
use crate::drawing::Drawing;
use crate::model::file::{self, Precision};
use crate::model::{Arch, Model};
use crate::prune::finetune::{finetune, finetune_config};
use crate::prune::reconstruct::reconstruct;
use crate::prune::{self, Method, PruneReport, Sparsity, measure_compaction};
use crate::sweep::{self, SweepConfig, SweepPoint};
use crate::train::{self, TrainError};

/// What the synchronous calls return; the error becomes a thrown JS `Error`.
type JsResult = Result<JsValue, LabError>;

/// The allocator, counting what it hands out (`Lab.memoryUse`).
#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The threaded bundle's `initThreadPool(n)`: the page's worker starts n Web Workers for flex's
/// rayon pool before it creates a Lab (www/worker.js).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// The lab: a dataset, a trained model, its current pruning, on one device.
#[wasm_bindgen]
pub struct Lab {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Lab {
    /// Creates a lab on WebGPU when the browser offers a real GPU (or as asked), else on the
    /// CPU; `backend()` says which and why.
    #[wasm_bindgen(unchecked_return_type = "Promise<Lab>")]
    pub fn create(#[wasm_bindgen(unchecked_param_type = "LabOptions | undefined")] options: JsValue) -> Promise {
        promise(async move { Ok(Lab::open(options).await?.into()) })
    }

    /// Whether the options need the WebGPU bundle (pkg-webgpu/): for `webgpu`, and for `auto`
    /// when the adapter is a real GPU that an earlier visit did not find slower than the CPU.
    #[wasm_bindgen(js_name = needsWebgpu, unchecked_return_type = "Promise<boolean>")]
    pub fn needs_webgpu(#[wasm_bindgen(unchecked_param_type = "LabOptions | undefined")] options: JsValue) -> Promise {
        promise(async move {
            let opts: LabOptions = js::options(options)?;
            let found = match opts.backend {
                BackendChoice::Auto => backend::adapter().await,
                _ => Err(LabError::NoWebGpu("not asked".into())),
            };
            Ok(backend::wants_webgpu(opts.backend, &found, opts.measured.as_ref()).into())
        })
    }

    /// MLP training speed on this bundle's CPU backend, in samples/s (about a second): the
    /// worker passes the threaded bundle's figure to `auto` as `cpuSpeed`.
    #[wasm_bindgen(js_name = cpuSpeed, unchecked_return_type = "Promise<number>")]
    pub fn cpu_speed() -> Promise {
        promise(async move { Ok(backend::cpu_speed().await?.into()) })
    }

    /// Which backend this lab runs on, and why.
    #[wasm_bindgen(unchecked_return_type = "BackendInfo")]
    pub fn backend(&self) -> JsResult {
        to_js(&self.inner.backend)
    }

    /// The 10 Fashion-MNIST class names, in label order.
    #[wasm_bindgen(js_name = classNames)]
    pub fn class_names() -> Vec<String> {
        CLASS_NAMES.iter().map(|s| s.to_string()).collect()
    }

    /// The report's published numbers and sparsities, to overlay on a sweep chart.
    #[wasm_bindgen(js_name = reportNumbers, unchecked_return_type = "ReportNumbers")]
    pub fn report_numbers() -> JsResult {
        to_js(&ReportNumbers {
            weight: sweep::REPORT_WEIGHT_POINTS.to_vec(),
            neuron: sweep::REPORT_NEURON_POINTS.to_vec(),
            pearson_weight: sweep::REPORT_PEARSON_WEIGHT,
            pearson_neuron: sweep::REPORT_PEARSON_NEURON,
            sparsities: sweep::REPORT_SPARSITIES.to_vec(),
        })
    }

    /// Parses the four Fashion-MNIST files (gzip or raw IDX bytes). The dataset is replaced only
    /// when all four parse.
    #[wasm_bindgen(js_name = loadDataset, unchecked_return_type = "DatasetInfo")]
    pub fn load_dataset(&self, #[wasm_bindgen(unchecked_param_type = "DatasetFiles")] files: JsValue) -> JsResult {
        let _busy = self.inner.begin("loading data")?;
        let f: DatasetFiles = required(files, "the four dataset files")?;
        let data = FashionMnist::from_bytes(&f.train_images, &f.train_labels, &f.test_images, &f.test_labels)?;
        let info = DatasetInfo { train: data.train.len(), test: data.test.len() };
        self.inner.state.borrow_mut().data = Some(Rc::new(data));
        to_js(&info)
    }

    /// Trains a fresh MLP or CNN on the loaded data and evaluates it on the test set. Calls
    /// `onProgress` after every batch and epoch. A cancelled or diverged run keeps the previous
    /// model.
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainOutcome>")]
    pub fn train(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrainOptions")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("training")?;
            let o: TrainOptions = required(options, "training options (at least the model: \"mlp\" or \"cnn\")")?;
            let data = inner.data()?;
            let cfg = o.config();
            // Copies only the images it uses: the whole training set is 47 MB, and a copy of it
            // per call is a large transient buffer in a wasm memory that never shrinks.
            let held = o.validation.unwrap_or(0).min(data.train.len());
            let held_out = data.train.take(held);
            let train_set = part(&data.train, held, o.limit)?;
            let mut obs = WebObserver::new(&inner, Callback::new(on_progress));
            let test = o.evaluate.unwrap_or(true).then_some(&data.test);
            let (model, outcome) = train::train(&Arch::report(o.model), cfg, &train_set, None, test, &inner.device, &mut obs).await?;
            if let Some(model) = model {
                let calibration = match held_out.is_empty() {
                    true => Calibration::default(),
                    false => confidence::calibrate(&model, &held_out, &inner.device).await?.calibration,
                };
                inner.set_dense(model.to_weights().await?, model, calibration);
            }
            to_js(&outcome)
        })
    }

    /// Asks the running call (training, fine-tuning, sweep) to stop after its current batch.
    pub fn cancel(&self) {
        self.inner.cancel.set(true);
    }

    /// Evaluates the model in use on the test set.
    #[wasm_bindgen(unchecked_return_type = "Promise<Evaluation>")]
    pub fn evaluate(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("evaluating")?;
            let model = inner.model("evaluating")?;
            to_js(&train::evaluate(&model, &inner.data()?.test, 1000, &inner.device).await?)
        })
    }

    /// Zeroes the smallest `k` % of the hidden kernels' weights of the dense model (with
    /// `options.reconstruct`, chosen and compensated layer by layer; `onProgress` hears each
    /// step of that, and `cancel()` stops it, keeping the model as it was).
    #[wasm_bindgen(js_name = pruneWeights, unchecked_return_type = "Promise<PruneReport>")]
    pub fn prune_weights(
        &self,
        k: f64,
        #[wasm_bindgen(unchecked_param_type = "PruneOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        self.prune_with(Method::Weight, k, options, on_progress)
    }

    /// Removes the `k` % of units (or filters) with the smallest incoming norm, per hidden layer
    /// (with `options.reconstruct`, as `pruneWeights` says).
    #[wasm_bindgen(js_name = pruneNeurons, unchecked_return_type = "Promise<PruneReport>")]
    pub fn prune_neurons(
        &self,
        k: f64,
        #[wasm_bindgen(unchecked_param_type = "PruneOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        self.prune_with(Method::Neuron, k, options, on_progress)
    }

    /// What weight pruning the dense model at `k` % (with `options.scope`) would remove, per
    /// hidden layer: |w| histograms split into kept and removed, thresholds and counts. Quick
    /// enough to call as a slider moves; changes nothing.
    #[wasm_bindgen(js_name = weightHistogram, unchecked_return_type = "WeightHistogram")]
    pub fn weight_histogram(&self, k: f64, #[wasm_bindgen(unchecked_param_type = "PruneOptions | undefined")] options: JsValue) -> JsResult {
        let sparsity = Sparsity::new(k)?;
        let o: PruneOptions = js::options(options)?;
        let dense = self.inner.dense("drawing the weight histogram")?;
        to_js(&prune::weight_histogram(&dense, sparsity, o.scope.unwrap_or_default(), self.inner.curves().as_deref())?)
    }

    /// What pruning the dense model at `k` % would do to `images` (784 values in [0, 1] per
    /// image, concatenated): the dense and the pruned network's answers side by side. Nothing
    /// is kept; for a live preview as a slider moves.
    #[wasm_bindgen(unchecked_return_type = "Promise<Preview>")]
    pub fn preview(
        &self,
        k: f64,
        #[wasm_bindgen(unchecked_param_type = "PreviewOptions")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] images: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let sparsity = Sparsity::new(k)?;
            let o: PreviewOptions = required(options, "preview options (at least the method)")?;
            if !(images.is_instance_of::<Float32Array>() || js_sys::Array::is_array(&images)) {
                return Err(TrainError::BadImage("not an array of numbers".into()).into());
            }
            let dense = inner.dense("previewing a pruning")?;
            to_js(&prune::preview(&dense, o.spec(sparsity), inner.curves().as_deref(), &Float32Array::new(&images).to_vec(), &inner.device).await?)
        })
    }

    /// The first layer's `maxUnits` strongest units as small images of their incoming weights,
    /// with what the current pruning removed, and (MLP) how many weights survive from each
    /// input pixel.
    #[wasm_bindgen(js_name = firstLayer, unchecked_return_type = "FirstLayer")]
    pub fn first_layer(&self, #[wasm_bindgen(js_name = maxUnits)] max_units: usize) -> JsResult {
        let dense = self.inner.dense("showing the first layer")?;
        let pruning = self.inner.state.borrow().pruning.clone();
        to_js(&prune::first_layer(&dense, pruning.as_ref().map(|p| &p.weights), max_units))
    }

    /// Trains the pruned model for `epochs` epochs; pruned weights stay zero.
    #[wasm_bindgen(js_name = fineTune, unchecked_return_type = "Promise<PruneReport>")]
    pub fn fine_tune(
        &self,
        epochs: usize,
        #[wasm_bindgen(unchecked_param_type = "FineTuneOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("fine-tuning")?;
            let o: FineTuneOptions = js::options(options)?;
            let pruning = inner.pruning("fine-tuning")?;
            let data = inner.data()?;
            let cfg = finetune_config(pruning.weights.arch.kind(), epochs, pruning.spec.sparsity).with(o.lr, o.batch_size, None);
            let mut obs = WebObserver::new(&inner, Callback::new(on_progress));
            let train_set = part(&data.train, 0, o.limit)?;
            let Some(tuned) = finetune(&pruning, &train_set, cfg, &inner.device, &mut obs).await? else {
                return Err(LabError::Cancelled("fine-tuning"));
            };
            let report = PruneReport::new(&tuned, Some(&data.test), &inner.device).await?;
            inner.set_pruning(tuned)?;
            to_js(&report)
        })
    }

    /// Prunes the dense model at each sparsity for each method (each point from the same dense
    /// weights) and evaluates it; `onPoint(point)` hears each point as it is done. The model in
    /// use does not change.
    #[wasm_bindgen(unchecked_return_type = "Promise<SweepReport>")]
    pub fn sweep(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SweepOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onPoint, unchecked_param_type = "((p: SweepPoint) => void) | undefined")] on_point: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("sweeping")?;
            let o: SweepOptions = js::options(options)?;
            let defaults = SweepConfig::default();
            let config = SweepConfig {
                sparsities: o.sparsities()?.unwrap_or(defaults.sparsities),
                methods: o.methods.unwrap_or(defaults.methods),
                scopes: o.scopes.unwrap_or(defaults.scopes),
                variant: o.variant.unwrap_or_default(),
                connected: o.connected.unwrap_or(false),
                finetune_epochs: o.finetune_epochs.unwrap_or(0),
                reconstruct: o.reconstruct,
            };
            let (dense, data) = (inner.dense("sweeping")?, inner.data()?);
            let on_point = Callback::new(on_point);
            let mut obs = WebObserver::new(&inner, Callback::new(on_progress));
            let report = sweep::sweep(&dense, Some(&data.train), &data.test, inner.curves().as_deref(), &config, &inner.device, &mut obs, |p: &SweepPoint| on_point.call(None, p)).await?;
            to_js(&report)
        })
    }

    /// Prunes each hidden layer of the dense model alone at each sparsity, then finds a greedy
    /// path through the layers' sparsities, on the first `options.images` training images
    /// (never the test set); `onPoint(point)` hears each measurement. The lab keeps the result
    /// for the sensitivity scope until the dense model changes.
    #[wasm_bindgen(unchecked_return_type = "Promise<Sensitivity>")]
    pub fn sensitivity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SensitivityOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onPoint, unchecked_param_type = "((p: SensitivityPoint) => void) | undefined")] on_point: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("measuring sensitivity")?;
            let o: SensitivityOptions = js::options(options)?;
            let (dense, data) = (inner.dense("measuring sensitivity")?, inner.data()?);
            let images = part(&data.train, 0, Some(o.images.unwrap_or(prune::sensitivity::DEFAULT_IMAGES)))?;
            let on_point = Callback::new(on_point);
            let mut obs = WebObserver::new(&inner, Callback::new(JsValue::UNDEFINED));
            let Some(curves) = prune::sensitivity(&dense, &images, &inner.device, &mut obs, |p| on_point.call(None, p)).await? else {
                return Err(LabError::Cancelled("measuring sensitivity"));
            };
            // Only if the dense model is still the one measured.
            let mut s = inner.state.borrow_mut();
            if s.dense.as_ref().is_some_and(|d| Rc::ptr_eq(d, &dense)) {
                s.sensitivity = Some(Rc::new(curves.clone()));
            }
            to_js(&curves)
        })
    }

    /// Returns to the dense (trained or imported) model.
    #[wasm_bindgen(unchecked_return_type = "LabInfo")]
    pub fn reset(&self) -> JsResult {
        let _busy = self.inner.begin("resetting")?;
        self.inner.reset()?;
        to_js(&self.inner.info())
    }

    /// Rebuilds the pruned model without its removed units (a smaller dense network with equal
    /// outputs), uses it from now on, and measures its size and latency against the uncompacted
    /// one.
    #[wasm_bindgen(unchecked_return_type = "Promise<CompactReport>")]
    pub fn compact(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("compacting")?;
            let pruning = inner.pruning("compacting")?;
            let (small, report) = measure_compaction(&pruning.weights, &timing_images(&inner)?, 3, &inner.device, async || yield_now().await).await?;
            inner.set_compacted(&small.weights)?;
            to_js(&report)
        })
    }

    /// The verdict on a 28×28 image (784 values in [0, 1], light garment on a dark background,
    /// row by row): calibrated probabilities, the class, and whether the model is sure. Works
    /// while other calls run.
    #[wasm_bindgen(unchecked_return_type = "Promise<Verdict>")]
    pub fn classify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ClassifyOptions | undefined")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let o: ClassifyOptions = js::options(options)?;
            if !(pixels.is_instance_of::<Float32Array>() || js_sys::Array::is_array(&pixels)) {
                return Err(TrainError::BadImage("not an array of numbers".into()).into());
            }
            to_js(&inner.verdict(o.model.unwrap_or_default(), &Float32Array::new(&pixels).to_vec()).await?)
        })
    }

    /// What the network sees for a drawing (the pad's painted pixels, or else its strokes
    /// painted by the engine): 784 bytes, or `undefined` for an empty drawing. The same
    /// conversion as the CLI's `eval --drawings`.
    #[wasm_bindgen(js_name = drawingInput, unchecked_return_type = "Uint8Array | undefined")]
    pub fn drawing_input(#[wasm_bindgen(unchecked_param_type = "Drawing")] drawing: JsValue) -> JsResult {
        Ok(match read_drawing(drawing)?.to_input() {
            Some(input) => js_sys::Uint8Array::from(input.as_slice()).into(),
            None => JsValue::UNDEFINED,
        })
    }

    /// Converts a drawing and classifies it: `undefined` for an empty drawing.
    #[wasm_bindgen(js_name = classifyDrawing, unchecked_return_type = "Promise<DrawingVerdict | undefined>")]
    pub fn classify_drawing(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Drawing")] drawing: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ClassifyOptions | undefined")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let o: ClassifyOptions = js::options(options)?;
            let drawing = read_drawing(drawing)?;
            let Some(input) = drawing.to_input() else {
                return Ok(JsValue::UNDEFINED);
            };
            let verdict = inner.verdict(o.model.unwrap_or_default(), &to_unit_floats(&input)).await?.for_drawing(&drawing);
            to_js(&DrawingVerdict { input: input.to_vec(), verdict })
        })
    }

    /// A test image (784 bytes, 0 = background) with its label.
    #[wasm_bindgen(js_name = testImage, unchecked_return_type = "TestImage")]
    pub fn test_image(&self, index: usize) -> JsResult {
        let data = self.inner.data()?;
        if index >= data.test.len() {
            return Err(LabError::Options(format!("test image {index} does not exist (there are {})", data.test.len())));
        }
        let label = data.test.label(index);
        to_js(&TestImage { pixels: data.test.image(index).to_vec(), label, class_name: CLASS_NAMES[label as usize].into() })
    }

    /// The labels of the whole test set, in order (to compare with `evaluate().predictions`).
    #[wasm_bindgen(js_name = testLabels)]
    pub fn test_labels(&self) -> Result<Vec<u8>, LabError> {
        Ok(self.inner.data()?.test.labels().to_vec())
    }

    /// The first `per_class` test images of each class.
    #[wasm_bindgen(js_name = sampleImages, unchecked_return_type = "SampleImages")]
    pub fn sample_images(&self, per_class: usize) -> JsResult {
        let test = &self.inner.data()?.test;
        let indices: Vec<usize> = (0..CLASS_NAMES.len() as u8).flat_map(|c| (0..test.len()).filter(move |&i| test.label(i) == c).take(per_class)).collect();
        let pixels = indices.iter().flat_map(|&i| test.image(i).iter().copied()).collect();
        let labels = indices.iter().map(|&i| test.label(i)).collect();
        to_js(&SampleImages { indices, labels, pixels })
    }

    /// The first `max` test images whose entry in `predictions` (one class per test image, as
    /// in `evaluate().predictions`) is not their label.
    #[wasm_bindgen(unchecked_return_type = "PredictedImage[]")]
    pub fn misclassified(&self, predictions: &[u8], max: usize) -> JsResult {
        self.test_images_where(predictions, max, |label, predicted| label != predicted)
    }

    /// The first `max` test images of one confusion-matrix cell: true class `label`, predicted
    /// `predicted` (by `predictions`, as in `evaluate().predictions`).
    #[wasm_bindgen(js_name = cellImages, unchecked_return_type = "PredictedImage[]")]
    pub fn cell_images(&self, predictions: &[u8], label: u8, predicted: u8, max: usize) -> JsResult {
        self.test_images_where(predictions, max, |l, p| (l, p) == (label, predicted))
    }

    /// What the pruned network costs beside the same network compacted: FLOPs as run, through
    /// the non-zero weights and compacted; file sizes; latency per image of both, measured on
    /// 1,000 test images. Changes nothing (unpruned, the dense model is measured).
    #[wasm_bindgen(unchecked_return_type = "Promise<CompactReport>")]
    pub fn cost(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("measuring the cost")?;
            let weights = match inner.state.borrow().pruning.clone() {
                Some(p) => Rc::new(p.weights.clone()),
                None => inner.dense("measuring the cost")?,
            };
            let (_, report) = measure_compaction(&weights, &timing_images(&inner)?, 3, &inner.device, async || yield_now().await).await?;
            to_js(&report)
        })
    }

    /// A sweep's chart as SVG, as `prunelab sweep` draws it; `reportPoints` adds the report's
    /// published MLP numbers as hollow markers.
    #[wasm_bindgen(js_name = sweepSvg)]
    pub fn sweep_svg(
        #[wasm_bindgen(unchecked_param_type = "SweepReport")] report: JsValue,
        title: String,
        #[wasm_bindgen(js_name = reportPoints)] report_points: bool,
    ) -> Result<String, LabError> {
        let report: sweep::SweepReport = required(report, "the fields of a sweep report")?;
        let overlay: [(&str, &[(f64, f64)]); 2] = [("report: weight", &sweep::REPORT_WEIGHT_POINTS), ("report: neuron", &sweep::REPORT_NEURON_POINTS)];
        Ok(sweep::chart::svg(&report, &title, if report_points { &overlay } else { &[] }))
    }

    /// A sweep's points as CSV, as `prunelab sweep` writes sweep.csv.
    #[wasm_bindgen(js_name = sweepCsv)]
    pub fn sweep_csv(#[wasm_bindgen(unchecked_param_type = "SweepReport")] report: JsValue) -> Result<String, LabError> {
        let report: sweep::SweepReport = required(report, "the fields of a sweep report")?;
        Ok(report.csv())
    }

    /// The model in use as a `.plab` file (see `model::file`); `f16` halves its size, and a
    /// pruned model is stored sparse when that is smaller.
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self, f16: Option<bool>) -> Result<Vec<u8>, LabError> {
        let s = self.inner.state.borrow();
        let weights = match (&s.pruning, &s.dense) {
            (Some(p), _) => p.weights.clone(),
            (None, Some(d)) => d.as_ref().clone(),
            (None, None) => return Err(LabError::NoModel("exporting")),
        };
        let calibration = (s.calibration.images > 0).then_some(s.calibration);
        let meta = serde_json::json!({"pruned": s.pruning.as_ref().map(|p| p.spec), "calibration": calibration, "exported_by": "prunelab web"});
        let precision = if f16 == Some(true) { Precision::F16 } else { Precision::F32 };
        // A pruned model is stored sparse (a bitmask and its non-zeros) when that is smaller.
        Ok(file::encode_as(&weights, &meta, precision, file::Encoding::smallest(&weights, precision)))
    }

    /// Loads a `.plab` file as the dense model (what pruning starts from).
    #[wasm_bindgen(js_name = importModel, unchecked_return_type = "ModelInfo")]
    pub fn import_model(&self, bytes: &[u8]) -> JsResult {
        let _busy = self.inner.begin("importing a model")?;
        let f = file::decode(bytes)?;
        let model = Model::from_weights(&f.weights, &self.inner.device)?;
        self.inner.set_dense(f.weights, model, Calibration::from_meta(&f.meta));
        let mut info = self.inner.info().model.expect("a model was just set");
        info.meta = f.meta;
        to_js(&info)
    }

    /// Sets the second network `classify` can use (`{model: "drawings"}`): a `.plab` model
    /// trained for drawings, read through the calibration its file records. The model in use,
    /// and what pruning does, are unchanged.
    #[wasm_bindgen(js_name = setDrawingModel, unchecked_return_type = "ModelInfo")]
    pub fn set_drawing_model(&self, bytes: &[u8]) -> JsResult {
        let f = file::decode(bytes)?;
        let model = Model::from_weights(&f.weights, &self.inner.device)?;
        let calibration = Calibration::from_meta(&f.meta);
        let w = &f.weights;
        let info = ModelInfo {
            arch: w.arch.describe(),
            kind: w.arch.kind(),
            params: w.num_params(),
            nonzero_params: w.count_nonzero(),
            pruned: None,
            finetune_epochs: 0,
            calibration,
            meta: f.meta,
        };
        let out = to_js(&info)?;
        self.inner.state.borrow_mut().drawings = Some(session::DrawingModel { model: Rc::new(model), calibration, info });
        Ok(out)
    }

    /// The whole model state (dense weights, pruning, mask) as bytes for `restoreState`: how a
    /// page carries its work to a Lab on another backend.
    #[wasm_bindgen(js_name = saveState)]
    pub fn save_state(&self) -> Result<Vec<u8>, LabError> {
        self.inner.save()
    }

    /// Restores what `saveState` returned; a refused snapshot changes nothing.
    #[wasm_bindgen(js_name = restoreState, unchecked_return_type = "LabInfo")]
    pub fn restore_state(&self, bytes: &[u8]) -> JsResult {
        let _busy = self.inner.begin("restoring the lab's state")?;
        self.inner.restore(bytes)?;
        to_js(&self.inner.info())
    }

    /// What the lab holds: backend, dataset sizes, the model and its pruning.
    #[wasm_bindgen(unchecked_return_type = "LabInfo")]
    pub fn info(&self) -> JsResult {
        to_js(&self.inner.info())
    }

    /// What the engine holds now: its heap in the wasm memory, and on WebGPU the buffers burn's
    /// allocator reports. The wasm memory itself only grows (and steps up when the heap is
    /// fragmented), so a leak shows here rather than there.
    #[wasm_bindgen(js_name = memoryUse, unchecked_return_type = "MemoryUse")]
    pub fn memory_use(&self) -> JsResult {
        let device = self.inner.device.memory_pool_usage().map(|u| DeviceMemory {
            allocations: u.number_allocs,
            bytes_in_use: u.bytes_in_use,
            bytes_reserved: u.bytes_reserved,
        });
        to_js(&MemoryUse { heap_bytes: HEAP.allocated(), device })
    }

    /// Panics, as a bug in the engine would: for the tests of the page's crash recovery. The
    /// WebAssembly instance is unusable afterwards (the worker starts a new one). With `inPool`,
    /// the panic happens on a thread of the pool, where the threaded bundle has one.
    #[wasm_bindgen(js_name = panicForTest)]
    pub fn panic_for_test(&self, in_pool: Option<bool>) {
        let boom = || panic!("panicForTest was called: a deliberate panic, to test crash recovery");
        #[cfg(feature = "threads")]
        if in_pool == Some(true) {
            // Called from outside the pool, rayon runs the whole join on its threads.
            rayon::join(boom, || ());
        }
        let _ = in_pool;
        boom();
    }
}

impl Lab {
    /// The test images whose (label, prediction) pass `keep`, the first `max` of them.
    fn test_images_where(&self, predictions: &[u8], max: usize, keep: impl Fn(u8, u8) -> bool) -> JsResult {
        let test = &self.inner.data()?.test;
        if predictions.len() != test.len() {
            return Err(LabError::Options(format!("{} predictions for {} test images", predictions.len(), test.len())));
        }
        let picked: Vec<PredictedImage> = (0..test.len())
            .filter(|&i| keep(test.label(i), predictions[i]))
            .take(max)
            .map(|i| PredictedImage { index: i, label: test.label(i), predicted: predictions[i], pixels: test.image(i).to_vec() })
            .collect();
        to_js(&picked)
    }

    /// `Lab.create` for Rust callers (and the browser tests).
    pub async fn open(options: JsValue) -> Result<Lab, LabError> {
        report_panics();
        let opts: LabOptions = js::options(options)?;
        let (device, backend) = backend::pick(opts.backend, opts.measured, opts.cpu_speed).await?;
        Ok(Lab { inner: Rc::new(Inner::new(device, backend)) })
    }

    fn prune_with(&self, method: Method, k: f64, options: JsValue, on_progress: JsValue) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("pruning")?;
            let sparsity = Sparsity::new(k)?;
            let o: PruneOptions = js::options(options)?;
            let dense = inner.dense("pruning")?;
            let mut pruning = prune::prune(&dense, o.spec(method, sparsity), inner.curves().as_deref())?;
            if let Some(images) = o.reconstruct {
                let data = inner.data()?;
                let callback = Callback::new(on_progress);
                let mut obs = WebObserver::new(&inner, Callback::new(JsValue::UNDEFINED));
                let reconstructed = reconstruct(&dense, &pruning, &data.train, images, &mut obs, |p| callback.call(Some("reconstruct"), p)).await?;
                pruning = reconstructed.ok_or(LabError::Cancelled("pruning"))?;
            }
            let test = inner.state.borrow().data.clone();
            let report = PruneReport::new(&pruning, test.as_ref().map(|d| &d.test), &inner.device).await?;
            inner.set_pruning(pruning)?;
            to_js(&report)
        })
    }
}

/// Images to time networks on: real test images when there are some, else a fixed
/// pseudo-random batch.
fn timing_images(inner: &Inner) -> Result<Dataset, LabError> {
    Ok(match inner.state.borrow().data.clone() {
        Some(d) => d.test.take(1000),
        None => Dataset::new((0..1000 * IMAGE_PIXELS).map(|i| (i * 2654435761usize >> 7) as u8).collect(), vec![0; 1000])?,
    })
}

/// A drawing from JavaScript, checked.
fn read_drawing(value: JsValue) -> Result<Drawing, LabError> {
    let drawing: Drawing = required(value, "a drawing ({ side, strokes })").map_err(|e| LabError::BadDrawing(e.to_string()))?;
    drawing.validate().map_err(LabError::BadDrawing)?;
    Ok(drawing)
}

/// The items of `data` after the first `skip`, at most `limit` of them (all without a limit):
/// borrowed when that is all of it, else a copy of only those.
fn part(data: &Dataset, skip: usize, limit: Option<usize>) -> Result<Cow<'_, Dataset>, LabError> {
    if limit == Some(0) {
        return Err(LabError::Options("limit must be at least 1".into()));
    }
    let end = limit.map_or(data.len(), |n| skip.saturating_add(n).min(data.len()));
    Ok(if skip == 0 && end == data.len() { Cow::Borrowed(data) } else { Cow::Owned(data.slice(skip..end)) })
}
