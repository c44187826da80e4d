//! The browser face of the engine: a `Lab` class that a page, or the Web Worker that owns it,
//! drives from JavaScript. It adds no machine learning of its own: every call is a thin wrapper
//! around `data`, `train`, `prune` and `sweep`.
//!
//! Rules of the face:
//! - Long calls return Promises and yield to the event loop between batches, so progress
//!   callbacks run and `cancel()` gets through.
//! - One long call at a time: a second one while one runs is refused (not queued), and
//!   `classify` keeps working meanwhile.
//! - A failed call rejects with an `Error` whose message a person understands, and leaves the
//!   Lab as it was: state changes only when a call succeeds.
//! - Results are plain objects (serde-wasm-bindgen) with the same snake_case fields as the
//!   CLI's `--json`; options are camelCase, as JavaScript callers expect.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Float32Array, Function, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_time::{Duration, Instant};

use crate::data::{CLASS_NAMES, DataError, Dataset, FashionMnist, IMAGE_PIXELS};
use crate::model::file::{self, Precision};
use crate::model::{Arch, Model, ModelError, ModelKind, Weights};
use crate::prune::finetune::{TuneError, finetune, finetune_config};
use crate::prune::{self, LayerStats, Mask, Method, PruneError, PruneSpec, Scope, SparseSizes, Sparsity, Variant};
use crate::sweep::{self, SweepConfig, SweepPoint};
use crate::train::{self, BatchProgress, EpochSummary, Evaluation, Observer, Recipe, TrainError, Trainer};

/// Everything a Lab call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("no dataset is loaded yet: load Fashion-MNIST first")]
    NoData,
    #[error("there is no model yet: train one or import a model file before {0}")]
    NoModel(&'static str),
    #[error("nothing is pruned yet: prune the model before {0}")]
    NotPruned(&'static str),
    #[error("the lab is busy {0}: wait for it to finish, or cancel it")]
    Busy(&'static str),
    #[error("invalid options: {0}")]
    Options(String),
    #[error("WebGPU is not available: {0}")]
    NoWebGpu(String),
    #[error("{0} was cancelled; nothing changed")]
    Cancelled(&'static str),
    #[error("JavaScript error: {0}")]
    Js(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Prune(#[from] PruneError),
    #[error(transparent)]
    Tune(#[from] TuneError),
}

impl From<LabError> for JsValue {
    fn from(e: LabError) -> JsValue {
        js_sys::Error::new(&e.to_string()).into()
    }
}

/// What the synchronous calls return; the error becomes a thrown JS `Error`.
type JsResult = Result<JsValue, LabError>;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export interface LabOptions { backend?: "auto" | "webgpu" | "cpu" }
export interface BackendInfo { backend: "webgpu" | "cpu"; reason: string; adapter?: string }
export interface DatasetFiles { trainImages: Uint8Array; trainLabels: Uint8Array; testImages: Uint8Array; testLabels: Uint8Array }
export interface DatasetInfo { train: number; test: number; class_names: string[] }
export interface TrainOptions { model: "mlp" | "cnn"; epochs?: number; batchSize?: number; lr?: number; limit?: number; recipe?: "default" | "report"; seed?: number; evaluate?: boolean }
export interface Evaluation { loss: number; accuracy: number; per_class_accuracy: number[]; confusion: number[][]; predictions?: number[]; seconds: number }
export interface TrainResult { arch: string; params: number; epochs: object[]; cancelled: boolean; evaluation?: Evaluation; seconds: number }
export interface PruneOptions { scope?: "global" | "layer" | "lamp"; connected?: boolean; variant?: "full" | "report" }
export interface PruneResult { spec: object; accuracy?: number; loss?: number; nonzero_params: number; total_params: number; prune_ms: number; eval_ms: number; layers: object[]; sparse_sizes: object }
export interface SweepOptions { methods?: ("weight" | "neuron")[]; sparsities?: number[]; finetuneEpochs?: number; scope?: "global" | "layer" | "lamp"; connected?: boolean; variant?: "full" | "report" }
export interface FineTuneOptions { lr?: number; batchSize?: number; limit?: number }
export type Progress = { type: "batch" | "epoch" } & Record<string, unknown>;
"#;

#[wasm_bindgen]
extern "C" {
    // Exists on both Window and WorkerGlobalScope.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
}

/// Lets the event loop run (a macrotask, so messages and paints get through).
async fn yield_now() {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, 0);
    });
    let _ = JsFuture::from(p).await;
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, LabError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| LabError::Js(e.to_string()))
}

/// Runs an engine future as a JS Promise that rejects with the error's message.
fn promise(f: impl Future<Output = Result<JsValue, LabError>> + 'static) -> Promise {
    future_to_promise(async move { f.await.map_err(JsValue::from) })
}

/// Options from JS; `undefined` or `null` means all defaults.
fn options<T: for<'de> Deserialize<'de> + Default>(value: JsValue) -> Result<T, LabError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| LabError::Options(e.to_string()))
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum BackendChoice {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LabOptions {
    #[serde(default)]
    backend: BackendChoice,
}

#[derive(Serialize, Clone)]
struct BackendInfo {
    backend: &'static str,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    adapter: Option<String>,
}

thread_local! {
    /// burn's wgpu runtime initialises once per page; later Labs reuse its device.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

fn set(obj: &JsValue, key: &str, value: &JsValue) -> Result<(), LabError> {
    Reflect::set(obj, &JsValue::from_str(key), value).map(|_| ()).map_err(|e| LabError::Js(format!("{e:?}")))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// What the browser's WebGPU adapter is.
struct Adapter {
    name: String,
    /// A software rasteriser (SwiftShader and the like): far slower than our CPU backend.
    fallback: bool,
}

/// Asks the browser for a WebGPU adapter, without starting burn on it.
async fn adapter() -> Result<Adapter, LabError> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err(LabError::NoWebGpu("this browser has no navigator.gpu".into()));
    }
    let request: Function = get(&gpu, "requestAdapter").dyn_into().map_err(|_| LabError::NoWebGpu("navigator.gpu.requestAdapter is missing".into()))?;
    let adapter = JsFuture::from(Promise::from(request.call0(&gpu).map_err(|e| LabError::NoWebGpu(format!("{e:?}")))?))
        .await
        .map_err(|e| LabError::NoWebGpu(format!("requestAdapter failed: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(LabError::NoWebGpu("the browser offers no GPU adapter (requestAdapter returned null)".into()));
    }
    let info = get(&adapter, "info");
    let name = ["vendor", "architecture", "description"]
        .iter()
        .filter_map(|k| get(&info, k).as_string().filter(|s| !s.is_empty()))
        .collect::<Vec<_>>()
        .join(" ");
    let fallback = [get(&info, "isFallbackAdapter"), get(&adapter, "isFallbackAdapter")].iter().any(|v| v.as_bool() == Some(true))
        || name.to_lowercase().contains("swiftshader");
    Ok(Adapter { name, fallback })
}

/// Starts burn-wgpu on the browser's adapter (once per page; later Labs share the device).
async fn webgpu() -> Result<Device, LabError> {
    if let Some(device) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options().init_async().await.map_err(|e| LabError::NoWebGpu(format!("burn-wgpu could not start: {e}")))?;
    WEBGPU.with(|w| *w.borrow_mut() = Some(device.clone()));
    Ok(device)
}

async fn pick_device(choice: BackendChoice) -> Result<(Device, BackendInfo), LabError> {
    let cpu = |reason: String| (Device::flex(), BackendInfo { backend: "cpu", reason, adapter: None });
    let gpu = |device, reason: &str, a: Adapter| (device, BackendInfo { backend: "webgpu", reason: reason.into(), adapter: Some(a.name) });
    match choice {
        BackendChoice::Cpu => Ok(cpu("the CPU backend (burn flex) was asked for".into())),
        BackendChoice::Webgpu => {
            let a = adapter().await?;
            Ok(gpu(webgpu().await?, "WebGPU was asked for", a))
        }
        BackendChoice::Auto => match adapter().await {
            Ok(a) if a.fallback => Ok(cpu(format!(
                "the only WebGPU adapter ({}) is a software fallback, slower than the CPU backend (burn flex); ask for WebGPU to use it anyway",
                a.name
            ))),
            Ok(a) => match webgpu().await {
                Ok(device) => Ok(gpu(device, "a WebGPU adapter is available", a)),
                Err(e) => Ok(cpu(format!("{e}; using the CPU backend (burn flex)"))),
            },
            Err(e) => Ok(cpu(format!("{e}; using the CPU backend (burn flex)"))),
        },
    }
}

/// The first `limit` items of `data` (all of it without a limit), borrowed when possible.
fn first(data: &Dataset, limit: Option<usize>) -> Result<std::borrow::Cow<'_, Dataset>, LabError> {
    match limit {
        Some(0) => Err(LabError::Options("limit must be at least 1".into())),
        Some(n) if n < data.len() => Ok(std::borrow::Cow::Owned(data.take(n))),
        _ => Ok(std::borrow::Cow::Borrowed(data)),
    }
}

/// The weights of a pruning and what it was.
struct Pruned {
    weights: Rc<Weights>,
    mask: Rc<Mask>,
    spec: PruneSpec,
    finetune_epochs: usize,
}

#[derive(Default)]
struct State {
    data: Option<Rc<FashionMnist>>,
    /// The trained or imported weights: what pruning starts from and `reset` returns to.
    dense: Option<Rc<Weights>>,
    /// The current pruning of `dense`, if any.
    pruned: Option<Pruned>,
    /// The network in use (the pruned one when there is one), ready for inference.
    model: Option<Rc<Model>>,
}

struct Inner {
    device: Device,
    backend: BackendInfo,
    state: RefCell<State>,
    cancel: Cell<bool>,
    busy: Cell<Option<&'static str>>,
}

/// Marks the Lab busy until dropped, even when the call fails.
struct BusyGuard<'a>(&'a Inner);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.busy.set(None);
    }
}

impl Inner {
    fn begin(&self, what: &'static str) -> Result<BusyGuard<'_>, LabError> {
        if let Some(doing) = self.busy.get() {
            return Err(LabError::Busy(doing));
        }
        self.busy.set(Some(what));
        self.cancel.set(false);
        Ok(BusyGuard(self))
    }

    fn data(&self) -> Result<Rc<FashionMnist>, LabError> {
        self.state.borrow().data.clone().ok_or(LabError::NoData)
    }

    fn dense(&self, doing: &'static str) -> Result<Rc<Weights>, LabError> {
        self.state.borrow().dense.clone().ok_or(LabError::NoModel(doing))
    }

    fn model(&self, doing: &'static str) -> Result<Rc<Model>, LabError> {
        self.state.borrow().model.clone().ok_or(LabError::NoModel(doing))
    }

    fn set_dense(&self, weights: Weights, model: Model) {
        let mut s = self.state.borrow_mut();
        s.dense = Some(Rc::new(weights));
        s.pruned = None;
        s.model = Some(Rc::new(model));
    }

    /// Makes `pruned` (run as `model`) the network in use; the dense weights stay for `reset`.
    fn set_pruned(&self, pruned: Pruned, model: Model) {
        let mut s = self.state.borrow_mut();
        s.pruned = Some(pruned);
        s.model = Some(Rc::new(model));
    }

    /// Evaluates on the test set when one is loaded.
    async fn evaluate(&self, model: &Model) -> Result<Option<Evaluation>, LabError> {
        let Some(data) = self.state.borrow().data.clone() else { return Ok(None) };
        Ok(Some(train::evaluate(model, &data.test, 500, &self.device).await?))
    }
}

/// Hears training progress on behalf of a JS callback, and yields to the event loop.
struct WebObserver<'a> {
    inner: &'a Inner,
    callback: Option<Function>,
    last_yield: Instant,
}

impl<'a> WebObserver<'a> {
    fn new(inner: &'a Inner, callback: JsValue) -> Self {
        Self { inner, callback: callback.dyn_into().ok(), last_yield: Instant::now() }
    }

    fn emit<T: Serialize>(&self, kind: &str, value: &T) {
        let (Some(f), Ok(obj)) = (&self.callback, to_js(value)) else { return };
        let _ = Reflect::set(&obj, &"type".into(), &kind.into());
        // A throwing callback must not stop the work it observes.
        let _ = f.call1(&JsValue::NULL, &obj);
    }
}

impl Observer for WebObserver<'_> {
    fn on_batch(&mut self, progress: &BatchProgress) {
        self.emit("batch", progress);
    }
    fn on_epoch(&mut self, summary: &EpochSummary) {
        self.emit("epoch", summary);
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

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TrainOptions {
    model: Option<ModelKind>,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f64>,
    limit: Option<usize>,
    recipe: Option<Recipe>,
    seed: Option<u64>,
    /// Evaluate on the test set afterwards (default true; a benchmark may skip it).
    evaluate: Option<bool>,
}

#[derive(Serialize)]
struct TrainResult {
    arch: String,
    params: usize,
    epochs: Vec<EpochSummary>,
    cancelled: bool,
    evaluation: Option<Evaluation>,
    seconds: f64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PruneOptions {
    scope: Option<Scope>,
    connected: Option<bool>,
    variant: Option<Variant>,
}

#[derive(Serialize)]
struct PruneResult {
    spec: PruneSpec,
    accuracy: Option<f32>,
    loss: Option<f32>,
    nonzero_params: usize,
    total_params: usize,
    removed: usize,
    prune_ms: f64,
    eval_ms: f64,
    layers: Vec<LayerStats>,
    sparse_sizes: SparseSizes,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FineTuneOptions {
    lr: Option<f64>,
    batch_size: Option<usize>,
    /// Fine-tune on the first N training images only.
    limit: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SweepOptions {
    methods: Option<Vec<Method>>,
    sparsities: Option<Vec<f64>>,
    finetune_epochs: Option<usize>,
    scope: Option<Scope>,
    connected: Option<bool>,
    variant: Option<Variant>,
}

#[derive(Serialize)]
struct CompactResult {
    arch: String,
    params: usize,
    bytes: usize,
    dense_arch: String,
    dense_params: usize,
    dense_bytes: usize,
    /// Per image, best of several timed passes over `images` images.
    latency_ms: f64,
    dense_latency_ms: f64,
    speedup: f64,
    images: usize,
    /// Largest difference between the compacted and the masked network's logits.
    max_abs_diff: f32,
}

#[derive(Serialize)]
struct ModelInfo {
    arch: String,
    kind: ModelKind,
    params: usize,
    nonzero_params: usize,
    pruned: Option<PruneSpec>,
    finetune_epochs: usize,
    meta: serde_json::Value,
}

/// The lab: a dataset, a trained model, its current pruning, on one device.
#[wasm_bindgen]
pub struct Lab {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Lab {
    /// Creates a lab on WebGPU when the browser offers an adapter (or as asked), else on the
    /// CPU; `backend()` says which and why.
    #[wasm_bindgen(unchecked_return_type = "Promise<Lab>")]
    pub fn create(#[wasm_bindgen(unchecked_param_type = "LabOptions | undefined")] options: JsValue) -> Promise {
        promise(async move { Ok(Lab::open(options).await?.into()) })
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

    /// The report's published numbers, to overlay on a sweep chart.
    #[wasm_bindgen(js_name = reportNumbers)]
    pub fn report_numbers() -> JsResult {
        to_js(&serde_json::json!({
            "weight": sweep::REPORT_WEIGHT_POINTS, "neuron": sweep::REPORT_NEURON_POINTS,
            "pearson_weight": sweep::REPORT_PEARSON_WEIGHT, "pearson_neuron": sweep::REPORT_PEARSON_NEURON,
            "sparsities": sweep::REPORT_SPARSITIES,
        }))
    }

    /// Parses the four Fashion-MNIST files (gzip or raw IDX bytes). The dataset is replaced only
    /// when all four parse.
    #[wasm_bindgen(js_name = loadDataset, unchecked_return_type = "DatasetInfo")]
    pub fn load_dataset(&self, #[wasm_bindgen(unchecked_param_type = "DatasetFiles")] files: JsValue) -> JsResult {
        let _busy = self.inner.begin("loading data")?;
        let bytes = |key: &str| -> Result<Vec<u8>, LabError> {
            let v = get(&files, key);
            if !v.is_instance_of::<Uint8Array>() {
                return Err(LabError::Options(format!("{key} must be a Uint8Array")));
            }
            Ok(Uint8Array::from(v).to_vec())
        };
        let data = FashionMnist::from_bytes(&bytes("trainImages")?, &bytes("trainLabels")?, &bytes("testImages")?, &bytes("testLabels")?)?;
        let info = serde_json::json!({"train": data.train.len(), "test": data.test.len(), "class_names": CLASS_NAMES});
        self.inner.state.borrow_mut().data = Some(Rc::new(data));
        to_js(&info)
    }

    /// Trains a fresh MLP or CNN on the loaded data and evaluates it on the test set. Calls
    /// `onProgress({type: "batch" | "epoch", ...})`. A cancelled run keeps the previous model.
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainResult>")]
    pub fn train(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrainOptions")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("training")?;
            let start = Instant::now();
            let o: TrainOptions = self::options(options)?;
            let kind = o.model.ok_or_else(|| LabError::Options("say which model to train: \"mlp\" or \"cnn\"".into()))?;
            let data = inner.data()?;
            let cfg = o.recipe.unwrap_or(Recipe::Default).config(kind, o.epochs.unwrap_or(1)).with(o.lr, o.batch_size, o.seed);
            cfg.validate()?;
            let train_set = first(&data.train, o.limit)?;
            let mut trainer = Trainer::fresh(&Arch::report(kind), cfg, &inner.device, train_set.len())?;
            let mut obs = WebObserver::new(&inner, on_progress);
            let report = trainer.run(&train_set, None, &mut obs).await?;
            let model = trainer.into_model();
            let mut result = TrainResult { arch: model.arch().describe(), params: model.arch().num_params(), epochs: report.epochs, cancelled: report.cancelled, evaluation: None, seconds: 0.0 };
            if !report.cancelled {
                let weights = model.to_weights().await?;
                if o.evaluate.unwrap_or(true) {
                    result.evaluation = Some(train::evaluate(&model, &data.test, 500, &inner.device).await?);
                }
                inner.set_dense(weights, model);
            }
            result.seconds = start.elapsed().as_secs_f64();
            to_js(&result)
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
            let data = inner.data()?;
            to_js(&train::evaluate(&model, &data.test, 500, &inner.device).await?)
        })
    }

    /// Zeroes the smallest `k` % of the hidden kernels' weights of the dense model.
    #[wasm_bindgen(js_name = pruneWeights, unchecked_return_type = "Promise<PruneResult>")]
    pub fn prune_weights(&self, k: f64, #[wasm_bindgen(unchecked_param_type = "PruneOptions | undefined")] options: JsValue) -> Promise {
        self.prune_with(Method::Weight, k, options)
    }

    /// Removes the `k` % of units (or filters) with the smallest incoming norm, per hidden layer.
    #[wasm_bindgen(js_name = pruneNeurons, unchecked_return_type = "Promise<PruneResult>")]
    pub fn prune_neurons(&self, k: f64, #[wasm_bindgen(unchecked_param_type = "PruneOptions | undefined")] options: JsValue) -> Promise {
        self.prune_with(Method::Neuron, k, options)
    }

    /// Trains the pruned model for `epochs` epochs; pruned weights stay zero.
    #[wasm_bindgen(js_name = fineTune, unchecked_return_type = "Promise<PruneResult>")]
    pub fn fine_tune(
        &self,
        epochs: usize,
        #[wasm_bindgen(unchecked_param_type = "FineTuneOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("fine-tuning")?;
            let o: FineTuneOptions = self::options(options)?;
            let (weights, mask, spec, done) = {
                let s = inner.state.borrow();
                let p = s.pruned.as_ref().ok_or(LabError::NotPruned("fine-tuning"))?;
                (p.weights.clone(), p.mask.clone(), p.spec, p.finetune_epochs)
            };
            let data = inner.data()?;
            let cfg = finetune_config(weights.arch.kind(), epochs, spec.sparsity).with(o.lr, o.batch_size, None);
            let train_set = first(&data.train, o.limit)?;
            let mut obs = WebObserver::new(&inner, on_progress);
            let t = Instant::now();
            let Some(tuned) = finetune(&weights, &mask, &train_set, cfg, &inner.device, &mut obs).await? else {
                return Err(LabError::Cancelled("fine-tuning"));
            };
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let model = Model::from_weights(&tuned, &inner.device)?;
            let result = prune_result(&inner, spec, &tuned, &mask, ms, &model).await?;
            inner.set_pruned(Pruned { weights: Rc::new(tuned), mask, spec, finetune_epochs: done + epochs }, model);
            to_js(&result)
        })
    }

    /// Prunes the dense model at each sparsity for each method (each point from the same dense
    /// weights) and evaluates it; `onPoint(point)` hears each point as it is done. The model in
    /// use does not change.
    #[wasm_bindgen(unchecked_return_type = "Promise<object>")]
    pub fn sweep(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SweepOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = onPoint, unchecked_param_type = "((p: object) => void) | undefined")] on_point: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "((p: Progress) => void) | undefined")] on_progress: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("sweeping")?;
            let o: SweepOptions = self::options(options)?;
            let mut config = SweepConfig::default();
            if let Some(m) = o.methods {
                config.methods = m;
            }
            if let Some(ks) = o.sparsities {
                config.sparsities = ks.into_iter().map(Sparsity::new).collect::<Result<_, _>>()?;
            }
            config.finetune_epochs = o.finetune_epochs.unwrap_or(0);
            config.scope = o.scope.unwrap_or_default();
            config.connected = o.connected.unwrap_or(false);
            config.variant = o.variant.unwrap_or_default();
            let dense = inner.dense("sweeping")?;
            let data = inner.data()?;
            let on_point: Option<Function> = on_point.dyn_into().ok();
            let mut obs = WebObserver::new(&inner, on_progress);
            let result = sweep::sweep(&dense, Some(&data.train), &data.test, &config, &inner.device, &mut obs, |p: &SweepPoint| {
                if let (Some(f), Ok(v)) = (&on_point, to_js(p)) {
                    let _ = f.call1(&JsValue::NULL, &v);
                }
            })
            .await?;
            to_js(&result)
        })
    }

    /// Returns to the dense (trained or imported) model.
    pub fn reset(&self) -> Result<(), LabError> {
        let _busy = self.inner.begin("resetting")?;
        let dense = self.inner.dense("resetting")?;
        let model = Model::from_weights(&dense, &self.inner.device)?;
        let mut s = self.inner.state.borrow_mut();
        s.pruned = None;
        s.model = Some(Rc::new(model));
        Ok(())
    }

    /// Rebuilds the pruned model without its removed units (a smaller dense network with equal
    /// outputs), uses it from now on, and measures its size and latency against the dense one.
    #[wasm_bindgen(unchecked_return_type = "Promise<object>")]
    pub fn compact(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("compacting")?;
            let dense = inner.dense("compacting")?;
            let pruned = inner.state.borrow().pruned.as_ref().map(|p| p.weights.clone()).ok_or(LabError::NotPruned("compacting"))?;
            let small = prune::compact(&pruned).weights;
            let (dense_model, masked, small_model) = (
                Model::from_weights(&dense, &inner.device)?,
                Model::from_weights(&pruned, &inner.device)?,
                Model::from_weights(&small, &inner.device)?,
            );
            // Real test images when there are some, else a fixed pseudo-random batch.
            let data = inner.state.borrow().data.clone();
            let images = match &data {
                Some(d) => d.test.take(1000),
                None => Dataset::new((0..1000 * IMAGE_PIXELS).map(|i| (i * 2654435761usize >> 7) as u8).collect(), vec![0; 1000])?,
            };
            let latency = async |m: &Model| -> Result<f64, LabError> {
                let mut best = f64::MAX;
                for _ in 0..3 {
                    best = best.min(train::evaluate(m, &images, 500, &inner.device).await?.seconds);
                    yield_now().await;
                }
                Ok(best * 1e3 / images.len() as f64)
            };
            let (dense_ms, small_ms) = (latency(&dense_model).await?, latency(&small_model).await?);
            let mut max_abs_diff = 0.0f32;
            for i in 0..8.min(images.len()) {
                let px = crate::data::to_unit_floats(images.image(i));
                let a = train::classify(&masked, &px, &inner.device).await?;
                let b = train::classify(&small_model, &px, &inner.device).await?;
                max_abs_diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(max_abs_diff, f32::max);
            }
            let result = CompactResult {
                arch: small.arch.describe(),
                params: small.num_params(),
                bytes: small.num_params() * 4,
                dense_arch: dense.arch.describe(),
                dense_params: dense.num_params(),
                dense_bytes: dense.num_params() * 4,
                latency_ms: small_ms,
                dense_latency_ms: dense_ms,
                speedup: dense_ms / small_ms,
                images: images.len(),
                max_abs_diff,
            };
            inner.state.borrow_mut().model = Some(Rc::new(small_model));
            to_js(&result)
        })
    }

    /// The 10 class probabilities of a 28×28 image: 784 values in [0, 1], light garment on a
    /// dark background, row by row. Works while other calls run.
    #[wasm_bindgen(unchecked_return_type = "Promise<Float32Array>")]
    pub fn classify(&self, #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let px = if pixels.is_instance_of::<Float32Array>() || js_sys::Array::is_array(&pixels) {
                Float32Array::new(&pixels).to_vec()
            } else {
                return Err(LabError::Train(TrainError::BadImage("not an array of numbers".into())));
            };
            let model = inner.model("classifying")?;
            let probs = train::classify(&model, &px, &inner.device).await?;
            Ok(Float32Array::from(probs.as_slice()).into())
        })
    }

    /// A test image (784 bytes, 0 = background) with its label.
    #[wasm_bindgen(js_name = testImage, unchecked_return_type = "{pixels: Uint8Array, label: number, class_name: string}")]
    pub fn test_image(&self, index: usize) -> JsResult {
        let data = self.inner.data()?;
        if index >= data.test.len() {
            return Err(LabError::Options(format!("test image {index} does not exist (there are {})", data.test.len())));
        }
        let label = data.test.label(index);
        let obj = to_js(&serde_json::json!({"label": label, "class_name": CLASS_NAMES[label as usize]}))?;
        set(&obj, "pixels", &Uint8Array::from(data.test.image(index)))?;
        Ok(obj)
    }

    /// The labels of the whole test set, in order (to compare with `evaluate().predictions`).
    #[wasm_bindgen(js_name = testLabels)]
    pub fn test_labels(&self) -> Result<Vec<u8>, LabError> {
        Ok(self.inner.data()?.test.labels().to_vec())
    }

    /// The first `per_class` test images of each class: indices, labels, and their pixels
    /// concatenated (784 bytes each).
    #[wasm_bindgen(js_name = sampleImages, unchecked_return_type = "{indices: number[], labels: number[], pixels: Uint8Array}")]
    pub fn sample_images(&self, per_class: usize) -> JsResult {
        let data = self.inner.data()?;
        let mut indices = Vec::new();
        for c in 0..CLASS_NAMES.len() as u8 {
            indices.extend((0..data.test.len()).filter(|&i| data.test.label(i) == c).take(per_class));
        }
        let pixels: Vec<u8> = indices.iter().flat_map(|&i| data.test.image(i).iter().copied()).collect();
        let labels: Vec<u8> = indices.iter().map(|&i| data.test.label(i)).collect();
        let obj = to_js(&serde_json::json!({"indices": indices, "labels": labels}))?;
        set(&obj, "pixels", &Uint8Array::from(pixels.as_slice()))?;
        Ok(obj)
    }

    /// The model in use as a `.plab` file (see `model::file`); `f16` halves its size.
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self, f16: Option<bool>) -> Result<Vec<u8>, LabError> {
        let s = self.inner.state.borrow();
        let weights = match (&s.pruned, &s.dense) {
            (Some(p), _) => p.weights.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => return Err(LabError::NoModel("exporting")),
        };
        let meta = serde_json::json!({"pruned": s.pruned.as_ref().map(|p| p.spec), "exported_by": "prunelab web"});
        Ok(file::encode(&weights, &meta, if f16 == Some(true) { Precision::F16 } else { Precision::F32 }))
    }

    /// Loads a `.plab` file as the dense model (what pruning starts from).
    #[wasm_bindgen(js_name = importModel, unchecked_return_type = "object")]
    pub fn import_model(&self, bytes: &[u8]) -> JsResult {
        let _busy = self.inner.begin("importing a model")?;
        let f = file::decode(bytes)?;
        let model = Model::from_weights(&f.weights, &self.inner.device)?;
        let info = ModelInfo { arch: f.weights.arch.describe(), kind: f.weights.arch.kind(), params: f.weights.num_params(), nonzero_params: f.weights.count_nonzero(), pruned: None, finetune_epochs: 0, meta: f.meta };
        self.inner.set_dense(f.weights, model);
        to_js(&info)
    }

    /// What the lab holds: backend, dataset sizes, the model and its pruning.
    #[wasm_bindgen(unchecked_return_type = "object")]
    pub fn info(&self) -> JsResult {
        let s = self.inner.state.borrow();
        let model = s.dense.as_ref().map(|d| {
            let current = s.pruned.as_ref().map(|p| p.weights.clone()).unwrap_or_else(|| d.clone());
            ModelInfo {
                arch: d.arch.describe(),
                kind: d.arch.kind(),
                params: d.num_params(),
                nonzero_params: current.count_nonzero(),
                pruned: s.pruned.as_ref().map(|p| p.spec),
                finetune_epochs: s.pruned.as_ref().map_or(0, |p| p.finetune_epochs),
                meta: serde_json::Value::Null,
            }
        });
        let data = s.data.as_ref().map(|d| serde_json::json!({"train": d.train.len(), "test": d.test.len()}));
        // The network in use differs from `model.arch` after `compact`.
        let in_use = s.model.as_ref().map(|m| m.arch().describe());
        to_js(&serde_json::json!({"backend": self.inner.backend.backend, "data": data, "model": model, "in_use": in_use, "busy": self.inner.busy.get()}))
    }
}

impl Lab {
    /// `Lab.create` for Rust callers (and the browser tests).
    pub async fn open(options: JsValue) -> Result<Lab, LabError> {
        console_error_panic_hook::set_once();
        let opts: LabOptions = self::options(options)?;
        let (device, backend) = pick_device(opts.backend).await?;
        let inner = Inner { device, backend, state: RefCell::default(), cancel: Cell::new(false), busy: Cell::new(None) };
        Ok(Lab { inner: Rc::new(inner) })
    }

    fn prune_with(&self, method: Method, k: f64, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let _busy = inner.begin("pruning")?;
            let sparsity = Sparsity::new(k)?;
            let o: PruneOptions = self::options(options)?;
            let dense = inner.dense("pruning")?;
            let spec = PruneSpec { method, sparsity, scope: o.scope.unwrap_or_default(), connected: o.connected.unwrap_or(false), variant: o.variant.unwrap_or_default() };
            let p = prune::prune(&dense, spec);
            let model = Model::from_weights(&p.weights, &inner.device)?;
            let result = prune_result(&inner, spec, &p.weights, &p.mask, p.prune_ms, &model).await?;
            inner.set_pruned(Pruned { weights: Rc::new(p.weights), mask: Rc::new(p.mask), spec, finetune_epochs: 0 }, model);
            to_js(&result)
        })
    }
}

async fn prune_result(inner: &Inner, spec: PruneSpec, weights: &Weights, mask: &Mask, prune_ms: f64, model: &Model) -> Result<PruneResult, LabError> {
    let t = Instant::now();
    let eval = inner.evaluate(model).await?;
    Ok(PruneResult {
        spec,
        accuracy: eval.as_ref().map(|e| e.accuracy),
        loss: eval.as_ref().map(|e| e.loss),
        nonzero_params: weights.count_nonzero(),
        total_params: weights.num_params(),
        removed: mask.removed(),
        prune_ms,
        eval_ms: t.elapsed().as_secs_f64() * 1e3,
        layers: prune::layer_stats(weights),
        sparse_sizes: prune::sparse_sizes(weights),
    })
}
