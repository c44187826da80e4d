//! Which device a Lab runs on: WebGPU through burn-wgpu, or burn `flex` on the CPU. `auto`
//! times both on the visitor's machine when the GPU is a real one, since an integrated GPU
//! can lose to a good CPU path; the page keeps the figures, so later visits start at once.

#[cfg(feature = "wgpu")]
use std::cell::RefCell;

use burn::tensor::Device;
use js_sys::{Function, Promise};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::js::{LabError, get};
pub use crate::options::{BackendChoice, Speeds};
use crate::model::{Arch, ModelKind};
use crate::train;

/// Batches of MLP training timed on each backend (after one warm-up): about a second in all.
const PROBE_BATCHES: usize = 4;

/// The backend a Lab runs on, and why.
#[derive(Clone, Debug, PartialEq, Serialize, tsify::Tsify)]
pub struct BackendInfo {
    pub backend: Backend,
    pub reason: String,
    /// The WebGPU adapter's vendor, architecture and description, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub adapter: Option<String>,
    /// What `auto` measured (or was given) to choose, when it compared the two.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub speeds: Option<Speeds>,
    /// Threads the CPU kernels run on (the host's share of the work on WebGPU): the pool the
    /// page started for the threaded bundle, else 1.
    pub threads: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, tsify::Tsify)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Webgpu,
    Cpu,
}

/// What the browser's WebGPU adapter is.
#[derive(Clone, Debug, PartialEq)]
pub struct Adapter {
    pub name: String,
    /// A software rasteriser (SwiftShader and the like): far slower than our CPU backend.
    pub fallback: bool,
}

/// What `auto` does with the adapter the browser offers (`Err`: none, and why) before any
/// timing: the CPU, with the reason a person reads in the header, or `None` when the adapter is
/// a real GPU and the two must be timed.
pub fn auto(adapter: &Result<Adapter, LabError>) -> Option<(Backend, String)> {
    match adapter {
        Ok(a) if a.fallback => Some((
            Backend::Cpu,
            format!("the only WebGPU adapter ({}) is a software fallback, slower than the CPU backend (burn flex); ask for WebGPU to use it anyway", a.name),
        )),
        Ok(_) => None,
        Err(e) => Some((Backend::Cpu, format!("{e}; using the CPU backend (burn flex)"))),
    }
}

/// The faster of the two by `speeds`, and why (the figures, for the header).
pub fn faster(speeds: &Speeds) -> (Backend, String) {
    let chosen = if speeds.webgpu > speeds.cpu { Backend::Webgpu } else { Backend::Cpu };
    let when = if speeds.cached { "measured on this machine on an earlier visit" } else { "measured just now" };
    let name = if chosen == Backend::Webgpu { "WebGPU" } else { "the CPU" };
    let reason = format!(
        "{name} is faster here: MLP training at {:.0} samples/s on WebGPU, {:.0} on the CPU ({when})",
        speeds.webgpu, speeds.cpu
    );
    (chosen, reason)
}

/// MLP training speed on `device`, in samples/s: what `auto` compares.
async fn speed(device: &Device) -> Result<f64, LabError> {
    Ok(train::training_speed(&Arch::report(ModelKind::Mlp), device, PROBE_BATCHES).await?)
}

/// [`speed`] on this bundle's CPU backend.
pub async fn cpu_speed() -> Result<f64, LabError> {
    speed(&Device::flex()).await
}

/// Times MLP training on both devices (the CPU's figure may come from the threaded bundle; one
/// that is not a positive number is timed here instead).
async fn measure(adapter: &str, gpu: &Device, cpu_given: Option<f64>) -> Result<Speeds, LabError> {
    let webgpu = speed(gpu).await?;
    let cpu = match cpu_given.filter(|s| s.is_finite() && *s > 0.0) {
        Some(s) => s,
        None => cpu_speed().await?,
    };
    Ok(Speeds { adapter: adapter.to_string(), webgpu, cpu, cached: false })
}

#[cfg(feature = "wgpu")]
thread_local! {
    /// burn's wgpu runtime initialises once per page; later Labs reuse its device.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// Whether `choice` needs the WebGPU bundle (built with burn-wgpu), given the browser's adapter
/// and the figures of an earlier visit: the worker loads that bundle only then, so a visitor
/// the CPU serves downloads a third of the bytes.
pub fn wants_webgpu(choice: BackendChoice, adapter: &Result<Adapter, LabError>, known: Option<&Speeds>) -> bool {
    match choice {
        BackendChoice::Cpu => false,
        BackendChoice::Webgpu => true,
        BackendChoice::Auto => {
            auto(adapter).is_none()
                && adapter.as_ref().is_ok_and(|a| known.filter(|k| k.adapter == a.name).is_none_or(|k| faster(k).0 == Backend::Webgpu))
        }
    }
}

/// Asks the browser for a WebGPU adapter, without starting burn on it.
pub async fn adapter() -> Result<Adapter, LabError> {
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
#[cfg(feature = "wgpu")]
async fn webgpu() -> Result<Device, LabError> {
    if let Some(device) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options().init_async().await.map_err(|e| LabError::NoWebGpu(format!("burn-wgpu could not start: {e}")))?;
    WEBGPU.with(|w| *w.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// The CPU bundle has no WebGPU: the worker loads the other one when [`wants_webgpu`] says so.
#[cfg(not(feature = "wgpu"))]
async fn webgpu() -> Result<Device, LabError> {
    Err(LabError::NoWebGpu("this is the CPU bundle (pkg/), without WebGPU: WebGPU is in pkg-webgpu/".into()))
}

/// Threads flex's kernels run on: in the threaded bundle, the pool's and the Lab's own
/// (`model::flex::threads`). The page starts rayon's pool before any Lab (www/worker.js), so
/// asking never makes rayon try threads of its own.
fn cpu_threads() -> usize {
    #[cfg(feature = "threads")]
    return crate::model::flex::threads();
    #[cfg(not(feature = "threads"))]
    1
}

/// The device for `choice`, and what to tell the visitor about it. `known`: figures given by the
/// page (from an earlier visit, or just timed by the other bundle), used for `auto` when they
/// were measured with the same adapter.
pub async fn pick(choice: BackendChoice, known: Option<Speeds>, cpu_speed: Option<f64>) -> Result<(Device, BackendInfo), LabError> {
    let cpu = |reason: String, speeds: Option<Speeds>| (Device::flex(), BackendInfo { backend: Backend::Cpu, reason, adapter: None, speeds, threads: cpu_threads() });
    match choice {
        BackendChoice::Cpu => Ok(cpu("the CPU backend (burn flex) was asked for".into(), None)),
        BackendChoice::Webgpu => {
            let a = adapter().await?;
            Ok((webgpu().await?, BackendInfo { backend: Backend::Webgpu, reason: "WebGPU was asked for".into(), adapter: Some(a.name), speeds: None, threads: cpu_threads() }))
        }
        BackendChoice::Auto => {
            let found = adapter().await;
            if let Some((_, reason)) = auto(&found) {
                return Ok(cpu(reason, None));
            }
            let a = found?;
            let known = known.filter(|k| k.adapter == a.name);
            if let Some(k) = known.as_ref().filter(|k| faster(k).0 == Backend::Cpu) {
                return Ok(cpu(faster(k).1, Some(k.clone())));
            }
            let gpu = match webgpu().await {
                Ok(device) => device,
                Err(e) => return Ok(cpu(format!("{e}; using the CPU backend (burn flex)"), None)),
            };
            let speeds = match known {
                Some(k) => k,
                None => measure(&a.name, &gpu, cpu_speed).await?,
            };
            Ok(match faster(&speeds) {
                (Backend::Webgpu, reason) => (gpu, BackendInfo { backend: Backend::Webgpu, reason, adapter: Some(a.name), speeds: Some(speeds), threads: cpu_threads() }),
                (Backend::Cpu, reason) => cpu(reason, Some(speeds)),
            })
        }
    }
}
