//! The wasm Lab in a real browser (headless Chromium, `wasm-pack test --headless --chrome`):
//! the same workflow on the CPU backend (flex) and on WebGPU (burn-wgpu; SwiftShader here).
//!
//! The data is a small real subset of Fashion-MNIST that `scripts/test.sh` cuts with
//! `prunelab subset --train 320 --test 200 --out www/data/subset` before building this test.
#![cfg(target_arch = "wasm32")]

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use prunelab::model::file;
use prunelab::web::Lab;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! subset {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/subset/", $name)).as_slice()
    };
}

/// 784·1000 + 1000·1000 + 1000·500 + 500·200: the weights that weight pruning ranks.
const HIDDEN_KERNELS: usize = 2_384_000;

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn field(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |v, k| Reflect::get(&v, &k.into()).unwrap())
}

fn num(v: &JsValue, path: &str) -> f64 {
    field(v, path).as_f64().unwrap_or_else(|| panic!("{path} is not a number"))
}

async fn ok(p: js_sys::Promise) -> JsValue {
    JsFuture::from(p).await.unwrap_or_else(|e| panic!("call failed: {}", message(&e)))
}

/// The message of a rejected call, which must be a JS Error with a readable message.
async fn err(p: js_sys::Promise) -> String {
    match JsFuture::from(p).await {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => message(&e),
    }
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
}

fn files() -> JsValue {
    obj(&[
        ("trainImages", Uint8Array::from(subset!("train-images-idx3-ubyte")).into()),
        ("trainLabels", Uint8Array::from(subset!("train-labels-idx1-ubyte")).into()),
        ("testImages", Uint8Array::from(subset!("t10k-images-idx3-ubyte")).into()),
        ("testLabels", Uint8Array::from(subset!("t10k-labels-idx1-ubyte")).into()),
    ])
}

async fn lab(backend: &str) -> Lab {
    let lab = Lab::open(obj(&[("backend", backend.into())])).await.unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert_eq!(field(&lab.backend().unwrap(), "backend").as_string().unwrap(), backend);
    lab
}

fn image(lab: &Lab, i: usize) -> Float32Array {
    let px = field(&lab.test_image(i).unwrap(), "pixels");
    let bytes: Vec<f64> = js_sys::Array::from(&px).iter().map(|v| v.as_f64().unwrap()).collect();
    Float32Array::from(bytes.iter().map(|&b| (b / 255.0) as f32).collect::<Vec<_>>().as_slice())
}

async fn workflow(backend: &str, train_limit: usize) {
    let lab = lab(backend).await;

    // Bad input before there is anything: no model, no data.
    assert!(err(lab.prune_weights(50.0, JsValue::UNDEFINED)).await.contains("no model"));
    assert!(err(lab.train(obj(&[("model", "mlp".into())]), JsValue::UNDEFINED)).await.contains("no dataset"));
    let corrupt = obj(&[
        ("trainImages", Uint8Array::from(&b"not an idx file at all"[..]).into()),
        ("trainLabels", Uint8Array::from(subset!("train-labels-idx1-ubyte")).into()),
        ("testImages", Uint8Array::from(subset!("t10k-images-idx3-ubyte")).into()),
        ("testLabels", Uint8Array::from(subset!("t10k-labels-idx1-ubyte")).into()),
    ]);
    let e = message(&lab.load_dataset(corrupt).unwrap_err().into());
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");

    let info = lab.load_dataset(files()).unwrap();
    assert_eq!((num(&info, "train"), num(&info, "test")), (320.0, 200.0));

    // A few batches of the report's MLP, with progress reports.
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = seen.clone();
    let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_| counter.set(counter.get() + 1));
    let options = obj(&[("model", "mlp".into()), ("epochs", 1.into()), ("batchSize", 32.into()), ("limit", (train_limit as u32).into())]);
    let trained = ok(lab.train(options, on_progress.as_ref().clone())).await;
    assert!(seen.get() >= train_limit / 32, "progress was reported {} times", seen.get());
    let accuracy = num(&trained, "evaluation.accuracy");
    assert!((0.0..=1.0).contains(&accuracy));
    assert_eq!(num(&trained, "params"), 2_388_710.0);

    // Classification: 10 probabilities summing to 1; a 100-pixel image is refused.
    let probs: Vec<f32> = Float32Array::from(ok(lab.classify(image(&lab, 0).into())).await).to_vec();
    assert_eq!(probs.len(), 10);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let e = err(lab.classify(Float32Array::new_with_length(100).into())).await;
    assert!(e.contains("784"), "{e}");

    // Bad sparsities, each with its own message; the lab stays usable.
    for k in [150.0, f64::NAN, -1.0] {
        let e = err(lab.prune_weights(k, JsValue::UNDEFINED)).await;
        assert!(e.contains("sparsity"), "{k}: {e}");
    }

    // Connected weight pruning: the same exact count, the budget kept on input-to-output paths.
    let pruned = ok(lab.prune_weights(99.0, obj(&[("connected", true.into())]))).await;
    assert_eq!(num(&pruned, "removed") as usize, HIDDEN_KERNELS * 99 / 100);

    // Weight pruning: exactly ⌊0.9·n⌋ of the hidden kernels' weights.
    let pruned = ok(lab.prune_weights(90.0, JsValue::UNDEFINED)).await;
    assert_eq!(num(&pruned, "removed") as usize, HIDDEN_KERNELS * 9 / 10);
    assert!(num(&pruned, "nonzero_params") as usize <= 2_388_710 - HIDDEN_KERNELS * 9 / 10);

    // Fine-tuning keeps every pruned weight at zero.
    let tuned = ok(lab.fine_tune(1, obj(&[("limit", 64.into())]), JsValue::UNDEFINED)).await;
    assert_eq!(num(&tuned, "removed") as usize, HIDDEN_KERNELS * 9 / 10);
    let exported = file::decode(&lab.export_model(None).unwrap()).unwrap();
    let zeros: usize = exported.weights.layers[..4].iter().map(|l| l.weight.len() - l.weight.count_nonzero()).sum();
    assert!(zeros >= HIDDEN_KERNELS * 9 / 10, "only {zeros} zeros after fine-tuning");

    // Neuron pruning, 50 % per layer: half the units of each hidden layer are gone.
    let pruned = ok(lab.prune_neurons(50.0, JsValue::UNDEFINED)).await;
    let layers = js_sys::Array::from(&field(&pruned, "layers"));
    for (i, units) in [1000.0, 1000.0, 500.0, 200.0].into_iter().enumerate() {
        assert_eq!(num(&layers.get(i as u32), "dead_units"), units / 2.0, "layer {i}");
    }
    let compacted = ok(lab.compact()).await;
    assert!(num(&compacted, "params") < num(&compacted, "dense_params") / 2.0);
    assert!(num(&compacted, "max_abs_diff") < 1e-4);

    // Export and import give the same predictions; a malformed file is refused.
    let bytes = lab.export_model(None).unwrap();
    let before = Float32Array::from(ok(lab.classify(image(&lab, 1).into())).await).to_vec();
    let other = self::lab(backend).await;
    other.import_model(&bytes).unwrap();
    let after = Float32Array::from(ok(other.classify(image(&lab, 1).into())).await).to_vec();
    for (a, b) in before.iter().zip(&after) {
        assert!((a - b).abs() < 1e-5, "{before:?} vs {after:?}");
    }
    let e = message(&other.import_model(&bytes[..bytes.len() / 2]).unwrap_err().into());
    assert!(!e.is_empty());
    // reset returns to the dense model.
    lab.reset().unwrap();
    assert!(field(&lab.info().unwrap(), "model.pruned").is_null());
}

/// Headless Chromium's only adapter is SwiftShader, a software fallback: `auto` takes the CPU.
#[wasm_bindgen_test]
async fn auto_prefers_the_cpu_to_a_software_gpu() {
    let lab = Lab::open(obj(&[("backend", "auto".into())])).await.unwrap();
    let info = lab.backend().unwrap();
    assert_eq!(field(&info, "backend").as_string().unwrap(), "cpu");
    assert!(field(&info, "reason").as_string().unwrap().contains("fallback"));
}

#[wasm_bindgen_test]
async fn the_lab_works_on_the_cpu_backend() {
    workflow("cpu", 320).await;
}

#[wasm_bindgen_test]
async fn the_lab_works_on_webgpu() {
    // SwiftShader emulates the GPU on the CPU: keep the training tiny.
    workflow("webgpu", 64).await;
}
