//! Label-preserving augmentation for Fashion-MNIST, so that a model learns garments rather than
//! the dataset's conventions: product photos all face one way, fill the frame exactly, and have
//! grey textured fills, while people draw shoes facing either way, slightly askew, sleeves held
//! out, as flat silhouettes or outlines.
//!
//! Every change here keeps the label: a mirrored sneaker is a sneaker, and so is its outline.
//! Draws come from a seeded [`SplitMix64`], so a run is the same on every machine.

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE, SplitMix64};

/// How strongly to augment. [`Augment::default`] is the recipe's `--augment`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Chance of mirroring left to right.
    pub flip: f32,
    /// Chance of turning the garment a little, and the largest angle, in degrees (see [`reshape`]).
    pub tilt: f32,
    pub max_tilt: f32,
    /// Chance of making a silhouette or outline wider or narrower, and the largest factor either
    /// way (see [`reshape`]). Only those: people draw in their own proportions, while a photo's
    /// are the garment's, and stretching the photos too cost accuracy on them.
    pub stretch: f32,
    pub max_stretch: f32,
    /// Chance of raising a top's sleeves away from its body (see [`lift_sleeves`]), and the
    /// largest angle, in degrees.
    pub sleeves: f32,
    pub max_lift: f32,
    /// Chance of cutting a neckline (a V or a scoop) into a T-shirt, pullover or dress (see
    /// [`cut_neckline`]).
    pub neckline: f32,
    /// Chance of turning the garment into a flat silhouette, half of them outlines only.
    pub silhouette: f32,
    /// Gamma range for the intensity and contrast jitter (x ↦ gain · x^γ).
    pub gamma: (f32, f32),
    pub gain: (f32, f32),
}

impl Default for Augment {
    fn default() -> Self {
        // Drawings go through the same crop and scale as the dataset's photos, so neither
        // shifts nor scales tell them apart; what differs is orientation (mirrored, askew),
        // proportions (a drawn dress flares wider than the photos'), pose (sleeves), necklines
        // and style (flat, outlined).
        Self { flip: 0.5, tilt: 0.5, max_tilt: 15.0, stretch: 0.5, max_stretch: 1.4, sleeves: 0.5, max_lift: 25.0, neckline: 0.5, silhouette: 0.5, gamma: (0.6, 1.5), gain: (0.75, 1.25) }
    }
}

/// A pixel at or above this belongs to the garment when making its silhouette. Fashion-MNIST's
/// background is 0 with faint noise; its darkest garments stay above this.
const GARMENT: f32 = 0.08;

impl Augment {
    /// Augments a batch of images (784 values in [0, 1] each, of classes `labels`) in place;
    /// `seed` decides every random choice.
    pub fn batch(&self, images: &mut [f32], labels: &[u8], seed: u64) {
        let mut rng = SplitMix64::new(seed);
        let mut scratch = [0f32; IMAGE_PIXELS];
        for (img, &label) in images.chunks_exact_mut(IMAGE_PIXELS).zip(labels) {
            self.image(img, label, &mut scratch, &mut rng);
        }
    }

    /// Augments one image of class `label` in place.
    pub fn image(&self, img: &mut [f32], label: u8, scratch: &mut [f32; IMAGE_PIXELS], rng: &mut SplitMix64) {
        if SLEEVED.contains(&label) && chance(rng, self.sleeves) {
            lift_sleeves(img, uniform(rng, 10.0, self.max_lift));
        }
        if NECKED.contains(&label) && chance(rng, self.neckline) {
            let (depth, half_width) = (uniform(rng, 0.04, 0.15), uniform(rng, 0.06, 0.14));
            cut_neckline(img, depth, half_width, chance(rng, 0.5));
        }
        let drawn = chance(rng, self.silhouette);
        if drawn {
            let level = uniform(rng, 0.7, 1.0);
            match rng.below(3) {
                0 => fill_silhouette(img, level),
                1 => outline(img, scratch, level, if chance(rng, 0.5) { 1 } else { 2 }),
                _ => edges(img, scratch, level, uniform(rng, 0.15, 0.35)),
            }
        }
        if chance(rng, self.flip) {
            for row in img.chunks_exact_mut(IMAGE_SIDE) {
                row.reverse();
            }
        }
        let degrees = if chance(rng, self.tilt) { uniform(rng, -self.max_tilt, self.max_tilt) } else { 0.0 };
        let widen = if drawn && chance(rng, self.stretch) { self.max_stretch.powf(uniform(rng, -1.0, 1.0)) } else { 1.0 };
        if degrees != 0.0 || widen != 1.0 {
            reshape(img, degrees, widen);
        }
        let (gamma, gain) = (uniform(rng, self.gamma.0, self.gamma.1), uniform(rng, self.gain.0, self.gain.1));
        // Back to 8-bit levels like the dataset's: resampling leaves faint values on pixels that
        // are exactly 0 in every real image, and their tiny gradients made Adam's moments
        // subnormal, which slowed training 3× (x86 and wasm compute subnormals slowly).
        for v in img.iter_mut() {
            *v = ((gain * v.powf(gamma)).min(1.0) * 255.0).round() * (1.0 / 255.0);
        }
    }
}

fn uniform(rng: &mut SplitMix64, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * ((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
}

fn chance(rng: &mut SplitMix64, p: f32) -> bool {
    uniform(rng, 0.0, 1.0) < p
}

/// The classes photographed with sleeves hanging down the body: T-shirt/top, pullover, coat, shirt.
const SLEEVED: [u8; 4] = [0, 2, 4, 6];

/// The garments pulled over the head, whose neck opening people draw as a dip in the outline:
/// T-shirt/top, pullover, dress. Shirts and coats are drawn with a collar or lapels, lines
/// inside a closed outline, as their photos show them; cutting a V into them too taught the
/// network that a drawn V-neck is a shirt's (README, *Drawings*).
const NECKED: [u8; 3] = [0, 2, 3];

/// A neckline cut into the top of the garment: a V (or, `round`, a scoop) `depth` of its height
/// deep and `half_width` of its width to each side, and the collar above it cleared. Product
/// photos show the back of the garment through the neck opening, so their outline runs straight
/// across the top; people draw the opening.
fn cut_neckline(img: &mut [f32], depth: f32, half_width: f32, round: bool) {
    const N: usize = IMAGE_SIDE;
    let Some((x0, y0, x1, y1)) = ink_box(img, N) else { return };
    let centre = (x0 + x1 + 1) as f32 / 2.0;
    let column = centre as usize;
    let Some(top) = (y0..=y1).find(|&y| img[y * N + column] >= GARMENT) else { return };
    let (top, deep, half) = (top as f32, depth * (y1 - y0 + 1) as f32, half_width * (x1 - x0 + 1) as f32);
    let cut = |x: f32, y: f32| {
        let (dx, dy) = ((x - centre).abs() / half, (y - top) / deep);
        dx <= 1.0 && (dy < 0.0 || if round { dx * dx + dy * dy <= 1.0 } else { dx + dy <= 1.0 })
    };
    // Each pixel keeps the part of its area outside the cut (4 × 4 samples).
    for (i, v) in img.iter_mut().enumerate() {
        let (px, py) = ((i % N) as f32, (i / N) as f32);
        let inside = (0..16).filter(|k| cut(px + (k % 4) as f32 / 4.0 + 0.125, py + (k / 4) as f32 / 4.0 + 0.125)).count();
        *v *= 1.0 - inside as f32 / 16.0;
    }
}

/// The garment with its outer fifth on each side (the sleeves, on a top) turned outward about
/// the shoulder by `degrees`, then framed again as the dataset frames an image (the longer
/// side filling 28 pixels, centred). The photos show sleeves hanging down the body; people
/// draw them held out, with a gap under each arm.
fn lift_sleeves(img: &mut [f32], degrees: f32) {
    const N: usize = IMAGE_SIDE;
    let Some((x0, y0, x1, y1)) = ink_box(img, N) else { return };
    let band = (x1 - x0 + 1) as f32 * 0.2;
    if band < 2.0 {
        return;
    }
    let src = img.to_vec();
    // A canvas twice the size, the image in its middle, for the sleeves to swing into.
    const M: usize = 2 * N;
    let off = (N / 2) as f32;
    let (left, right, shoulder) = (x0 as f32 + band, x1 as f32 + 1.0 - band, y0 as f32 + 0.12 * (y1 - y0 + 1) as f32);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let mut canvas = vec![0f32; M * M];
    for (i, v) in canvas.iter_mut().enumerate() {
        let (px, py) = ((i % M) as f32 + 0.5 - off, (i / M) as f32 + 0.5 - off);
        if (left..right).contains(&px) {
            *v = bilinear(&src, px - 0.5, py - 0.5);
        }
        // Each sleeve's pixel comes from where the inverse turn takes it, if that is the sleeve.
        let (dx, dy) = (px - left, py - shoulder);
        let lx = left + cos * dx + sin * dy;
        if lx < left {
            *v = v.max(bilinear(&src, lx - 0.5, shoulder - sin * dx + cos * dy - 0.5));
        }
        let (dx, dy) = (px - right, py - shoulder);
        let rx = right + cos * dx - sin * dy;
        if rx >= right {
            *v = v.max(bilinear(&src, rx - 0.5, shoulder + sin * dx + cos * dy - 0.5));
        }
    }
    frame(&canvas, M, img);
}

/// `img` = the garment on `canvas` (`side` wide) framed as the dataset frames an image: the
/// longer side of its ink filling 28 pixels, centred, each output pixel the mean of 3 × 3 samples.
fn frame(canvas: &[f32], side: usize, img: &mut [f32]) {
    const N: usize = IMAGE_SIDE;
    let Some((cx0, cy0, cx1, cy1)) = ink_box(canvas, side) else { return };
    let longer = (cx1 - cx0 + 1).max(cy1 - cy0 + 1) as f32;
    let scale = longer / N as f32;
    let (mx, my) = ((cx0 + cx1 + 1) as f32 / 2.0, (cy0 + cy1 + 1) as f32 / 2.0);
    let at = |x: f32, y: f32| {
        let (xi, yi) = (x.floor(), y.floor());
        if xi < 0.0 || yi < 0.0 || xi >= side as f32 || yi >= side as f32 { 0.0 } else { canvas[yi as usize * side + xi as usize] }
    };
    for (i, v) in img.iter_mut().enumerate() {
        let (ox, oy) = ((i % N) as f32 - N as f32 / 2.0, (i / N) as f32 - N as f32 / 2.0);
        let mut sum = 0.0;
        for sy in 0..3 {
            for sx in 0..3 {
                sum += at(mx + (ox + (sx as f32 + 0.5) / 3.0) * scale, my + (oy + (sy as f32 + 0.5) / 3.0) * scale);
            }
        }
        *v = sum / 9.0;
    }
}

/// The garment `widen` times as wide (about its centre), then turned by `degrees`, and framed
/// again, in one resampling. People draw garments askew (the drawn set's are turned by up to
/// 12°) and in their own proportions: a drawn dress flares wider than the photos' do, and with
/// the photos' widths only, an A-line dress outline reads as a bag with a handle. A turn inside
/// the 28 × 28 frame would cut the corners off and leave the garment smaller than the pad makes it.
fn reshape(img: &mut [f32], degrees: f32, widen: f32) {
    const N: usize = IMAGE_SIDE;
    const M: usize = 2 * N;
    let src = img.to_vec();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let c = M as f32 / 2.0;
    let mut canvas = vec![0f32; M * M];
    for (i, v) in canvas.iter_mut().enumerate() {
        let (dx, dy) = ((i % M) as f32 + 0.5 - c, (i / M) as f32 + 0.5 - c);
        let (ux, uy) = (cos * dx + sin * dy, -sin * dx + cos * dy);
        *v = bilinear(&src, ux / widen + N as f32 / 2.0 - 0.5, uy + N as f32 / 2.0 - 0.5);
    }
    frame(&canvas, M, img);
}

/// The smallest box (x0, y0, x1, y1, inclusive) holding every garment pixel of a `side`-wide image.
fn ink_box(img: &[f32], side: usize) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for (i, _) in img.iter().enumerate().filter(|(_, v)| **v >= GARMENT) {
        let (x, y) = (i % side, i / side);
        b = Some(match b {
            None => (x, y, x, y),
            Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
        });
    }
    b
}

/// The garment as one flat shade, as a filled drawing looks.
fn fill_silhouette(img: &mut [f32], level: f32) {
    for v in img.iter_mut() {
        *v = if *v >= GARMENT { level } else { 0.0 };
    }
}

/// Only the garment's edge, `width` pixels wide, as an outline drawing looks.
fn outline(img: &mut [f32], scratch: &mut [f32; IMAGE_PIXELS], level: f32, width: usize) {
    let n = IMAGE_SIDE as isize;
    let inside = |img: &[f32], x: isize, y: isize| (0..n).contains(&x) && (0..n).contains(&y) && img[(y * n + x) as usize] >= GARMENT;
    scratch.copy_from_slice(img);
    for y in 0..n {
        for x in 0..n {
            let w = width as isize;
            // An edge pixel is inside with something outside within `width` steps.
            let edge = inside(scratch, x, y) && (-w..=w).any(|d| !inside(scratch, x + d, y) || !inside(scratch, x, y + d));
            img[(y * n + x) as usize] = if edge { level } else { 0.0 };
        }
    }
}

/// Every strong edge of the image, inside the garment too (collars, plackets, zips, the gap
/// between trouser legs), as a line drawing with details looks. `threshold` is a fraction of
/// the strongest edge.
fn edges(img: &mut [f32], scratch: &mut [f32; IMAGE_PIXELS], level: f32, threshold: f32) {
    let n = IMAGE_SIDE as isize;
    scratch.copy_from_slice(img);
    let at = |x: isize, y: isize| if (0..n).contains(&x) && (0..n).contains(&y) { scratch[(y * n + x) as usize] } else { 0.0 };
    // Sobel gradient magnitude.
    let mut magnitude = [0f32; IMAGE_PIXELS];
    for y in 0..n {
        for x in 0..n {
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2.0 * at(x - 1, y) - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2.0 * at(x, y - 1) - at(x + 1, y - 1);
            magnitude[(y * n + x) as usize] = (gx * gx + gy * gy).sqrt();
        }
    }
    let cut = threshold * magnitude.iter().copied().fold(0.0, f32::max);
    for (v, m) in img.iter_mut().zip(magnitude) {
        *v = if m > cut && cut > 0.0 { level } else { 0.0 };
    }
}

fn bilinear(img: &[f32], x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| {
        let n = IMAGE_SIDE as f32;
        if xi < 0.0 || yi < 0.0 || xi >= n || yi >= n { 0.0 } else { img[yi as usize * IMAGE_SIDE + xi as usize] }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "garment": a 12 × 16 block with a grey texture, left of centre.
    fn garment() -> Vec<f32> {
        let mut img = vec![0f32; IMAGE_PIXELS];
        for y in 6..22 {
            for x in 4..16 {
                img[y * IMAGE_SIDE + x] = 0.3 + 0.05 * ((x + y) % 5) as f32;
            }
        }
        img
    }

    fn mass(img: &[f32]) -> f32 {
        img.iter().sum()
    }

    fn none() -> Augment {
        Augment { flip: 0.0, tilt: 0.0, stretch: 0.0, sleeves: 0.0, neckline: 0.0, silhouette: 0.0, gamma: (1.0, 1.0), gain: (1.0, 1.0), ..Augment::default() }
    }

    #[test]
    fn values_stay_in_range_and_runs_repeat() {
        let mut a: Vec<f32> = (0..64).flat_map(|_| garment()).collect();
        let mut b = a.clone();
        Augment::default().batch(&mut a, &[0; 64], 7);
        Augment::default().batch(&mut b, &[0; 64], 7);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        // Every value is an 8-bit level, as in the dataset.
        assert!(a.iter().all(|v| ((v * 255.0) - (v * 255.0).round()).abs() < 1e-3));
        let mut c: Vec<f32> = (0..64).flat_map(|_| garment()).collect();
        Augment::default().batch(&mut c, &[0; 64], 8);
        assert_ne!(a, c);
    }

    #[test]
    fn doing_nothing_changes_nothing() {
        let mut img: Vec<f32> = garment().iter().map(|v| (v * 255.0).round() / 255.0).collect();
        let before = img.clone();
        none().batch(&mut img, &[0], 1);
        assert!(img.iter().zip(&before).all(|(a, b)| (a - b).abs() < 1e-6));
    }

    #[test]
    fn a_photo_keeps_its_proportions() {
        // Stretching applies to silhouettes and outlines only.
        let mut img: Vec<f32> = garment().iter().map(|v| (v * 255.0).round() / 255.0).collect();
        let before = img.clone();
        Augment { stretch: 1.0, ..none() }.batch(&mut img, &[3], 1);
        assert!(img.iter().zip(&before).all(|(a, b)| (a - b).abs() < 1e-6));
    }

    #[test]
    fn a_flip_mirrors() {
        let mut img = garment();
        Augment { flip: 1.0, ..none() }.batch(&mut img, &[0], 1);
        assert!((img[10 * IMAGE_SIDE + 27 - 4] - garment()[10 * IMAGE_SIDE + 4]).abs() <= 0.51 / 255.0);
        assert_eq!(img[10 * IMAGE_SIDE + 4], 0.0);
    }

    #[test]
    fn silhouettes_keep_the_shape() {
        let mut filled = garment();
        fill_silhouette(&mut filled, 0.9);
        let shape: Vec<bool> = garment().iter().map(|&v| v >= GARMENT).collect();
        assert!(filled.iter().zip(&shape).all(|(&v, &s)| v == if s { 0.9 } else { 0.0 }));
        // Edges: the block's border, and nothing far inside or outside it.
        let mut lines = garment();
        edges(&mut lines, &mut [0.0; IMAGE_PIXELS], 1.0, 0.3);
        assert_eq!(lines[14 * IMAGE_SIDE + 4], 1.0);
        assert_eq!(lines[14 * IMAGE_SIDE + 10], 0.0);
        assert_eq!(lines[2 * IMAGE_SIDE + 2], 0.0);
        let mut edge = garment();
        outline(&mut edge, &mut [0.0; IMAGE_PIXELS], 1.0, 1);
        // The outline lies on the garment, keeps its corners, and leaves its middle empty.
        assert!(edge.iter().zip(&shape).all(|(&v, &s)| v == 0.0 || s));
        assert_eq!(edge[6 * IMAGE_SIDE + 4], 1.0);
        assert_eq!(edge[21 * IMAGE_SIDE + 15], 1.0);
        assert_eq!(edge[14 * IMAGE_SIDE + 10], 0.0);
    }

    /// A long-sleeved top as the photos show one: a body with a sleeve down each side, touching it.
    fn top() -> Vec<f32> {
        let mut img = vec![0f32; IMAGE_PIXELS];
        for y in 2..26 {
            for x in 4..24 {
                let sleeve = !(8..20).contains(&x);
                if !sleeve || y < 22 {
                    img[y * IMAGE_SIDE + x] = 0.6;
                }
            }
        }
        img
    }

    /// How many separate runs of garment pixels each row has.
    fn runs(img: &[f32]) -> Vec<usize> {
        img.chunks(IMAGE_SIDE).map(|row| row.windows(2).filter(|w| w[0] < GARMENT && w[1] >= GARMENT).count() + usize::from(row[0] >= GARMENT)).collect()
    }

    #[test]
    fn lifted_sleeves_leave_a_gap_under_each_arm_and_fill_the_frame() {
        assert!(runs(&top()).iter().all(|&r| r <= 1));
        let mut img = top();
        lift_sleeves(&mut img, 30.0);
        // Sleeve, body, sleeve: rows cut in three.
        assert!(runs(&img).iter().filter(|&&r| r == 3).count() >= 5, "runs per row: {:?}", runs(&img));
        // Framed again as the dataset is: the wider side now spans the frame, and is centred.
        let (x0, _, x1, _) = ink_box(&img, IMAGE_SIDE).unwrap();
        assert!(x0 <= 1 && x1 >= 26, "ink from column {x0} to {x1}");
        assert!(mass(&img) > 0.4 * mass(&top()));
        // Only tops: a trouser is left as it was.
        let mut trouser = top();
        Augment { sleeves: 1.0, ..none() }.batch(&mut trouser, &[1], 3);
        let rounded: Vec<f32> = top().iter().map(|v| (v * 255.0).round() / 255.0).collect();
        assert_eq!(trouser, rounded);
    }

    #[test]
    fn a_neckline_opens_the_top_in_the_middle_only() {
        let shape = |img: &[f32], x: usize, y: usize| img[y * IMAGE_SIDE + x] >= GARMENT;
        for round in [false, true] {
            let mut img = top();
            cut_neckline(&mut img, 0.15, 0.12, round);
            // Open at the top in the middle, 0.15 × 24 ≈ 3.6 rows deep; the shoulders and
            // everything below the cut are left as they were.
            assert!(!shape(&img, 14, 2) && !shape(&img, 13, 3), "round {round}: the neck is not open");
            assert!(shape(&img, 14, 6) && shape(&img, 9, 2) && shape(&img, 19, 2), "round {round}: cut too deep or too wide");
            assert_eq!(img[IMAGE_SIDE * 6..], top()[IMAGE_SIDE * 6..]);
        }
        // Only garments pulled over the head: a trouser, a coat, a shirt and a bag are left as
        // they were.
        for label in [1, 4, 6, 8] {
            let mut img = top();
            Augment { neckline: 1.0, ..none() }.batch(&mut img, &[label], 3);
            assert_eq!(img, top().iter().map(|v| (v * 255.0).round() / 255.0).collect::<Vec<f32>>());
        }
    }

    /// A flat block of 0.8 over columns `xs` and rows `ys`.
    fn block(xs: std::ops::Range<usize>, ys: std::ops::Range<usize>) -> Vec<f32> {
        let mut img = vec![0f32; IMAGE_PIXELS];
        for y in ys {
            img[y * IMAGE_SIDE + xs.start..y * IMAGE_SIDE + xs.end].fill(0.8);
        }
        img
    }

    #[test]
    fn a_tilt_turns_the_garment_and_frames_it_again() {
        // An upright bar, narrower than the frame and off-centre.
        let bar = block(6..10, 4..24);
        let centre_x = |img: &[f32], rows: std::ops::Range<usize>| {
            let (mut m, mut sx) = (0.0, 0.0);
            for y in rows {
                for x in 0..IMAGE_SIDE {
                    m += img[y * IMAGE_SIDE + x];
                    sx += x as f32 * img[y * IMAGE_SIDE + x];
                }
            }
            sx / m
        };
        for (degrees, leans_right) in [(15.0, true), (-15.0, false)] {
            let mut img = bar.clone();
            reshape(&mut img, degrees, 1.0);
            // Framed as the pad frames a drawing: its height spans the frame, centred.
            let (x0, y0, x1, y1) = ink_box(&img, IMAGE_SIDE).unwrap();
            assert!(y0 <= 1 && y1 >= 26, "{degrees}°: ink from row {y0} to {y1}");
            assert!(((x0 + x1) as f32 / 2.0 - 13.5).abs() < 1.5, "{degrees}°: columns {x0}..{x1}");
            // Turned: clockwise on screen (y down) moves the top right and the bottom left.
            let (top, bottom) = (centre_x(&img, 0..8), centre_x(&img, 20..28));
            assert_eq!(top > bottom, leans_right, "{degrees}°: top at {top}, bottom at {bottom}");
            assert!((top - bottom).abs() > 3.0, "{degrees}°: top at {top}, bottom at {bottom}");
        }
        // No turn: the same bar, only framed (scaled by 28/20 and centred).
        let mut img = bar.clone();
        reshape(&mut img, 0.0, 1.0);
        let (x0, y0, x1, y1) = ink_box(&img, IMAGE_SIDE).unwrap();
        assert_eq!((y0, y1), (0, 27));
        assert!((11..=12).contains(&x0) && (15..=16).contains(&x1), "columns {x0}..{x1}");
    }

    #[test]
    fn a_stretch_widens_or_narrows_and_frames_again() {
        // An upright bar 8 wide and 20 tall: framed, about 11 wide and 28 tall.
        let bar = block(6..14, 4..24);
        let width = |img: &[f32]| {
            let (x0, y0, x1, y1) = ink_box(img, IMAGE_SIDE).unwrap();
            assert_eq!((y0, y1), (0, 27), "still as tall as the frame");
            assert!(((x0 + x1) as f32 / 2.0 - 13.5).abs() <= 1.0, "centred: columns {x0}..{x1}");
            // Ink in the middle row, in pixels: the bar's width, its soft edges included.
            img[14 * IMAGE_SIDE..15 * IMAGE_SIDE].iter().sum::<f32>() / 0.8
        };
        let (mut wide, mut narrow, mut same) = (bar.clone(), bar.clone(), bar.clone());
        reshape(&mut wide, 0.0, 1.4);
        reshape(&mut narrow, 0.0, 1.0 / 1.4);
        reshape(&mut same, 0.0, 1.0);
        let (w, n, s) = (width(&wide), width(&narrow), width(&same));
        assert!((w / s - 1.4).abs() < 0.1 && (s / n - 1.4).abs() < 0.1, "widths {n} < {s} < {w}");
        // A wide garment, once wider, fills the frame's width and gets shorter.
        let mut slab = block(2..26, 8..20);
        let before = ink_box(&slab, IMAGE_SIDE).unwrap();
        reshape(&mut slab, 0.0, 1.4);
        let after = ink_box(&slab, IMAGE_SIDE).unwrap();
        assert!(after.0 <= 1 && after.2 >= 26 && after.3 - after.1 < before.3 - before.1, "{before:?} -> {after:?}");
    }
}
