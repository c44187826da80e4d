//! A drawing as the page sends it (JSON: side, strokes, painted pixels), and a drawings file, on any bytes:
//! refused with a reason, or checked and rendered to the network's 28×28 input, never a panic
//! or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prunelab::drawing::{Drawing, DrawingSet};

fuzz_target!(|bytes: &[u8]| {
    let _ = DrawingSet::parse(bytes);
    let Ok(drawing) = serde_json::from_slice::<Drawing>(bytes) else { return };
    if drawing.validate().is_ok() {
        let _ = drawing.to_input();
    }
});
