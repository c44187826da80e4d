//! Crossing into JavaScript: errors with a stable `kind`, plain-object results, options, and
//! giving the event loop back.

use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::data::DataError;
use crate::model::ModelError;
use crate::prune::PruneError;
use crate::prune::finetune::TuneError;
use crate::train::TrainError;

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
    #[error("this drawing cannot be read: {0}")]
    BadDrawing(String),
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

impl LabError {
    /// A stable name for what went wrong, for JavaScript to act on (messages may change).
    pub fn kind(&self) -> &'static str {
        match self {
            LabError::NoData => "no_data",
            LabError::NoModel(_) => "no_model",
            LabError::NotPruned(_) => "not_pruned",
            LabError::Busy(_) => "busy",
            LabError::Options(_) => "options",
            LabError::BadDrawing(_) => "bad_drawing",
            LabError::NoWebGpu(_) => "no_webgpu",
            LabError::Cancelled(_) => "cancelled",
            LabError::Js(_) => "internal",
            LabError::Data(_) => "data",
            LabError::Model(e) => model_kind(e),
            LabError::Train(e) => train_kind(e),
            LabError::Prune(e) | LabError::Tune(TuneError::Prune(e)) => prune_kind(e),
            LabError::Tune(TuneError::Train(e)) => train_kind(e),
            LabError::Tune(TuneError::Model(e)) => model_kind(e),
            LabError::Tune(TuneError::InitialAboveTarget { .. }) => "bad_config",
        }
    }
}

fn prune_kind(e: &PruneError) -> &'static str {
    match e {
        PruneError::BadSparsity(_) => "bad_sparsity",
        PruneError::NoSensitivity | PruneError::SensitivityMismatch(_) => "no_sensitivity",
        PruneError::Reconstruct(_) => "reconstruct",
    }
}

fn model_kind(e: &ModelError) -> &'static str {
    match e {
        ModelError::Read(_) => "device",
        _ => "model_file",
    }
}

fn train_kind(e: &TrainError) -> &'static str {
    match e {
        TrainError::EmptyDataset => "no_data",
        TrainError::BadConfig(_) => "bad_config",
        TrainError::Diverged { .. } => "diverged",
        TrainError::Device(_) => "device",
        TrainError::Model(m) => model_kind(m),
        TrainError::BadImage(_) => "bad_image",
    }
}

/// An `Error` with the message, `kind`, and for data errors the `file`.
impl From<LabError> for JsValue {
    fn from(e: LabError) -> JsValue {
        let error = js_sys::Error::new(&e.to_string());
        let _ = Reflect::set(&error, &"kind".into(), &e.kind().into());
        if let LabError::Data(d) = &e
            && let Some(file) = d.file()
        {
            let _ = Reflect::set(&error, &"file".into(), &file.into());
        }
        error.into()
    }
}

/// A plain JavaScript object (or array, number…) with the same field names as the Rust type;
/// `None` becomes `undefined`, as the generated declarations (`field: T | undefined`) say.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, LabError> {
    value.serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true)).map_err(|e| LabError::Js(e.to_string()))
}

/// Options from JS; `undefined` or `null` means all defaults.
pub fn options<T: for<'de> Deserialize<'de> + Default>(value: JsValue) -> Result<T, LabError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| LabError::Options(e.to_string()))
}

/// Options that must be given; `what` says what they are for.
pub fn required<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, LabError> {
    if value.is_undefined() || value.is_null() {
        return Err(LabError::Options(format!("{what} are required")));
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| LabError::Options(e.to_string()))
}

/// Runs an engine future as a JS Promise that rejects with the error.
pub fn promise(f: impl Future<Output = Result<JsValue, LabError>> + 'static) -> Promise {
    future_to_promise(async move { f.await.map_err(JsValue::from) })
}

/// A JS callback argument, if one was given; it may throw without stopping the work it hears.
pub struct Callback(Option<Function>);

impl Callback {
    pub fn new(value: JsValue) -> Self {
        Callback(value.dyn_into().ok())
    }

    /// Calls back with `value` as an object, plus `type: kind` when `kind` is given.
    pub fn call<T: Serialize>(&self, kind: Option<&str>, value: &T) {
        let (Some(f), Ok(obj)) = (&self.0, to_js(value)) else { return };
        if let Some(kind) = kind {
            let _ = Reflect::set(&obj, &"type".into(), &kind.into());
        }
        let _ = f.call1(&JsValue::NULL, &obj);
    }
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

#[wasm_bindgen]
extern "C" {
    // Exists on both Window and WorkerGlobalScope.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
}

/// Lets the event loop run (a macrotask, so messages and paints get through). Through a
/// message to itself rather than `setTimeout(0)`: browsers clamp a timeout set from a timeout's
/// task to 4 ms, which cost training in the page an eighth of its time (one yield per 30 ms);
/// the message comes back in about 0.2 ms.
pub async fn yield_now() {
    let p = Promise::new(&mut |resolve, _| {
        let Ok(channel) = web_sys::MessageChannel::new() else {
            set_timeout(&resolve, 0);
            return;
        };
        // The closure holds the receiving port until its message arrives, then closes it.
        let port = channel.port1();
        let done = Closure::once_into_js(move || {
            port.close();
            let _ = resolve.call0(&JsValue::NULL);
        });
        channel.port1().set_onmessage(Some(done.unchecked_ref()));
        if channel.port2().post_message(&JsValue::UNDEFINED).is_err() {
            channel.port1().set_onmessage(None);
            set_timeout(&done.unchecked_into(), 0);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Installs the panic hook once: the message goes to the console (console_error_panic_hook) and
/// to `globalThis.labPanicked(message)` when the host defined it, since the trap that follows a
/// panic only says "unreachable". The worker uses it to say what broke before it restarts.
///
/// In the threaded bundle a panic can also happen on one of the pool's threads, whose worker
/// has no `labPanicked`, while the Lab's worker waits on it (and cannot hear it). So the hook
/// also posts the message on the `BroadcastChannel` named by `globalThis.labPanicChannel` when
/// it was installed: the page listens there and restarts the lab (ending this worker's threads).
pub fn report_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(feature = "threads")]
        let channel = get(&js_sys::global(), "labPanicChannel").as_string();
        std::panic::set_hook(Box::new(move |info| {
            console_error_panic_hook::hook(info);
            let message = info.to_string();
            if let Ok(f) = get(&js_sys::global(), "labPanicked").dyn_into::<Function>() {
                let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&message));
                return;
            }
            #[cfg(feature = "threads")]
            if let Some(channel) = channel.as_deref().and_then(|name| web_sys::BroadcastChannel::new(name).ok()) {
                let _ = channel.post_message(&JsValue::from_str(&message));
                // Wait here for the page to end the Lab's worker, and this one with it, rather
                // than trap: a trap would surface as an uncaught "unreachable" in the page.
                loop {
                    std::thread::park();
                }
            }
        }));
    });
}
