//! Which device a Lab runs on: WebGPU through burn-wgpu, or burn `flex` on the CPU.

use std::cell::RefCell;

use burn::tensor::Device;
use js_sys::{Function, Promise};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::js::{LabError, get};

/// The backend a caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, tsify::Tsify)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU when the adapter is a real GPU, else the CPU.
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

/// The backend a Lab runs on, and why.
#[derive(Clone, Debug, PartialEq, Serialize, tsify::Tsify)]
pub struct BackendInfo {
    pub backend: Backend,
    pub reason: String,
    /// The WebGPU adapter's vendor, architecture and description, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub adapter: Option<String>,
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

/// What `auto` does with the adapter the browser offers (`Err`: none, and why): a real GPU
/// gets WebGPU, anything else the CPU, with the reason a person reads in the header.
pub fn auto(adapter: &Result<Adapter, LabError>) -> (Backend, String) {
    match adapter {
        Ok(a) if a.fallback => (
            Backend::Cpu,
            format!("the only WebGPU adapter ({}) is a software fallback, slower than the CPU backend (burn flex); ask for WebGPU to use it anyway", a.name),
        ),
        Ok(_) => (Backend::Webgpu, "a WebGPU adapter is available".into()),
        Err(e) => (Backend::Cpu, format!("{e}; using the CPU backend (burn flex)")),
    }
}

thread_local! {
    /// burn's wgpu runtime initialises once per page; later Labs reuse its device.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
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
async fn webgpu() -> Result<Device, LabError> {
    if let Some(device) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options().init_async().await.map_err(|e| LabError::NoWebGpu(format!("burn-wgpu could not start: {e}")))?;
    WEBGPU.with(|w| *w.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// The device for `choice`, and what to tell the visitor about it.
pub async fn pick(choice: BackendChoice) -> Result<(Device, BackendInfo), LabError> {
    let cpu = |reason: String| (Device::flex(), BackendInfo { backend: Backend::Cpu, reason, adapter: None });
    match choice {
        BackendChoice::Cpu => Ok(cpu("the CPU backend (burn flex) was asked for".into())),
        BackendChoice::Webgpu => {
            let a = adapter().await?;
            Ok((webgpu().await?, BackendInfo { backend: Backend::Webgpu, reason: "WebGPU was asked for".into(), adapter: Some(a.name) }))
        }
        BackendChoice::Auto => {
            let found = adapter().await;
            match (auto(&found), found) {
                ((Backend::Webgpu, reason), Ok(a)) => match webgpu().await {
                    Ok(device) => Ok((device, BackendInfo { backend: Backend::Webgpu, reason, adapter: Some(a.name) })),
                    Err(e) => Ok(cpu(format!("{e}; using the CPU backend (burn flex)"))),
                },
                ((_, reason), _) => Ok(cpu(reason)),
            }
        }
    }
}
