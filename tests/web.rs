//! The wasm Lab in a real browser (headless Chromium, through wasm-bindgen-test-runner: scripts/test.sh):
//! the same workflow on the CPU backend (flex) and on WebGPU (burn-wgpu; SwiftShader here).
//!
//! The data is a small real subset of Fashion-MNIST that `scripts/test.sh` cuts with
//! `prunelab subset --train 320 --test 200 --out www/data/subset` before building this test.
#![cfg(target_arch = "wasm32")]

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use prunelab::drawing::{Drawing, Stroke};
use prunelab::model::file;
use prunelab::web::Lab;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

// In a dedicated worker, as the page runs the Lab: the main thread stays free for chromedriver,
// which gives up on a renderer busy for 30 s, and long synchronous stretches are what a worker is for.
wasm_bindgen_test_configure!(run_in_dedicated_worker);

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
    JsFuture::from(p).await.unwrap_or_else(|e| panic!("call failed: {:?}", kind_and_message(&e)))
}

/// The `kind` and message of a rejected call, which must be a JS Error.
async fn err(p: js_sys::Promise) -> (String, String) {
    match JsFuture::from(p).await {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => kind_and_message(&e),
    }
}

/// The same for a synchronous call that threw.
fn thrown<T: std::fmt::Debug>(r: Result<T, prunelab::web::LabError>) -> (String, String) {
    kind_and_message(&r.expect_err("expected an error").into())
}

/// A verdict's probabilities.
fn probabilities(verdict: &JsValue) -> Vec<f32> {
    js_sys::Array::from(&field(verdict, "probabilities")).iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

fn kind_and_message(e: &JsValue) -> (String, String) {
    let error = e.dyn_ref::<js_sys::Error>().unwrap_or_else(|| panic!("not an Error: {e:?}"));
    (field(e, "kind").as_string().expect("an error kind"), String::from(error.message()))
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

/// Bytes of a raw IDX3 header claiming `n` images of 28×28, and nothing after it.
fn idx_header_only(n: u32) -> Vec<u8> {
    [0x0803u32, n, 28, 28].iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn nonzero(lab: &Lab) -> f64 {
    num(&lab.info().unwrap(), "model.nonzero_params")
}

async fn workflow(backend: &str, train_limit: usize) {
    let lab = lab(backend).await;

    // Bad input before there is anything: no model, no data.
    assert_eq!(err(lab.prune_weights(50.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await.0, "no_model");
    assert_eq!(err(lab.train(obj(&[("model", "mlp".into())]), JsValue::UNDEFINED)).await.0, "no_data");
    let with_train_images = |bytes: &[u8]| {
        obj(&[
            ("trainImages", Uint8Array::from(bytes).into()),
            ("trainLabels", Uint8Array::from(subset!("train-labels-idx1-ubyte")).into()),
            ("testImages", Uint8Array::from(subset!("t10k-images-idx3-ubyte")).into()),
            ("testLabels", Uint8Array::from(subset!("t10k-labels-idx1-ubyte")).into()),
        ])
    };
    let e = lab.load_dataset(with_train_images(b"not an idx file at all")).unwrap_err();
    let v: JsValue = e.into();
    assert_eq!(kind_and_message(&v).0, "data");
    assert_eq!(field(&v, "file").as_string().unwrap(), "train-images-idx3-ubyte");
    // 10,000,000 images pass the item limit, but their size overflows wasm32's usize.
    let (kind, m) = thrown(lab.load_dataset(with_train_images(&idx_header_only(10_000_000))));
    assert!(kind == "data" && m.contains("too large"), "{kind}: {m}");

    let info = lab.load_dataset(files()).unwrap();
    assert_eq!((num(&info, "train"), num(&info, "test")), (320.0, 200.0));

    // A few batches of the report's MLP, with progress reports.
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = seen.clone();
    let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_| counter.set(counter.get() + 1));
    // Three epochs on the CPU: one, with its cosine schedule, leaves the 320-image MLP near chance.
    let epochs = if train_limit >= 320 { 3 } else { 1 };
    let options = obj(&[("model", "mlp".into()), ("epochs", epochs.into()), ("batchSize", 32.into()), ("limit", (train_limit as u32).into())]);
    let trained = ok(lab.train(options, on_progress.as_ref().clone())).await;
    assert!(seen.get() >= train_limit / 32, "progress was reported {} times", seen.get());
    assert_eq!(num(&trained, "params"), 2_388_710.0);
    assert_eq!(num(&trained, "train_images") as usize, train_limit);
    // The reported accuracy is the confusion matrix's diagonal, and training beat chance (10 %).
    let accuracy = num(&trained, "evaluation.accuracy");
    let confusion: Vec<Vec<f64>> = js_sys::Array::from(&field(&trained, "evaluation.confusion")).iter().map(|r| js_sys::Array::from(&r).iter().map(|v| v.as_f64().unwrap()).collect()).collect();
    let diagonal: f64 = (0..10).map(|c| confusion[c][c]).sum();
    assert!((accuracy - diagonal / 200.0).abs() < 1e-6, "{accuracy} vs {diagonal} of 200");
    if train_limit >= 320 {
        assert!(accuracy > 0.4, "accuracy {accuracy} after 3 epochs of {train_limit} images");
    }

    // Classification: a verdict with 10 probabilities summing to 1, its class the most
    // probable; a 100-pixel image is refused.
    let verdict = ok(lab.classify(image(&lab, 0).into(), JsValue::UNDEFINED)).await;
    let dense_probs = probabilities(&verdict);
    let probs = probabilities(&verdict);
    assert_eq!(probs.len(), 10);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    assert_eq!(num(&verdict, "class") as usize, prunelab::train::argmax(&probs));
    assert!(["sure", "low_confidence", "unfamiliar"].contains(&field(&verdict, "certainty").as_string().unwrap().as_str()));
    let (kind, m) = err(lab.classify(Float32Array::new_with_length(100).into(), JsValue::UNDEFINED)).await;
    assert!(kind == "bad_image" && m.contains("784"), "{kind}: {m}");

    // Drawings: the Lab's conversion is the engine's, and a broken drawing is refused by kind.
    let drawing = Drawing { pixels: None, side: 280, strokes: vec![Stroke { size: 18.0, points: vec![[60.0, 60.0], [200.0, 80.0], [150.0, 220.0]] }] };
    let js_drawing = serde_wasm_bindgen::to_value(&drawing).unwrap();
    let input = Uint8Array::from(Lab::drawing_input(js_drawing.clone()).unwrap()).to_vec();
    assert_eq!(input, drawing.to_input().unwrap().to_vec());
    let judged = ok(lab.classify_drawing(js_drawing, JsValue::UNDEFINED)).await;
    assert_eq!(Uint8Array::from(field(&judged, "input")).to_vec(), input);
    assert_eq!(probabilities(&field(&judged, "verdict")).len(), 10);
    assert!(ok(lab.classify_drawing(obj(&[("side", 280.into()), ("strokes", js_sys::Array::new().into())]), JsValue::UNDEFINED)).await.is_undefined());
    let (kind, m) = err(lab.classify_drawing(obj(&[("side", 280.into()), ("strokes", "lines".into())]), JsValue::UNDEFINED)).await;
    assert!(kind == "bad_drawing", "{kind}: {m}");
    // With the pad's painted pixels (a Uint8Array) the Lab converts those, not its own painting.
    let other = Drawing { pixels: None, side: 280, strokes: vec![Stroke { size: 30.0, points: vec![[20.0, 200.0], [90.0, 120.0]] }] };
    let painted = Drawing { pixels: Some(other.render()), ..drawing.clone() };
    let js_painted = serde_wasm_bindgen::to_value(&painted).unwrap();
    assert!(js_sys::Reflect::get(&js_painted, &"pixels".into()).unwrap().is_instance_of::<Uint8Array>());
    let input = Uint8Array::from(Lab::drawing_input(js_painted).unwrap()).to_vec();
    assert_eq!(input, other.to_input().unwrap().to_vec());
    let short = obj(&[("side", 280.into()), ("strokes", serde_wasm_bindgen::to_value(&drawing.strokes).unwrap()), ("pixels", Uint8Array::new_with_length(100).into())]);
    let (kind, m) = err(lab.classify_drawing(short, JsValue::UNDEFINED)).await;
    assert!(kind == "bad_drawing" && m.contains("78400"), "{kind}: {m}");

    // The histogram counts what weight pruning at a sparsity would remove: ⌊k/100 · n⌋.
    let h = lab.weight_histogram(70.0, JsValue::UNDEFINED).unwrap();
    assert_eq!(num(&h, "would_remove") as usize, HIDDEN_KERNELS * 70 / 100);
    assert_eq!(js_sys::Array::from(&field(&h, "layers")).length(), 4);
    let (kind, _) = thrown(lab.weight_histogram(101.0, JsValue::UNDEFINED));
    assert_eq!(kind, "bad_sparsity");

    // The first layer: the strongest units first, 784 weights each, and every pixel's survivors.
    let first = lab.first_layer(64).unwrap();
    let units = js_sys::Array::from(&field(&first, "units"));
    assert_eq!(units.length(), 64);
    assert!(num(&units.get(0), "norm") >= num(&units.get(63), "norm"));
    assert_eq!(js_sys::Array::from(&field(&units.get(0), "weights")).length(), 784);
    assert_eq!(js_sys::Array::from(&field(&first, "survivors")).length(), 784);

    // A preview answers for dense and pruned side by side and changes nothing.
    let two: Vec<f32> = image(&lab, 0).to_vec().into_iter().chain(image(&lab, 1).to_vec()).collect();
    let before = nonzero(&lab);
    let p = ok(lab.preview(0.0, obj(&[("method", "neuron".into())]), Float32Array::from(two.as_slice()).into())).await;
    assert_eq!(js_sys::Array::from(&field(&p, "pruned")).length(), 2);
    assert_eq!(field(&p, "dense.0.class").as_f64(), field(&p, "pruned.0.class").as_f64());
    assert_eq!(nonzero(&lab), before);
    let (kind, _) = err(lab.preview(50.0, obj(&[("method", "weight".into())]), Float32Array::new_with_length(10).into())).await;
    assert_eq!(kind, "bad_image");

    // Bad sparsities, each named; the lab stays usable.
    for k in [150.0, f64::NAN, -1.0] {
        let (kind, m) = err(lab.prune_weights(k, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
        assert!(kind == "bad_sparsity" && m.contains("sparsity"), "{k}: {kind}: {m}");
    }
    let (kind, _) = err(lab.prune_weights(50.0, obj(&[("scope", "everywhere".into())]), JsValue::UNDEFINED)).await;
    assert_eq!(kind, "options");

    // Connected weight pruning: the same exact count, the budget kept on input-to-output paths.
    let pruned = ok(lab.prune_weights(99.0, obj(&[("connected", true.into())]), JsValue::UNDEFINED)).await;
    assert_eq!(num(&pruned, "removed") as usize, HIDDEN_KERNELS * 99 / 100);

    // The sensitivity scope needs the curves; measured (on the CPU only: the path is many
    // evaluations, and the backend does not change how it is chosen), it removes exactly ⌊k·n⌋.
    let (kind, _) = err(lab.prune_weights(80.0, obj(&[("scope", "sensitivity".into())]), JsValue::UNDEFINED)).await;
    assert_eq!(kind, "no_sensitivity");
    if backend == "cpu" {
        let seen = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = seen.clone();
        let on_point = wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |_| counter.set(counter.get() + 1));
        let curves = ok(lab.sensitivity(obj(&[("images", 32.into())]), on_point.as_ref().clone())).await;
        let layers = js_sys::Array::from(&field(&curves, "layers"));
        assert_eq!(layers.length(), 4);
        let points = js_sys::Array::from(&field(&curves, "sparsities")).length();
        assert!(layers.iter().all(|l| js_sys::Array::from(&field(&l, "accuracy")).length() == points));
        assert!(seen.get() as u32 >= 4 * points, "every point reported");
        assert_eq!(num(&lab.info().unwrap(), "sensitivity_images"), 32.0);
        let pruned = ok(lab.prune_weights(95.0, obj(&[("scope", "sensitivity".into())]), JsValue::UNDEFINED)).await;
        assert_eq!(num(&pruned, "removed") as usize, HIDDEN_KERNELS * 95 / 100);
    }

    // Weight pruning: exactly ⌊0.9·n⌋ of the hidden kernels' weights.
    let pruned = ok(lab.prune_weights(90.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    assert_eq!(num(&pruned, "removed") as usize, HIDDEN_KERNELS * 9 / 10);
    assert_eq!(num(&pruned, "nonzero_params") as usize, 2_388_710 - HIDDEN_KERNELS * 9 / 10);
    assert_eq!((num(&pruned, "finetune_epochs"), num(&pruned, "finetune_ms")), (0.0, 0.0));

    // Its cost: as run it multiplies every zero; the non-zero count is a tenth and a bit.
    let cost = ok(lab.cost()).await;
    assert_eq!(num(&cost, "dense_flops"), 2.0 * 2_386_000.0);
    assert!(num(&cost, "nonzero_flops") < num(&cost, "dense_flops") * 0.15);
    assert!(num(&cost, "flops") <= num(&cost, "dense_flops"));
    assert!(num(&cost, "file_bytes.sparse") < num(&cost, "file_bytes.dense") / 3.0);
    assert_eq!(nonzero(&lab) as usize, 2_388_710 - HIDDEN_KERNELS * 9 / 10, "cost() changes nothing");
    // The dense model still answers beside the pruned one, as it did before pruning.
    let dense_now = probabilities(&ok(lab.classify(image(&lab, 0).into(), obj(&[("model", "dense".into())]))).await);
    for (a, b) in dense_probs.iter().zip(&dense_now) {
        assert!((a - b).abs() < 1e-5, "{dense_probs:?} vs {dense_now:?}");
    }

    // A sweep over two scopes: a line each, and the engine's SVG and CSV of it (on the CPU only:
    // a sweep runs the same engine code on both backends, and SwiftShader makes it slow).
    if backend == "cpu" {
        let options = obj(&[("methods", js_sys::Array::of1(&"weight".into()).into()), ("sparsities", js_sys::Array::of2(&0.into(), &90.into()).into()), ("scopes", js_sys::Array::of2(&"global".into(), &"layer".into()).into())]);
        let report = ok(lab.sweep(options, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
        let points = js_sys::Array::from(&field(&report, "points"));
        assert_eq!(points.length(), 4);
        assert_eq!(field(&points.get(3), "scope").as_string().unwrap(), "layer");
        let svg = Lab::sweep_svg(report.clone(), "a title".into(), true).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("weight (layer) pruning") && svg.contains("a title"), "{svg}");
        let csv = Lab::sweep_csv(report).unwrap();
        assert!(csv.starts_with("method,scope,sparsity,accuracy") && csv.lines().count() == 5, "{csv}");
        let (kind, _) = thrown(Lab::sweep_csv(obj(&[("points", 3.into())])));
        assert_eq!(kind, "options");
    }

    // The whole state (dense weights, mask, pruning) moves to another Lab, as the page does when
    // switching backends: `reset` there still gives the dense model back.
    let restored = self::lab(backend).await;
    restored.restore_state(&lab.save_state().unwrap()).unwrap();
    assert_eq!(nonzero(&restored), nonzero(&lab));
    assert_eq!(num(&restored.info().unwrap(), "model.pruned.sparsity"), 90.0);
    restored.reset().unwrap();
    assert_eq!(nonzero(&restored), 2_388_710.0, "reset after a restore must give the dense model");
    let (kind, _) = thrown(restored.restore_state(&[1, 2, 3]));
    assert_eq!(kind, "model_file");

    // Fine-tuning keeps every pruned weight at zero, and reports its own time.
    let tuned = ok(lab.fine_tune(1, obj(&[("limit", 64.into())]), JsValue::UNDEFINED)).await;
    assert_eq!(num(&tuned, "removed") as usize, HIDDEN_KERNELS * 9 / 10);
    assert_eq!(num(&tuned, "finetune_epochs"), 1.0);
    assert!(num(&tuned, "finetune_ms") > 0.0);
    assert_eq!(num(&tuned, "prune_ms"), num(&pruned, "prune_ms"), "prune_ms is the pruning's, not fine-tuning's");
    let exported = file::decode(&lab.export_model(None).unwrap()).unwrap();
    let zeros: usize = exported.weights.layers[..4].iter().map(|l| l.weight.len() - l.weight.count_nonzero()).sum();
    assert!(zeros >= HIDDEN_KERNELS * 9 / 10, "only {zeros} zeros after fine-tuning");

    // Misclassified test images: exactly those whose prediction is not their label.
    let predictions: Vec<u8> = js_sys::Array::from(&field(&ok(lab.evaluate()).await, "predictions")).iter().map(|v| v.as_f64().unwrap() as u8).collect();
    let labels = lab.test_labels().unwrap();
    let wrong = (0..200).filter(|&i| predictions[i] != labels[i]).count();
    let listed = js_sys::Array::from(&lab.misclassified(&predictions, 500).unwrap());
    assert_eq!(listed.length() as usize, wrong);
    // A confusion cell's images: exactly its count.
    let (label, predicted) = (labels[0], predictions[0]);
    let count = (0..200).filter(|&i| (labels[i], predictions[i]) == (label, predicted)).count();
    let cell = js_sys::Array::from(&lab.cell_images(&predictions, label, predicted, 500).unwrap());
    assert_eq!(cell.length() as usize, count);
    assert!(cell.iter().all(|m| num(&m, "label") as u8 == label && num(&m, "predicted") as u8 == predicted));
    if wrong > 0 {
        let first = listed.get(0);
        assert_ne!(num(&first, "label"), num(&first, "predicted"));
        assert_eq!(Uint8Array::from(field(&first, "pixels")).length(), 784);
    }

    // Neuron pruning, 50 % per layer: half the units of each hidden layer are gone.
    let pruned = ok(lab.prune_neurons(50.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    let layers = js_sys::Array::from(&field(&pruned, "layers"));
    for (i, units) in [1000.0, 1000.0, 500.0, 200.0].into_iter().enumerate() {
        assert_eq!(num(&layers.get(i as u32), "dead_units"), units / 2.0, "layer {i}");
    }
    let compacted = ok(lab.compact()).await;
    assert_eq!(field(&compacted, "arch").as_string().unwrap(), "mlp 784-500-500-250-100-10");
    assert!(num(&compacted, "params") < num(&compacted, "dense_params") / 2.0);
    assert!(num(&compacted, "max_abs_diff") < 1e-4, "logits differ by {}", num(&compacted, "max_abs_diff"));

    // Export and import give the same model and predictions; a malformed file is refused.
    let bytes = lab.export_model(None).unwrap();
    // Pruned, the export is the sparse encoding (version 2): a bitmask and the non-zeros.
    assert_eq!(bytes[8], 2, "a pruned export is not sparse");
    let before = probabilities(&ok(lab.classify(image(&lab, 1).into(), JsValue::UNDEFINED)).await);
    let other = self::lab(backend).await;
    other.import_model(&bytes).unwrap();
    assert_eq!(file::decode(&other.export_model(None).unwrap()).unwrap().weights, file::decode(&bytes).unwrap().weights);
    let after = probabilities(&ok(other.classify(image(&lab, 1).into(), JsValue::UNDEFINED)).await);
    for (a, b) in before.iter().zip(&after) {
        assert!((a - b).abs() < 1e-5, "{before:?} vs {after:?}");
    }
    // The same file as the drawing model answers alike, and the model in use is untouched.
    let (kind, _) = err(other.classify(image(&lab, 1).into(), obj(&[("model", "drawings".into())]))).await;
    assert_eq!(kind, "no_model");
    other.set_drawing_model(&bytes).unwrap();
    let drawn = probabilities(&ok(other.classify(image(&lab, 1).into(), obj(&[("model", "drawings".into())]))).await);
    for (a, b) in before.iter().zip(&drawn) {
        assert!((a - b).abs() < 1e-5, "{before:?} vs {drawn:?}");
    }
    assert!(!field(&other.info().unwrap(), "drawing_model").is_undefined());
    let (kind, m) = thrown(other.import_model(&bytes[..bytes.len() / 2]));
    assert!(kind == "model_file" && m.contains("bytes follow"), "{kind}: {m}");
    // reset returns to the dense model.
    lab.reset().unwrap();
    assert!(field(&lab.info().unwrap(), "model.pruned").is_undefined());
}

/// `auto` takes WebGPU on a real GPU and the CPU otherwise: checked against whatever adapter
/// this browser has (SwiftShader, a software fallback, in headless Chromium here).
#[wasm_bindgen_test]
async fn auto_chooses_by_the_adapter_present() {
    let found = prunelab::web::adapter().await;
    let lab = Lab::open(obj(&[("backend", "auto".into())])).await.unwrap();
    let info = lab.backend().unwrap();
    let backend = field(&info, "backend").as_string().unwrap();
    let reason = field(&info, "reason").as_string().unwrap();
    match &found {
        // A real GPU: both timed, the faster taken, the figures reported.
        Ok(a) if !a.fallback => {
            let speeds: prunelab::web::Speeds = serde_wasm_bindgen::from_value(field(&info, "speeds")).unwrap();
            let faster = if speeds.webgpu > speeds.cpu { "webgpu" } else { "cpu" };
            assert_eq!(backend, faster, "{reason}");
        }
        Ok(a) => {
            assert_eq!(backend, "cpu");
            assert!(reason.contains("fallback") && reason.contains(&a.name), "{reason}");
        }
        Err(_) => assert_eq!(backend, "cpu", "{reason}"),
    }
    // The rule, for adapters this machine does not have: a real GPU is timed against the CPU
    // (None: no rule decides), a software one or none gives the CPU at once.
    let gpu = prunelab::web::Adapter { name: "acme gpu".into(), fallback: false };
    assert!(prunelab::web::auto(&Ok(gpu)).is_none());
    let soft = prunelab::web::Adapter { name: "google swiftshader".into(), fallback: true };
    assert_eq!(prunelab::web::auto(&Ok(soft)).unwrap().0, prunelab::web::Backend::Cpu);
    assert_eq!(prunelab::web::auto(&Err(prunelab::web::LabError::NoWebGpu("none".into()))).unwrap().0, prunelab::web::Backend::Cpu);
}

/// `auto` takes whichever backend the (injected) figures say is faster, and says why.
#[wasm_bindgen_test]
fn auto_takes_the_faster_backend_by_the_figures() {
    use prunelab::web::{Backend, Speeds, faster};
    let figures = |webgpu: f64, cpu: f64, cached: bool| Speeds { adapter: "acme gpu".into(), webgpu, cpu, cached };
    let (b, reason) = faster(&figures(900.0, 1500.0, false));
    assert_eq!(b, Backend::Cpu, "{reason}");
    assert!(reason.contains("900") && reason.contains("1500") && reason.contains("just now"), "{reason}");
    let (b, reason) = faster(&figures(4000.0, 1500.0, true));
    assert_eq!(b, Backend::Webgpu, "{reason}");
    assert!(reason.contains("earlier visit"), "{reason}");
}

/// The worker loads the WebGPU bundle only when it would be used: asked for, or `auto` on a real
/// GPU that an earlier visit did not find slower than the CPU (figures of the same adapter).
#[wasm_bindgen_test]
fn the_webgpu_bundle_is_wanted_only_when_it_would_be_used() {
    use prunelab::web::{Adapter, BackendChoice::*, LabError, Speeds, wants_webgpu};
    let gpu = Ok(Adapter { name: "acme gpu".into(), fallback: false });
    let soft = Ok(Adapter { name: "google swiftshader".into(), fallback: true });
    let none = Err(LabError::NoWebGpu("none".into()));
    let figures = |adapter: &str, webgpu: f64, cpu: f64| Speeds { adapter: adapter.into(), webgpu, cpu, cached: true };
    assert!(wants_webgpu(Webgpu, &none, None) && !wants_webgpu(Cpu, &gpu, None));
    assert!(wants_webgpu(Auto, &gpu, None), "a real GPU, not yet timed");
    assert!(!wants_webgpu(Auto, &soft, None) && !wants_webgpu(Auto, &none, None));
    assert!(!wants_webgpu(Auto, &gpu, Some(&figures("acme gpu", 900.0, 1500.0))), "timed slower before");
    assert!(wants_webgpu(Auto, &gpu, Some(&figures("acme gpu", 4000.0, 1500.0))));
    assert!(wants_webgpu(Auto, &gpu, Some(&figures("other gpu", 900.0, 1500.0))), "another adapter's figures");
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

/// Twenty sweeps, then twenty train-prune-reset cycles hold on to nothing on WebGPU: the
/// engine's heap and the buffers burn's allocator has in use come back after each to where the
/// first left them (the first may fill caches: compiled kernels, the allocator's pages), and
/// the buffers it reserves and the wasm memory end within 10 % of that (issue 15).
#[wasm_bindgen_test]
async fn memory_stays_flat_over_sweeps_and_cycles_on_webgpu() {
    let lab = lab("webgpu").await;
    lab.load_dataset(files()).unwrap();
    let measure = |lab: &Lab| {
        let m = lab.memory_use().unwrap();
        let wasm = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length();
        [num(&m, "heap_bytes"), num(&m, "device.bytes_in_use"), num(&m, "device.bytes_reserved"), wasm as f64]
    };
    let sweep = || obj(&[("methods", js_sys::Array::of1(&"weight".into()).into()), ("sparsities", js_sys::Array::of1(&50.into()).into())]);
    let train = || obj(&[("model", "mlp".into()), ("epochs", 1.into()), ("limit", 64.into()), ("batchSize", 32.into()), ("evaluate", false.into())]);
    let (mut sweeps, mut cycles) = (Vec::new(), Vec::new());
    ok(lab.train(train(), JsValue::UNDEFINED)).await;
    for _ in 0..20 {
        ok(lab.sweep(sweep(), JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
        sweeps.push(measure(&lab));
    }
    for _ in 0..20 {
        ok(lab.train(train(), JsValue::UNDEFINED)).await;
        ok(lab.prune_weights(90.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
        lab.reset().unwrap();
        cycles.push(measure(&lab));
    }
    for (name, after) in [("sweep", &sweeps), ("cycle", &cycles)] {
        let mb = |i: usize| after.iter().map(|a| format!("{:.1}", a[i] / (1 << 20) as f64)).collect::<Vec<_>>().join(" ");
        let said = format!("after each {name} (MB): heap {}; device in use {}; device reserved {}; wasm memory {}", mb(0), mb(1), mb(2), mb(3));
        console_log!("{said}");
        let most = |i: usize| after[1..].iter().map(|a| a[i]).fold(0.0, f64::max);
        assert!(most(0) <= after[0][0] + (1 << 20) as f64, "the heap grew: {said}");
        assert!(most(1) <= after[0][1] + (1 << 20) as f64, "the device buffers in use grew: {said}");
        assert!(most(2) <= after[0][2] * 1.1, "the device's reserved memory grew by more than 10 %: {said}");
        assert!(after[19][3] <= after[0][3] * 1.1, "the wasm memory grew by more than 10 %: {said}");
    }
}

/// Pruning with reconstruction through the Lab: the counts of a plain pruning, the calibration
/// recorded, and a clear error where it cannot apply.
#[wasm_bindgen_test]
async fn pruning_with_reconstruction() {
    let lab = std::rc::Rc::new(lab("cpu").await);
    lab.load_dataset(files()).unwrap();
    let options = obj(&[("model", "mlp".into()), ("epochs", 1.into()), ("limit", 128.into()), ("batchSize", 32.into()), ("evaluate", false.into())]);
    ok(lab.train(options, JsValue::UNDEFINED)).await;
    let plain = ok(lab.prune_weights(90.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    // Progress step by step, of a total known from the start.
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = seen.clone();
    let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        log.borrow_mut().push((field(&p, "type").as_string().unwrap_or_default(), num(&p, "step"), num(&p, "steps")));
    });
    let rebuilt = ok(lab.prune_weights(90.0, obj(&[("reconstruct", 64.into())]), on_progress.as_ref().clone())).await;
    let steps = seen.borrow().clone();
    assert!(steps.len() > 1 && steps.iter().enumerate().all(|(i, (t, s, n))| t == "reconstruct" && *s == (i + 1) as f64 && *n == steps.len() as f64), "{steps:?}");
    assert_eq!(num(&rebuilt, "removed"), num(&plain, "removed"));
    assert_eq!(num(&rebuilt, "calibration_images"), 64.0);
    assert!(field(&plain, "calibration_images").is_null() || field(&plain, "calibration_images").is_undefined());
    let units = ok(lab.prune_neurons(50.0, obj(&[("reconstruct", 64.into())]), JsValue::UNDEFINED)).await;
    assert_eq!(num(&units, "removed"), num(&ok(lab.prune_neurons(50.0, JsValue::UNDEFINED, JsValue::UNDEFINED)).await, "removed"));
    let (kind, m) = err(lab.prune_neurons(50.0, obj(&[("reconstruct", 64.into()), ("variant", "report".into())]), JsValue::UNDEFINED)).await;
    assert!(kind == "reconstruct" && m.contains("full variant"), "{kind}: {m}");

    // Cancelled at its first step: a "cancelled" error, and the pruning in use is the one before.
    let canceller = lab.clone();
    let cancel = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| canceller.cancel());
    let before = lab.info().unwrap();
    let (kind, m) = err(lab.prune_weights(95.0, obj(&[("reconstruct", 64.into())]), cancel.as_ref().clone())).await;
    assert!(kind == "cancelled" && m.contains("nothing changed"), "{kind}: {m}");
    assert_eq!(num(&lab.info().unwrap(), "model.nonzero_params"), num(&before, "model.nonzero_params"));
}
