//! Drawings: the pad's stroke lists, and the one conversion of a drawing into the 28×28 input
//! the networks take. The page, the CLI and the tests all call [`Drawing::to_input`], so what
//! a visitor draws and what `prunelab eval --drawings` measures go through the same pixels.
//!
//! The conversion follows how Fashion-MNIST was made from product photos: crop to the garment's
//! bounding box, scale the longer side to 28 pixels, centre the shorter one, light garment on a
//! black background, 8-bit grey levels.

use serde::{Deserialize, Serialize};

use crate::data::{CLASS_NAMES, Dataset, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

/// The pad's side in pixels, which the recorded drawings use.
pub const PAD_SIDE: u32 = 280;
/// A pixel darker than this (of 255) does not count as ink when cropping: the anti-aliased
/// fringe of a stroke should not widen the box.
const INK: u8 = 24;
/// Limits on untrusted drawings, far above what a person draws on a pad.
const MAX_SIDE: u32 = 2048;
const MAX_POINTS: usize = 200_000;
/// Pixel visits [`Drawing::render`] may make (about a second natively), so a hostile file
/// cannot stall the page or the CLI.
const MAX_WORK: f64 = 3e8;

/// Why a drawing or a drawings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DrawingError {
    #[error("the drawings file is not valid: {0}")]
    BadFile(String),
    #[error("drawing {id}: {reason}")]
    BadDrawing { id: String, reason: String },
}

/// One stroke as the pad records it: a brush width and the pointer positions, in pad pixels.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub size: f32,
    pub points: Vec<[f32; 2]>,
}

/// What a visitor drew: strokes on a square pad of `side` pixels (white on black).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drawing {
    /// Default: the page's pad, 280.
    #[serde(default = "pad_side")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub side: u32,
    pub strokes: Vec<Stroke>,
}

fn pad_side() -> u32 {
    PAD_SIDE
}

impl Drawing {
    /// Checks what a file or a page could have got wrong: sizes, counts, non-finite numbers.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=MAX_SIDE).contains(&self.side) {
            return Err(format!("the pad side must be 8..={MAX_SIDE} pixels, got {}", self.side));
        }
        let points: usize = self.strokes.iter().map(|s| s.points.len()).sum();
        if points > MAX_POINTS {
            return Err(format!("{points} points is more than the {MAX_POINTS} a drawing may have"));
        }
        for (i, s) in self.strokes.iter().enumerate() {
            if !(s.size.is_finite() && s.size > 0.0 && s.size <= self.side as f32) {
                return Err(format!("stroke {i} has brush size {}, not in (0, {}]", s.size, self.side));
            }
            if s.points.is_empty() {
                return Err(format!("stroke {i} has no points"));
            }
            if s.points.iter().flatten().any(|v| !v.is_finite()) {
                return Err(format!("stroke {i} has a coordinate that is not a finite number"));
            }
        }
        if self.work() > MAX_WORK {
            return Err("it has too many long, wide strokes to draw".into());
        }
        Ok(())
    }

    /// About how many pixels rendering visits: each segment's box, clipped to the pad.
    fn work(&self) -> f64 {
        let side = self.side as f64;
        let segments = self.strokes.iter().flat_map(|s| {
            let pad = s.size as f64 + 2.0;
            s.points.windows(2).map(|w| (w[0], w[1])).chain((s.points.len() == 1).then(|| (s.points[0], s.points[0]))).map(move |(a, b)| {
                let dx = ((a[0] - b[0]).abs() as f64 + pad).min(side);
                let dy = ((a[1] - b[1]).abs() as f64 + pad).min(side);
                dx * dy
            })
        });
        segments.sum()
    }

    /// The pad as the page paints it: `side × side` grey bytes, anti-aliased round strokes
    /// (round caps and joins; a one-point stroke is a dot).
    pub fn render(&self) -> Vec<u8> {
        let n = self.side as usize;
        let mut ink = vec![0f32; n * n];
        let mut dist = vec![f32::INFINITY; n * n];
        for stroke in &self.strokes {
            let r = stroke.size / 2.0;
            let (bx0, by0, bx1, by1) = stroke_box(stroke, r + 1.0, n);
            // Distance from each pixel centre to the stroke's centre line, over its box.
            for y in by0..by1 {
                dist[y * n + bx0..y * n + bx1].fill(f32::INFINITY);
            }
            let segments = stroke.points.windows(2).map(|w| (w[0], w[1]));
            let dots = (stroke.points.len() == 1).then(|| (stroke.points[0], stroke.points[0]));
            for (a, b) in segments.chain(dots) {
                let (x0, y0) = (a[0].min(b[0]) - r - 1.0, a[1].min(b[1]) - r - 1.0);
                let (x1, y1) = (a[0].max(b[0]) + r + 1.0, a[1].max(b[1]) + r + 1.0);
                for y in clamp_px(y0, n)..clamp_px(y1 + 1.0, n) {
                    for x in clamp_px(x0, n)..clamp_px(x1 + 1.0, n) {
                        let d = segment_distance([x as f32 + 0.5, y as f32 + 0.5], a, b);
                        let cell = &mut dist[y * n + x];
                        *cell = cell.min(d);
                    }
                }
            }
            // Coverage of a pixel by the stroke's edge, then painted over what is there
            // ("source-over" white, as the canvas does for each stroke).
            for y in by0..by1 {
                for x in bx0..bx1 {
                    let c = (r + 0.5 - dist[y * n + x]).clamp(0.0, 1.0);
                    let v = &mut ink[y * n + x];
                    *v += c * (1.0 - *v);
                }
            }
        }
        ink.iter().map(|v| (v * 255.0).round() as u8).collect()
    }

    /// Whether the drawing is a blot: its strokes' centre lines span less than its widest
    /// brush, so the round tip of the brush is all its shape, and scaled up to fill the frame
    /// (as every drawing is) it is a disc that the network would name as some garment. A tap
    /// on the pad is one.
    pub fn is_blot(&self) -> bool {
        let widest = self.strokes.iter().map(|s| s.size).fold(0.0, f32::max);
        let points = || self.strokes.iter().flat_map(|s| &s.points);
        let span = |axis: usize| {
            let (lo, hi) = points().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| (lo.min(p[axis]), hi.max(p[axis])));
            hi - lo
        };
        points().next().is_some() && span(0).max(span(1)) < widest
    }

    /// The network's input for this drawing, or `None` when nothing is drawn.
    pub fn to_input(&self) -> Option<[u8; IMAGE_PIXELS]> {
        let n = self.side as usize;
        to_input(&self.render(), n, n)
    }
}

fn pixel_range(lo: f32, hi: f32, n: usize) -> (usize, usize) {
    (clamp_px(lo, n), clamp_px(hi + 1.0, n))
}

fn clamp_px(v: f32, n: usize) -> usize {
    v.floor().clamp(0.0, n as f32) as usize
}

/// The pixel box `(x0, y0, x1, y1)` (ends exclusive) a stroke of half-width `pad` can touch.
fn stroke_box(stroke: &Stroke, pad: f32, n: usize) -> (usize, usize, usize, usize) {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for p in &stroke.points {
        (x0, y0, x1, y1) = (x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1]));
    }
    let (bx0, bx1) = pixel_range(x0 - pad, x1 + pad, n);
    let (by0, by1) = pixel_range(y0 - pad, y1 + pad, n);
    (bx0, by0, bx1.max(bx0), by1.max(by0))
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (ex, ey) = (p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
    (ex * ex + ey * ey).sqrt()
}

/// The 28×28 input for a `w × h` grey image (light ink on black): crop to the ink's bounding
/// box, scale so the longer side fills 28 pixels, centre, and average each output pixel over
/// the area it covers (the exact box filter a downscale should be). `None` for a blank image.
pub fn to_input(grey: &[u8], w: usize, h: usize) -> Option<[u8; IMAGE_PIXELS]> {
    assert_eq!(grey.len(), w * h, "a {w}×{h} image has {} pixels", w * h);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if grey[y * w + x] > INK {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    if x1 == 0 {
        return None;
    }
    let (bw, bh) = (x1 - x0, y1 - y0);
    let side = IMAGE_SIDE as f64;
    let scale = side / bw.max(bh) as f64;
    let cols = area_weights(x0, bw, scale);
    let rows = area_weights(y0, bh, scale);
    let mut out = [0u8; IMAGE_PIXELS];
    for (oy, row_w) in rows.iter().enumerate() {
        for (ox, col_w) in cols.iter().enumerate() {
            let mut sum = 0.0f64;
            for &(sy, wy) in row_w {
                let line = &grey[sy * w..sy * w + w];
                sum += wy * col_w.iter().map(|&(sx, wx)| wx * line[sx] as f64).sum::<f64>();
            }
            out[oy * IMAGE_SIDE + ox] = sum.round().clamp(0.0, 255.0) as u8;
        }
    }
    Some(out)
}

/// For each of the 28 output pixels along one axis, the source pixels it covers and by how
/// much (in output-pixel units): the `len` source pixels from `start` become `len · scale`
/// output pixels, centred in 28.
fn area_weights(start: usize, len: usize, scale: f64) -> Vec<Vec<(usize, f64)>> {
    let side = IMAGE_SIDE as f64;
    let span = (len as f64 * scale).max(1.0);
    let offset = (side - span) / 2.0;
    (0..IMAGE_SIDE)
        .map(|o| {
            // This output pixel's interval, within the scaled image, back in source pixels.
            let lo = (o as f64).max(offset);
            let hi = (o as f64 + 1.0).min(offset + span);
            if hi <= lo {
                return Vec::new();
            }
            let (slo, shi) = ((lo - offset) / span * len as f64, (hi - offset) / span * len as f64);
            let per_source = span / len as f64;
            (slo.floor() as usize..(shi.ceil() as usize).min(len))
                .filter_map(|s| {
                    let overlap = (shi.min(s as f64 + 1.0) - slo.max(s as f64)) * per_source;
                    (overlap > 0.0).then_some((start + s, overlap))
                })
                .collect()
        })
        .collect()
}

/// Which part of the drawn-garment set a drawing belongs to. `Heldout` drawings are kept out of
/// every choice (recipe, augmentation, thresholds) and only ever reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Dev,
    Heldout,
}

/// One drawing of a drawings file: the strokes and what it shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelledDrawing {
    pub id: String,
    pub label: u8,
    pub split: Split,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub style: Option<String>,
    pub strokes: Vec<Stroke>,
}

/// A drawings file (`www/drawings/*.json`, the pad's own format; see `www/drawings/README.md`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DrawingSet {
    pub format: String,
    pub version: u32,
    pub canvas: u32,
    pub drawings: Vec<LabelledDrawing>,
}

impl DrawingSet {
    pub const FORMAT: &str = "prunelab-drawings";

    /// Parses and checks a drawings file.
    pub fn parse(json: &[u8]) -> Result<Self, DrawingError> {
        let set: DrawingSet = serde_json::from_slice(json).map_err(|e| DrawingError::BadFile(e.to_string()))?;
        if set.format != Self::FORMAT || set.version != 1 {
            return Err(DrawingError::BadFile(format!(
                "expected format \"{}\" version 1, found \"{}\" version {}",
                Self::FORMAT,
                set.format,
                set.version
            )));
        }
        for d in &set.drawings {
            let bad = |reason: String| DrawingError::BadDrawing { id: d.id.clone(), reason };
            if d.label as usize >= NUM_CLASSES {
                return Err(bad(format!("label {} is not a class (0..{NUM_CLASSES})", d.label)));
            }
            set.drawing(d).validate().map_err(bad)?;
        }
        Ok(set)
    }

    /// The strokes of `d` on this set's pad.
    pub fn drawing(&self, d: &LabelledDrawing) -> Drawing {
        Drawing { side: self.canvas, strokes: d.strokes.clone() }
    }

    /// The drawings of `split` (all when `None`) as a dataset of inputs and labels, with the
    /// drawings in the same order. Blank drawings are left out.
    pub fn dataset(&self, split: Option<Split>) -> (Dataset, Vec<&LabelledDrawing>) {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        let mut kept = Vec::new();
        for d in self.drawings.iter().filter(|d| split.is_none_or(|s| d.split == s)) {
            if let Some(input) = self.drawing(d).to_input() {
                images.extend_from_slice(&input);
                labels.push(d.label);
                kept.push(d);
            }
        }
        (Dataset::new(images, labels).expect("inputs are 784 bytes each"), kept)
    }

    /// The class name of a label, for reports.
    pub fn class_name(label: u8) -> &'static str {
        CLASS_NAMES[label as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(size: f32, points: &[[f32; 2]]) -> Stroke {
        Stroke { size, points: points.to_vec() }
    }

    #[test]
    fn a_blank_pad_has_no_input() {
        assert!(Drawing { side: 280, strokes: vec![] }.to_input().is_none());
        assert!(to_input(&[0u8; 100], 10, 10).is_none());
    }

    #[test]
    fn a_stroke_covers_its_width() {
        let d = Drawing { side: 100, strokes: vec![line(10.0, &[[20.0, 50.5], [80.0, 50.5]])] };
        let px = d.render();
        // Inside the stroke: full; the pixel its edge halves: half; beyond: nothing.
        assert_eq!(px[50 * 100 + 50], 255);
        assert_eq!(px[44 * 100 + 50], 0);
        assert_eq!(px[45 * 100 + 50], 128);
        // Round caps: the stroke reaches 5 px past its ends.
        assert_eq!(px[50 * 100 + 16], 255);
        assert_eq!(px[50 * 100 + 86], 0);
    }

    #[test]
    fn a_dot_is_a_disc() {
        let d = Drawing { side: 50, strokes: vec![line(20.0, &[[25.0, 25.0]])] };
        let px = d.render();
        assert_eq!(px[25 * 50 + 25], 255);
        assert_eq!(px[25 * 50 + 33], 255);
        assert_eq!(px[25 * 50 + 37], 0);
        assert_eq!(px[17 * 50 + 17], 0);
    }

    #[test]
    fn a_tap_or_a_scribble_inside_the_brush_is_a_blot_and_a_drawn_shape_is_not() {
        let pad = |strokes| Drawing { side: 280, strokes };
        assert!(pad(vec![line(20.0, &[[140.0, 140.0]])]).is_blot(), "a tap");
        assert!(pad(vec![line(20.0, &[[10.0, 10.0], [25.0, 10.0], [25.0, 25.0], [10.0, 25.0]])]).is_blot(), "a square smaller than the brush");
        // The widest brush decides: a thin stroke beside it does not make a shape.
        assert!(pad(vec![line(4.0, &[[100.0, 100.0], [110.0, 105.0]]), line(20.0, &[[105.0, 102.0]])]).is_blot());
        assert!(!pad(vec![line(20.0, &[[100.0, 100.0], [121.0, 100.0]])]).is_blot(), "a line longer than the brush");
        assert!(!pad(vec![line(4.0, &[[120.0, 120.0], [130.0, 120.0], [130.0, 130.0], [120.0, 130.0], [120.0, 120.0]])]).is_blot(), "a small outline, thin brush");
        assert!(!pad(vec![]).is_blot(), "blank is blank, not a blot");
    }

    #[test]
    fn the_longer_side_fills_the_image_and_the_shorter_is_centred() {
        // A 40 × 20 white block anywhere on a 100 × 100 image becomes 28 × 14, centred.
        let mut grey = vec![0u8; 100 * 100];
        for y in 60..80 {
            grey[y * 100 + 5..y * 100 + 45].fill(255);
        }
        let input = to_input(&grey, 100, 100).unwrap();
        let rows: Vec<usize> = (0..28).filter(|y| input[y * 28 + 14] > 0).collect();
        assert_eq!(rows, (7..21).collect::<Vec<_>>());
        assert!((0..28).all(|x| input[14 * 28 + x] == 255));
        // Area averaging keeps the mean brightness: 28 × 14 full pixels.
        let total: u32 = input.iter().map(|&v| v as u32).sum();
        assert_eq!(total, 28 * 14 * 255);
    }

    #[test]
    fn moving_a_drawing_changes_nothing() {
        let at = |dx: f32| Drawing { side: 280, strokes: vec![line(12.0, &[[40.0 + dx, 40.0], [120.0 + dx, 90.0], [60.0 + dx, 150.0]])] };
        assert_eq!(at(0.0).to_input(), at(100.0).to_input());
    }

    #[test]
    fn bad_drawings_are_refused_with_a_reason() {
        let nan = Drawing { side: 280, strokes: vec![line(10.0, &[[f32::NAN, 1.0]])] };
        assert!(nan.validate().unwrap_err().contains("finite"));
        let empty = Drawing { side: 280, strokes: vec![line(10.0, &[])] };
        assert!(empty.validate().unwrap_err().contains("no points"));
        let huge = Drawing { side: 1 << 20, strokes: vec![] };
        assert!(huge.validate().is_err());
        let file = br#"{"format":"prunelab-drawings","version":1,"canvas":280,"drawings":[{"id":"x","label":12,"split":"dev","strokes":[]}]}"#;
        assert!(matches!(DrawingSet::parse(file), Err(DrawingError::BadDrawing { .. })));
        assert!(matches!(DrawingSet::parse(b"{}"), Err(DrawingError::BadFile(_))));
    }
}
