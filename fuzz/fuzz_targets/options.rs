//! The options the Lab takes from JavaScript, on any bytes read as JSON (the same `Deserialize`
//! the Lab runs on a JavaScript value): refused with a reason, or turned into the engine's
//! request and checked as the Lab does, never a panic, a hang or an absurd allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prunelab::options::{FineTuneOptions, LabOptions, PreviewOptions, PruneOptions, SensitivityOptions, SweepOptions, TrainOptions};
use prunelab::spec::{Method, Sparsity};

fuzz_target!(|bytes: &[u8]| {
    let _ = serde_json::from_slice::<LabOptions>(bytes);
    let _ = serde_json::from_slice::<SensitivityOptions>(bytes);
    let _ = serde_json::from_slice::<FineTuneOptions>(bytes);
    if let Ok(o) = serde_json::from_slice::<TrainOptions>(bytes) {
        let _ = o.config().validate();
    }
    if let Ok(o) = serde_json::from_slice::<PruneOptions>(bytes) {
        for method in [Method::Weight, Method::Neuron] {
            let _ = o.spec(method, Sparsity::new(90.0).expect("in range"));
        }
    }
    if let Ok(o) = serde_json::from_slice::<PreviewOptions>(bytes) {
        let _ = o.spec(Sparsity::ZERO);
    }
    if let Ok(o) = serde_json::from_slice::<SweepOptions>(bytes) {
        let _ = o.sparsities();
    }
});
