//! The drawn-garment set and the one drawing → input conversion: the Rust conversion against
//! what the page computed before it moved into Rust, and the set's own promises.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use base64::Engine;
use prunelab::drawing::{DrawingSet, Split};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn set(name: &str) -> DrawingSet {
    DrawingSet::parse(&std::fs::read(root().join("www/drawings").join(name)).unwrap()).unwrap()
}

/// The page's former output (www/draw.js `toInput` on a canvas, recorded in Chromium by
/// scripts/record-former-input.mjs), by drawing id.
fn former() -> HashMap<String, Vec<u8>> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(root().join("tests/drawings/former-input.json")).unwrap()).unwrap();
    json["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, b64)| (id.clone(), base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap()))
        .collect()
}

/// The pads that former output was computed from, as Chromium painted them (same script): the
/// pad's side and its grey levels by drawing id.
fn former_pads() -> (usize, HashMap<String, Vec<u8>>) {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(root().join("tests/drawings/former-pads.bin.gz")).unwrap();
    let mut reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut header = String::new();
    reader.read_line(&mut header).unwrap();
    let header: serde_json::Value = serde_json::from_str(&header).unwrap();
    let side = header["side"].as_u64().unwrap() as usize;
    let pads = header["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            let mut pad = vec![0u8; side * side];
            reader.read_exact(&mut pad).unwrap();
            (id.as_str().unwrap().to_string(), pad)
        })
        .collect();
    (side, pads)
}

/// Largest and total |difference| between two inputs.
fn difference(a: &[u8], b: &[u8]) -> (u8, u64) {
    a.iter().zip(b).fold((0, 0), |(worst, sum), (x, y)| (worst.max(x.abs_diff(*y)), sum + x.abs_diff(*y) as u64))
}

#[test]
fn rust_conversion_matches_the_page_former_output() {
    let former = former();
    let (side, pads) = former_pads();
    assert!(pads.len() >= 300, "only {} recorded pads", pads.len());
    let (mut worst, mut total, mut exact) = (0u8, 0u64, 0usize);
    for (id, pad) in &pads {
        let got = prunelab::drawing::to_input(pad, side, side).expect("every drawing has ink");
        let (w, t) = difference(&got, &former[id]);
        assert!(w <= 1, "drawing {id}: a pixel differs by {w}/255 from the page's former input");
        (worst, total) = (worst.max(w), total + t);
        exact += got.iter().zip(&former[id]).filter(|(a, b)| a == b).count();
    }
    let pixels = (pads.len() * 784) as f64;
    println!("{} drawings: {:.2} % of pixels equal, the rest 1/255 apart (largest {worst}/255)", pads.len(), exact as f64 * 100.0 / pixels);
    assert!(total as f64 / pixels < 0.01, "mean difference {}/255", total as f64 / pixels);
}

#[test]
fn strokes_painted_by_the_engine_convert_as_the_canvas_painted_them() {
    // The CLI has no canvas: it paints the strokes itself (Drawing::render, 0.41/255 apart). The
    // page gives the Lab its canvas. How far apart the two inputs are, and whether the model
    // for drawings reads them alike.
    let device = burn::tensor::Device::flex();
    let file = prunelab::model::file::ModelFile::load(&root().join("www/models/drawings.plab")).unwrap();
    let model = prunelab::model::Model::from_weights(&file.weights, &device).unwrap();
    let (side, pads) = former_pads();
    let class = |input: &[u8]| {
        let px = prunelab::data::to_unit_floats(input);
        prunelab::train::argmax(&prunelab::block_on(prunelab::train::logits_of(&model, &px, &device)).unwrap())
    };
    // The ink's box (pixels above 24, as the conversion crops).
    let ink_box = |pad: &[u8]| {
        let ink: Vec<(usize, usize)> = (0..pad.len()).filter(|&i| pad[i] > 24).map(|i| (i % side, i / side)).collect();
        let (xs, ys) = (ink.iter().map(|p| p.0), ink.iter().map(|p| p.1));
        (xs.clone().min(), ys.clone().min(), xs.max(), ys.max())
    };
    let (mut pad_total, mut same_box, mut total, mut same, mut n) = (0u64, 0, 0u64, 0, 0);
    for name in ["generated.json", "hand.json"] {
        let s = set(name);
        for d in &s.drawings {
            let (ours, theirs) = (s.drawing(d).render(), &pads[&d.id]);
            pad_total += difference(&ours, theirs).1;
            same_box += (ink_box(&ours) == ink_box(theirs)) as usize;
            let painted = prunelab::drawing::to_input(&ours, side, side).unwrap();
            let canvas = prunelab::drawing::to_input(theirs, side, side).unwrap();
            total += difference(&painted, &canvas).1;
            same += (class(&painted) == class(&canvas)) as usize;
            n += 1;
        }
    }
    let mean = total as f64 / (n * 784) as f64;
    println!(
        "{n} drawings: the pads {:.3}/255 apart, the ink's box the same for {same_box}; the inputs {mean:.3}/255 apart; the model for drawings gives the same class to {same}",
        pad_total as f64 / (n * side * side) as f64
    );
    assert!(mean <= 0.5, "mean difference {mean}/255");
    assert!(same * 100 >= n * 97, "{same} of {n}");
}

#[test]
fn the_set_covers_every_class_in_both_splits() {
    for name in ["generated.json", "hand.json"] {
        let s = set(name);
        for split in [Split::Dev, Split::Heldout] {
            let mut per_class = [0usize; 10];
            for d in s.drawings.iter().filter(|d| d.split == split) {
                per_class[d.label as usize] += 1;
            }
            assert!(per_class.iter().all(|&n| n >= 2), "{name} {split:?}: {per_class:?}");
        }
    }
    let total: usize = ["generated.json", "hand.json"].iter().map(|n| set(n).drawings.len()).sum();
    assert!(total >= 100);
}


