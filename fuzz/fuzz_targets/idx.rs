//! The IDX reader on any bytes, raw or gzipped (the seeds include a gzip stream; libFuzzer's
//! comparison tracing finds the signature): an error or a dataset, never a panic, a hang or an
//! allocation the bytes do not justify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prunelab::data::{Dataset, maybe_gunzip, parse_images, parse_labels};

fuzz_target!(|bytes: &[u8]| {
    let Ok(raw) = maybe_gunzip("fuzz", bytes) else { return };
    let images = parse_images("images", &raw);
    let labels = parse_labels("labels", &raw);
    if images.is_ok() || labels.is_ok() {
        let _ = Dataset::from_idx("images", &raw, "labels", &raw);
    }
});
