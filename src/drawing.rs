//! Drawings: the pad's stroke lists, and the one conversion of a drawing into the 28×28 input
//! the networks take. The page, the CLI and the tests all call [`Drawing::to_input`], so what
//! a visitor draws and what `prunelab eval --drawings` measures go through the same pixels.
//!
//! The conversion follows how Fashion-MNIST was made from product photos: crop to the garment's
//! bounding box, scale the longer side to 28 pixels, centre the shorter one, light garment on a
//! black background, 8-bit grey levels.

use std::borrow::Cow;

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
/// Distances [`Drawing::render`] may measure (about a second natively), so a hostile file
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
    /// The strokes as the page's canvas painted them: `side × side` grey levels, row by row.
    /// Given, the conversion reads them instead of painting the strokes itself, so the page
    /// turns into an input exactly what the visitor sees (a browser's anti-aliasing is not
    /// quite [`Drawing::render`]'s). Drawings files leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(with = "serde_bytes"), tsify(type = "Uint8Array", optional))]
    pub pixels: Option<Vec<u8>>,
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
        if let Some(pixels) = &self.pixels {
            let n = self.side as usize;
            if pixels.len() != n * n {
                return Err(format!("a {n}×{n} pad has {} pixels, not {}", n * n, pixels.len()));
            }
        }
        if self.work() > MAX_WORK {
            return Err("it has too many long, wide strokes to draw".into());
        }
        Ok(())
    }

    /// About how many distances rendering measures: each segment's box, clipped to the pad,
    /// and 16 more for each pixel of the band along its edge (at most the whole box).
    fn work(&self) -> f64 {
        let side = self.side as f64;
        let samples = SAMPLES.len() as f64;
        let segments = self.strokes.iter().flat_map(|s| {
            let pad = s.size as f64 + 2.0;
            s.points.windows(2).map(|w| (w[0], w[1])).chain((s.points.len() == 1).then(|| (s.points[0], s.points[0]))).map(move |(a, b)| {
                let dx = ((a[0] - b[0]).abs() as f64 + pad).min(side);
                let dy = ((a[1] - b[1]).abs() as f64 + pad).min(side);
                let band = (2.0 * (dx + dy) * (1.0 + 2.0 * SPREAD as f64)).min(dx * dy);
                dx * dy + samples * band
            })
        });
        segments.sum()
    }

    /// The pad as the page paints it: `side × side` grey bytes, anti-aliased round strokes
    /// (round caps and joins; a one-point stroke is a dot). Like Skia, which paints the page's
    /// canvas, a pixel's coverage is the share of 4 × 4 points in it that the stroke covers:
    /// closer to Chromium's pad than a coverage from the distance to the stroke, whose faint
    /// fringes moved the ink's box.
    pub fn render(&self) -> Vec<u8> {
        let n = self.side as usize;
        let mut ink = vec![0f32; n * n];
        // Which of a pixel's 16 points the current stroke covers, over the stroke's box.
        let mut covered = vec![0u16; n * n];
        for stroke in &self.strokes {
            let r = stroke.size / 2.0;
            let (bx0, by0, bx1, by1) = stroke_box(stroke, r + 1.0, n);
            for y in by0..by1 {
                covered[y * n + bx0..y * n + bx1].fill(0);
            }
            let segments = stroke.points.windows(2).map(|w| (w[0], w[1]));
            let dots = (stroke.points.len() == 1).then(|| (stroke.points[0], stroke.points[0]));
            for (a, b) in segments.chain(dots) {
                let (x0, y0) = (a[0].min(b[0]) - r - 1.0, a[1].min(b[1]) - r - 1.0);
                let (x1, y1) = (a[0].max(b[0]) + r + 1.0, a[1].max(b[1]) + r + 1.0);
                for y in clamp_px(y0, n)..clamp_px(y1 + 1.0, n) {
                    for x in clamp_px(x0, n)..clamp_px(x1 + 1.0, n) {
                        let cell = &mut covered[y * n + x];
                        if *cell == u16::MAX {
                            continue;
                        }
                        // The points lie within 0.53 px of the centre: most pixels are all in
                        // or all out, and only the stroke's edge needs its points one by one.
                        let d = segment_distance([x as f32 + 0.5, y as f32 + 0.5], a, b);
                        if d <= r - SPREAD {
                            *cell = u16::MAX;
                        } else if d < r + SPREAD {
                            for (bit, p) in SAMPLES.iter().enumerate() {
                                if segment_distance([x as f32 + p[0], y as f32 + p[1]], a, b) <= r {
                                    *cell |= 1 << bit;
                                }
                            }
                        }
                    }
                }
            }
            // Painted over what is there ("source-over" white, as the canvas does per stroke).
            for y in by0..by1 {
                for x in bx0..bx1 {
                    let c = covered[y * n + x].count_ones() as f32 / SAMPLES.len() as f32;
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

    /// The network's input for this drawing (its [`pixels`](Self::pixels) if given, else its
    /// strokes painted by [`Drawing::render`]), or `None` when nothing is drawn.
    pub fn to_input(&self) -> Option<[u8; IMAGE_PIXELS]> {
        let n = self.side as usize;
        match &self.pixels {
            Some(pixels) => to_input(pixels, n, n),
            None => to_input(&self.render(), n, n),
        }
    }
}

/// The points of a pixel whose coverage [`Drawing::render`] counts: a 4 × 4 grid, offsets from
/// the pixel's corner.
const SAMPLES: [[f32; 2]; 16] = {
    let mut points = [[0.0; 2]; 16];
    let mut i = 0;
    while i < 16 {
        points[i] = [((i % 4) as f32 + 0.5) / 4.0, ((i / 4) as f32 + 0.5) / 4.0];
        i += 1;
    }
    points
};
/// How far the farthest of those points is from the pixel's centre (√2 · 3/8), rounded up.
const SPREAD: f32 = 0.531;

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
/// box, scale so the longer side fills 28 pixels, centre. The scaling is the page's former
/// canvas downscale, step for step (halve while the image is over twice the target, then one
/// last smoothed draw), so that a pad image converts to what the page used to compute
/// (`Canvas::draw_image` says how Chromium smooths). `None` for a blank image.
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
    let side = IMAGE_SIDE as f64;
    let scale = side / (x1 - x0).max(y1 - y0) as f64;
    let mut src = Canvas { px: Cow::Borrowed(grey), w, h };
    let mut crop = Rect { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    let (dw, dh) = ((crop.w as f64 * scale).max(1.0), (crop.h as f64 * scale).max(1.0));
    // The former page's steps: halve while over twice the size (it did, to keep a single
    // smoothed draw from skipping pixels), then one draw into the centred box.
    while crop.w as f64 / 2.0 >= dw && crop.h as f64 / 2.0 >= dh {
        let (hw, hh) = (crop.w.div_ceil(2), crop.h.div_ceil(2));
        let mut half = Canvas { px: vec![0; hw * hh].into(), w: hw, h: hh };
        half.draw_image(&src, crop, [0.0, 0.0, hw as f64, hh as f64]);
        (src, crop) = (half, Rect { x: 0, y: 0, w: hw, h: hh });
    }
    let mut out = Canvas { px: vec![0; IMAGE_PIXELS].into(), w: IMAGE_SIDE, h: IMAGE_SIDE };
    out.draw_image(&src, crop, [(side - dw) / 2.0, (side - dh) / 2.0, dw, dh]);
    Some(out.px.into_owned().try_into().expect("28×28 pixels"))
}

/// A rectangle of whole pixels.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// A grey image the conversion draws on, as a 2-D canvas would (one channel: the pad is grey).
/// The first one borrows the caller's image, which the conversion only reads.
struct Canvas<'a> {
    px: Cow<'a, [u8]>,
    w: usize,
    h: usize,
}

impl Canvas<'_> {
    /// Draws the `from` part of `src` scaled into `dst` (`[x, y, width, height]`, fractional),
    /// as Chromium's 2-D canvas does with `imageSmoothingQuality = "high"` (measured by
    /// scripts/record-former-input.mjs's fixture; README, *One conversion*): Skia samples
    /// a mipmap trilinearly, at the level log2(scale) − ½ (its "sharpen" bias; scale is the
    /// geometric mean of the two axes' shrink), each level made by a 2- or 3-tap box filter
    /// that truncates; the destination's edges round to whole pixels (no anti-aliasing);
    /// geometry is single precision.
    fn draw_image(&mut self, src: &Canvas, from: Rect, dst: [f64; 4]) {
        let (out_w, out_h) = (self.w, self.h);
        let out = self.px.to_mut();
        let [dx, dy, dw, dh] = dst.map(|v| v as f32 as f64);
        let (kx, ky) = (from.w as f64 / dw, from.h as f64 / dh);
        let level = ((kx * ky).sqrt().log2() - 0.5).max(0.0);
        let (lower, upper_weight) = (level.floor() as usize, level.fract());
        // Level 0 is `src`; the smaller ones are made only when sampled.
        let mut mips: Vec<Canvas> = Vec::new();
        while mips.len() < lower + usize::from(upper_weight > 0.0) {
            let next = mips.last().unwrap_or(src).half();
            mips.push(next);
        }
        let level_image = |k: usize| if k == 0 { src } else { &mips[k - 1] };
        let round = |v: f64| (v + 0.5).floor().clamp(0.0, f64::MAX) as usize;
        let (xs, ys) = (round(dx)..round(dx + dw).min(out_w), round(dy)..round(dy + dh).min(out_h));
        for y in ys {
            for x in xs.clone() {
                // The pixel centre, back in the source image.
                let u = from.x as f64 + (x as f64 + 0.5 - dx) * kx;
                let v = from.y as f64 + (y as f64 + 0.5 - dy) * ky;
                let mut value = 0.0;
                for (k, weight) in [(lower, 1.0 - upper_weight), (lower + 1, upper_weight)] {
                    if weight > 0.0 {
                        let m = level_image(k);
                        let (su, sv) = (m.w as f64 / src.w as f64, m.h as f64 / src.h as f64);
                        value += weight * m.bilinear(u * su - 0.5, v * sv - 0.5);
                    }
                }
                out[y * out_w + x] = (value + 0.5).floor().clamp(0.0, 255.0) as u8;
            }
        }
    }

    /// The value at `(u, v)` (pixel centres at whole numbers), bilinear, edges clamped.
    fn bilinear(&self, u: f64, v: f64) -> f64 {
        let at = |x: f64, y: f64| {
            let (x, y) = (x.clamp(0.0, (self.w - 1) as f64) as usize, y.clamp(0.0, (self.h - 1) as f64) as usize);
            self.px[y * self.w + x] as f64
        };
        let (x0, y0) = (u.floor(), v.floor());
        let (fx, fy) = (u - x0, v - y0);
        let top = (1.0 - fx) * at(x0, y0) + fx * at(x0 + 1.0, y0);
        let bottom = (1.0 - fx) * at(x0, y0 + 1.0) + fx * at(x0 + 1.0, y0 + 1.0);
        (1.0 - fy) * top + fy * bottom
    }

    /// The next mipmap level, as Skia builds it: half the size (rounded down), each pixel the
    /// average of a 2×2 block, widened to 3 taps (¼ ½ ¼) along an odd side, rounded down.
    fn half(&self) -> Canvas<'static> {
        let (w, h) = ((self.w / 2).max(1), (self.h / 2).max(1));
        // The taps along a side of `n` pixels (offsets from 2i, weights) and their sum.
        let axis = |n: usize| -> (&[(usize, u32)], u32) {
            match n {
                1 => (&[(0, 1)], 1),
                n if n % 2 == 1 => (&[(0, 1), (1, 2), (2, 1)], 4),
                _ => (&[(0, 1), (1, 1)], 2),
            }
        };
        let ((tx, nx), (ty, ny)) = (axis(self.w), axis(self.h));
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0u32;
                for &(oy, wy) in ty {
                    let sy = (2 * y + oy).min(self.h - 1);
                    for &(ox, wx) in tx {
                        sum += wy * wx * self.px[sy * self.w + (2 * x + ox).min(self.w - 1)] as u32;
                    }
                }
                px[y * w + x] = (sum / (nx * ny)) as u8;
            }
        }
        Canvas { px: px.into(), w, h }
    }
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
        Drawing { side: self.canvas, strokes: d.strokes.clone(), pixels: None }
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
        assert!(Drawing { pixels: None, side: 280, strokes: vec![] }.to_input().is_none());
        assert!(to_input(&[0u8; 100], 10, 10).is_none());
    }

    #[test]
    fn a_stroke_covers_its_width() {
        let d = Drawing { pixels: None, side: 100, strokes: vec![line(10.0, &[[20.0, 50.5], [80.0, 50.5]])] };
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
        let d = Drawing { pixels: None, side: 50, strokes: vec![line(20.0, &[[25.0, 25.0]])] };
        let px = d.render();
        assert_eq!(px[25 * 50 + 25], 255);
        assert_eq!(px[25 * 50 + 33], 255);
        assert_eq!(px[25 * 50 + 37], 0);
        assert_eq!(px[17 * 50 + 17], 0);
    }

    #[test]
    fn a_tap_or_a_scribble_inside_the_brush_is_a_blot_and_a_drawn_shape_is_not() {
        let pad = |strokes| Drawing { pixels: None, side: 280, strokes };
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
        assert!((0..28).all(|x| input[14 * 28 + x] > 0));
        assert!((3..25).all(|x| input[14 * 28 + x] == 255));
    }

    /// One channel of a `w × h` test image with a single white pixel at `(x, y)`.
    fn dot(w: usize, h: usize, x: usize, y: usize) -> Canvas<'static> {
        let mut px = vec![0; w * h];
        px[y * w + x] = 255;
        Canvas { px: px.into(), w, h }
    }

    #[test]
    fn a_scaled_draw_smooths_as_chromium_does() {
        // What Chromium 156's canvas drew for these (`imageSmoothingQuality = "high"`).
        let draw = |src: &Canvas, side: usize| {
            let mut out = Canvas { px: vec![0; side * side].into(), w: side, h: side };
            out.draw_image(src, Rect { x: 0, y: 0, w: src.w, h: src.h }, [0.0, 0.0, side as f64, side as f64]);
            out.px.into_owned()
        };
        // 16 → 12: the top mipmap level only (log2 4/3 − ½ < 0), bilinear: (5/6)² of the dot.
        let out = draw(&dot(16, 16, 8, 8), 12);
        assert_eq!(out[6 * 12 + 6], 177);
        assert_eq!(out.iter().filter(|&&v| v > 0).count(), 1);
        // 40 → 10: the level a quarter the size (log2 4 − ½ = 1.5, between levels 1 and 2),
        // where the dot is a sixteenth of a pixel.
        let out = draw(&dot(40, 40, 20, 20), 10);
        assert_eq!(out[5 * 10 + 5], 15);
        assert_eq!(out.iter().filter(|&&v| v > 0).count(), 1);
        // Halving exactly is a 2×2 average.
        let out = draw(&dot(16, 16, 5, 5), 8);
        assert_eq!(out[2 * 8 + 2], 63);
        assert_eq!(out.iter().filter(|&&v| v > 0).count(), 1);
    }

    #[test]
    fn a_destination_edge_rounds_to_whole_pixels() {
        // Drawn into rows 4.67 .. 23.33, a full white image covers rows 5 ..= 22 fully, and
        // the rows the edges cut into not at all (the canvas does not anti-alias them).
        let white = Canvas { px: vec![255; 30 * 20].into(), w: 30, h: 20 };
        let mut out = Canvas { px: vec![0; 28 * 28].into(), w: 28, h: 28 };
        out.draw_image(&white, Rect { x: 0, y: 0, w: 30, h: 20 }, [0.0, 14.0 / 3.0, 28.0, 56.0 / 3.0]);
        let column: Vec<u8> = (0..28).map(|y| out.px[y * 28 + 10]).collect();
        assert_eq!(column, [[0; 5].as_slice(), &[255; 18], &[0; 5]].concat());
    }

    #[test]
    fn a_mipmap_level_averages_blocks_and_rounds_down() {
        let even = Canvas { px: vec![10, 20, 30, 40, 0, 0, 1, 2].into(), w: 4, h: 2 };
        assert_eq!(*even.half().px, [7, 18]); // (10 + 20 + 0 + 0) / 4 = 7.5, (30 + 40 + 1 + 2) / 4 = 18.25
        let odd = Canvas { px: vec![0, 255, 0].into(), w: 3, h: 1 };
        assert_eq!(*odd.half().px, [127]); // ¼ ½ ¼ taps: 127.5
    }

    #[test]
    fn moving_a_drawing_changes_nothing() {
        let at = |dx: f32| Drawing { pixels: None, side: 280, strokes: vec![line(12.0, &[[40.0 + dx, 40.0], [120.0 + dx, 90.0], [60.0 + dx, 150.0]])] };
        assert_eq!(at(0.0).to_input(), at(100.0).to_input());
    }

    #[test]
    fn bad_drawings_are_refused_with_a_reason() {
        let nan = Drawing { pixels: None, side: 280, strokes: vec![line(10.0, &[[f32::NAN, 1.0]])] };
        assert!(nan.validate().unwrap_err().contains("finite"));
        let empty = Drawing { pixels: None, side: 280, strokes: vec![line(10.0, &[])] };
        assert!(empty.validate().unwrap_err().contains("no points"));
        let huge = Drawing { pixels: None, side: 1 << 20, strokes: vec![] };
        assert!(huge.validate().is_err());
        let file = br#"{"format":"prunelab-drawings","version":1,"canvas":280,"drawings":[{"id":"x","label":12,"split":"dev","strokes":[]}]}"#;
        assert!(matches!(DrawingSet::parse(file), Err(DrawingError::BadDrawing { .. })));
        assert!(matches!(DrawingSet::parse(b"{}"), Err(DrawingError::BadFile(_))));
    }
}
