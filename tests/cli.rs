//! The CLI on bad input: a clear error, a non-zero exit, and nothing written.

#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Device;
use prunelab::block_on;
use prunelab::model::Arch;
use prunelab::model::file::{Precision, encode};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prunelab-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small valid model file (an MLP with one hidden layer of 4 units).
fn model_file(dir: &Path) -> PathBuf {
    let w = block_on(Arch::Mlp { hidden: vec![4] }.init(&Device::flex()).to_weights()).unwrap();
    let path = dir.join("small.plab");
    std::fs::write(&path, encode(&w, &serde_json::Value::Null, Precision::F32)).unwrap();
    path
}

/// Runs `prunelab args…` and returns (success, stderr).
fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prunelab")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_sparsities_and_methods_are_refused_and_nothing_is_written() {
    let dir = scratch("sparsity");
    let model = model_file(&dir);
    let out = dir.join("pruned.plab");
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    for (method, k, expect) in [
        ("weight", "NaN", "sparsity"),
        ("weight", "-1", "sparsity"),
        ("neuron", "150", "sparsity"),
        ("weight", "lots", "sparsity"),
        ("magic", "50", "magic"),
    ] {
        let (ok, err) = run(&["prune", "--model-file", m, "--method", method, "--sparsity", k, "--out", o]);
        assert!(!ok, "{method} {k} was accepted");
        assert!(err.to_lowercase().contains(expect), "{method} {k}: {err}");
        assert!(!out.exists(), "{method} {k} wrote a file");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_or_mismatched_model_files_are_refused() {
    let dir = scratch("files");
    let out = dir.join("pruned.plab");
    let o = out.to_str().unwrap();
    let missing = dir.join("nope.plab");
    let (ok, err) = run(&["prune", "--model-file", missing.to_str().unwrap(), "--method", "weight", "--sparsity", "50", "--out", o]);
    assert!(!ok && err.contains("nope.plab"), "{err}");

    // A file whose header names another architecture than its tensors have.
    let mut w = block_on(Arch::Mlp { hidden: vec![4] }.init(&Device::flex()).to_weights()).unwrap();
    w.arch = Arch::Mlp { hidden: vec![5] };
    let mismatched = dir.join("mismatched.plab");
    std::fs::write(&mismatched, encode(&w, &serde_json::Value::Null, Precision::F32)).unwrap();
    // A truncated file and a file that is not a model at all.
    let good = std::fs::read(model_file(&dir)).unwrap();
    let truncated = dir.join("truncated.plab");
    std::fs::write(&truncated, &good[..good.len() - 10]).unwrap();
    let text = dir.join("text.plab");
    std::fs::write(&text, "hello").unwrap();
    for bad in [&mismatched, &truncated, &text] {
        let (ok, err) = run(&["prune", "--model-file", bad.to_str().unwrap(), "--method", "neuron", "--sparsity", "50", "--out", o]);
        assert!(!ok, "{} was accepted", bad.display());
        assert!(err.starts_with("prunelab: error:") && err.len() > 25, "{}: {err}", bad.display());
        assert!(!out.exists());
        let (ok, _) = run(&["eval", "--model-file", bad.to_str().unwrap()]);
        assert!(!ok);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_unbuilt_cpu_backend_is_a_clear_error() {
    let (ok, err) = run(&["bench", "--device", "cpu"]);
    assert!(!ok);
    assert!(err.contains("--device flex"), "{err}");
}

#[test]
fn a_gradual_schedule_that_would_unprune_is_refused() {
    let dir = scratch("schedule");
    let model = model_file(&dir);
    let out = dir.join("pruned.plab");
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let prune = ["prune", "--model-file", m, "--method", "weight", "--sparsity", "90", "--out", o];
    let (ok, err) = run(&[&prune[..], &["--gradual-epochs", "1", "--initial-sparsity", "95"]].concat());
    assert!(!ok && err.contains("initial sparsity"), "{err}");
    // The schedule's options mean nothing without --gradual-epochs.
    let (ok, err) = run(&[&prune[..], &["--initial-sparsity", "50"]].concat());
    assert!(!ok && err.contains("--gradual-epochs"), "{err}");
    assert!(!out.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Ctrl-C (a real SIGINT) in the middle of a sweep: a non-zero exit that says "cancelled", and
/// none of the sweep's files, where an earlier version exited 0 with a one-point "result".
#[test]
fn a_sigint_cancels_a_sweep_and_writes_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("www/data");
    if !data.join("train-images-idx3-ubyte.gz").exists() {
        eprintln!("skipped: no Fashion-MNIST in {} (bash scripts/setup-data.sh)", data.display());
        return;
    }
    let dir = scratch("sigint");
    let out = dir.join("sweep");
    let model = root.join("www/models/default.plab");
    let child = Command::new(env!("CARGO_BIN_EXE_prunelab"))
        .args(["sweep", "--model-file", model.to_str().unwrap(), "--finetune-epochs", "1", "--data", data.to_str().unwrap(), "--out-dir", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Loading the data takes about a second; by 3 s the first point is fine-tuning.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(!done.status.success(), "a cancelled sweep exited 0");
    assert!(stderr.contains("cancelled"), "{stderr}");
    for f in ["sweep.md", "sweep.csv", "sweep.json", "sweep.svg"] {
        assert!(!out.join(f).exists(), "{f} was written");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `prune --json` prints a PruneReport as the engine serializes it (the Lab's result, field for
/// field), plus `dense_accuracy` and `compact`; never the old hand-made names for the same facts.
#[test]
fn prune_json_has_the_prune_report_fields() {
    use prunelab::data::{Dataset, IMAGE_PIXELS};
    use prunelab::prune::{Method, PruneReport, PruneSpec, Scope, Sparsity, Variant, measure_compaction, prune};
    use std::collections::BTreeSet;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("www/data");
    if !data.join("t10k-images-idx3-ubyte.gz").exists() {
        eprintln!("skipped: no Fashion-MNIST in {} (bash scripts/setup-data.sh)", data.display());
        return;
    }
    let model = root.join("www/models/default.plab");
    let out = Command::new(env!("CARGO_BIN_EXE_prunelab"))
        .args(["prune", "--model-file", model.to_str().unwrap(), "--method", "weight", "--sparsity", "90", "--json", "--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON value");
    let keys = |v: &serde_json::Value| v.as_object().expect("an object").keys().cloned().collect::<BTreeSet<_>>();
    let cli_keys = keys(&cli);

    // The same types from the library, on a tiny model and two blank images.
    let device = Device::flex();
    let w = block_on(Arch::Mlp { hidden: vec![4] }.init(&device).to_weights()).unwrap();
    let spec = PruneSpec { method: Method::Weight, sparsity: Sparsity::new(50.0).unwrap(), scope: Scope::Global, connected: false, variant: Variant::Full };
    let p = prune(&w, spec, None).unwrap();
    let test = Dataset::new(vec![0; 2 * IMAGE_PIXELS], vec![0, 1]).unwrap();
    let report = serde_json::to_value(block_on(PruneReport::new(&p, Some(&test), &device)).unwrap()).unwrap();
    let (_, compact) = block_on(measure_compaction(&p.weights, &test, 1, &device, async || {})).unwrap();
    let missing: Vec<_> = keys(&report).difference(&cli_keys).cloned().collect();
    assert!(missing.is_empty(), "PruneReport fields missing from prune --json: {missing:?} (has {cli_keys:?})");
    assert_eq!(keys(&cli["compact"]), keys(&serde_json::to_value(compact).unwrap()));
    assert_eq!(keys(&cli["sparse_sizes"]), keys(&report["sparse_sizes"]));
    assert!(cli["dense_accuracy"].as_f64().is_some_and(|a| a > 0.8), "{}", cli["dense_accuracy"]);
    for old in ["params", "removed_by_mask"] {
        assert!(!cli_keys.contains(old), "prune --json still has `{old}`");
    }
    assert_eq!(cli["spec"]["method"], "weight");
    assert_eq!(cli["total_params"], 2_388_710);
}

/// Values are spelt as in the JSON and TypeScript types; others are refused with the choices.
#[test]
fn enum_values_are_the_json_names() {
    let (ok, err) = run(&["sweep", "--model-file", "x.plab", "--methods", "weights"]);
    assert!(!ok && err.contains("weights") && err.contains("neuron"), "{err}");
    let (ok, err) = run(&["train", "--model", "resnet"]);
    assert!(!ok && err.contains("resnet") && err.contains("mlp"), "{err}");
}

/// Runs `prunelab args…` and returns its stdout as JSON.
fn run_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_prunelab")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Piped into a reader that stops early (`prunelab eval … | head -1`): the command ends at its
/// next write, as Unix tools do, not with a panic and its backtrace.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (model, drawings) = (root.join("www/models/drawings.plab"), root.join("www/drawings/generated.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_prunelab"))
        .args(["eval", "--model-file", model.to_str().unwrap(), "--drawings", drawings.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line (the model loads first)
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    const SIGPIPE: i32 = 13;
    assert_eq!(out.status.signal(), Some(SIGPIPE), "{:?}: {err}", out.status);
}

#[test]
fn eval_on_drawings_reports_each_split_and_repeats_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("www/models/default.plab");
    let (generated, hand) = (root.join("www/drawings/generated.json"), root.join("www/drawings/hand.json"));
    let args = ["eval", "--json", "--model-file", model.to_str().unwrap(), "--drawings", generated.to_str().unwrap(), "--drawings", hand.to_str().unwrap()];
    let first = run_json(&args);
    let reports = first["drawings"].as_array().unwrap();
    assert_eq!(reports.iter().map(|r| r["split"].clone()).collect::<Vec<_>>(), [serde_json::json!("dev"), serde_json::json!("heldout"), serde_json::Value::Null]);
    let count = |r: &serde_json::Value| r["evaluation"]["confusion"].as_array().unwrap().iter().flat_map(|row| row.as_array().unwrap()).map(|c| c.as_u64().unwrap()).sum::<u64>();
    assert_eq!(count(&reports[0]) + count(&reports[1]), count(&reports[2]));
    assert_eq!(count(&reports[2]), 340);
    assert_eq!(reports[2]["evaluation"]["per_class_accuracy"].as_array().unwrap().len(), 10);
    // The same numbers every run (seconds aside).
    let strip = |mut v: serde_json::Value| {
        for r in v["drawings"].as_array_mut().unwrap() {
            r["evaluation"]["seconds"] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(strip(first), strip(run_json(&args)));
    // A broken file is named.
    let dir = scratch("drawings");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"format":"prunelab-drawings","version":1,"canvas":280,"drawings":[{"id":"x","label":3,"split":"dev","strokes":[{"size":-4,"points":[[1,2]]}]}]}"#).unwrap();
    let (ok, err) = run(&["eval", "--model-file", model.to_str().unwrap(), "--drawings", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("bad.json") && err.contains("drawing x") && err.contains("brush size"), "{err}");
    // A file of dev drawings only reports them and all, not an empty held-out split; a file of
    // none says so.
    let dev = dir.join("dev.json");
    std::fs::write(&dev, r#"{"format":"prunelab-drawings","version":1,"canvas":280,"drawings":[{"id":"x","label":3,"split":"dev","strokes":[{"size":12,"points":[[100,40],[140,40],[170,250],[70,250],[100,40]]}]}]}"#).unwrap();
    let only = run_json(&["eval", "--json", "--model-file", model.to_str().unwrap(), "--drawings", dev.to_str().unwrap()]);
    let splits: Vec<_> = only["drawings"].as_array().unwrap().iter().map(|r| r["split"].clone()).collect();
    assert_eq!(splits, [serde_json::json!("dev"), serde_json::Value::Null]);
    let empty = dir.join("empty.json");
    std::fs::write(&empty, r#"{"format":"prunelab-drawings","version":1,"canvas":280,"drawings":[]}"#).unwrap();
    let (ok, err) = run(&["eval", "--model-file", model.to_str().unwrap(), "--drawings", empty.to_str().unwrap()]);
    assert!(!ok && err.contains("no drawings"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_90_percent_pruned_mlp_saves_sparse_under_a_megabyte_and_predicts_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("www/models/default.plab");
    let dir = scratch("sparse");
    let out = dir.join("w90.plab");
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let pruned = run_json(&["prune", "--json", "--model-file", m, "--method", "weight", "--sparsity", "90", "--out", o, "--f16"]);
    let size = std::fs::metadata(&out).unwrap().len();
    assert!(size < 1_000_000, "{size} bytes");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2, "not the sparse version");
    // The default model is f16 already, so the saved file holds exactly the pruned weights.
    let saved = run_json(&["eval", "--json", "--model-file", o]);
    assert_eq!(saved["evaluation"]["accuracy"], pruned["accuracy"]);
    // Saved compacted: units left without weights are gone, the rest as pruned.
    assert!(saved["nonzero_params"].as_u64().unwrap() <= pruned["nonzero_params"].as_u64().unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sensitivity_curves_drive_the_sensitivity_scope_and_must_fit_the_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("www/models/default.plab");
    let dir = scratch("sensitivity");
    let curves = dir.join("curves.json");
    let (m, c) = (model.to_str().unwrap(), curves.to_str().unwrap());
    let s = run_json(&["sensitivity", "--json", "--model-file", m, "--sensitivity-images", "200", "--out", c]);
    let sparsities = s["sparsities"].as_array().unwrap().len();
    let layers = s["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 4, "one curve per hidden layer");
    assert!(layers.iter().all(|l| l["accuracy"].as_array().unwrap().len() == sparsities), "one point per sparsity");
    assert_eq!(s["images"], 200);
    // The saved curves drive the scope: exactly ⌊k/100 · n⌋ of the 2,384,000 hidden weights.
    for k in [80, 95] {
        let p = run_json(&["prune", "--json", "--model-file", m, "--method", "weight", "--sparsity", &k.to_string(), "--scope", "sensitivity", "--sensitivity", c]);
        assert_eq!(p["removed"].as_u64().unwrap(), 2_384_000 * k / 100, "{k} %");
        assert_eq!(p["spec"]["scope"], "sensitivity");
    }
    // Curves of another model are refused before any work.
    let (ok, err) = run(&["prune", "--model-file", model_file(&dir).to_str().unwrap(), "--method", "weight", "--sparsity", "50", "--scope", "sensitivity", "--sensitivity", c]);
    assert!(!ok && err.contains("do not fit"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
