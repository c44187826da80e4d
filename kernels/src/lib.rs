//! The inner loops of Prune Lab's fused CNN block (`src/model/conv_block.rs`), dense layers
//! (`src/model/dense.rs`: bias, ReLU) and dropout mask, on plain slices, with no burn in sight.
//!
//! A crate of its own for one reason: the page's bundles build the lab for size (opt-level `z`),
//! which leaves these loops scalar and branchy; the workspace's Cargo.toml builds this crate at
//! opt-level 3 instead, as it does burn-flex's and gemm's kernels (README, Speed).

/// Where a pooled value's maximum was in its 2×2 window (0..4, row-major), or `DEAD` when the
/// ReLU zeroed it (no gradient flows).
pub const DEAD: u8 = 4;

/// One image's sizes in a block: `c` input channels of `h` × `w` (both even) into `k` channels,
/// by a 2×2 `same` convolution, then 2×2 max-pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
}

impl Image {
    /// Values in one channel.
    pub fn plane(&self) -> usize {
        self.h * self.w
    }

    /// Values in one pooled channel.
    pub fn pooled(&self) -> usize {
        self.plane() / 4
    }

    /// `col [4c, h·w]` of `x [c, h, w]`: row `(c, kh, kw)` is channel `c` shifted up `kh` and left
    /// `kw`, zero past the edge (burn's `same` padding for a 2×2 kernel pads the bottom and right).
    pub fn im2col(&self, x: &[f32], col: &mut Vec<f32>) {
        let (h, w) = (self.h, self.w);
        col.clear();
        col.resize(4 * self.c * self.plane(), 0.0);
        for (c, plane) in x.chunks(self.plane()).enumerate() {
            for (kh, kw) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let row = &mut col[(4 * c + 2 * kh + kw) * self.plane()..][..self.plane()];
                for i in 0..h - kh {
                    row[i * w..i * w + w - kw].copy_from_slice(&plane[(i + kh) * w + kw..(i + kh + 1) * w]);
                }
            }
        }
    }

    /// Adds `dcol [4c, h·w]` back into `dx [c, h, w]`: the adjoint of [`Image::im2col`].
    pub fn col2im(&self, dcol: &[f32], dx: &mut [f32]) {
        let (h, w) = (self.h, self.w);
        for (c, plane) in dx.chunks_mut(self.plane()).enumerate() {
            for (kh, kw) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let row = &dcol[(4 * c + 2 * kh + kw) * self.plane()..][..self.plane()];
                for i in 0..h - kh {
                    let to = &mut plane[(i + kh) * w + kw..(i + kh + 1) * w];
                    to.iter_mut().zip(&row[i * w..i * w + w - kw]).for_each(|(t, r)| *t += r);
                }
            }
        }
    }

    /// Bias, 2×2 max-pool and ReLU of the convolution's `z [k, h·w]` into `y [k, h/2·w/2]`, with
    /// where each maximum was in `arg`. The window's first maximum wins, as in burn's pooling;
    /// written without branches, so the compiler vectorises it.
    pub fn pool(&self, z: &[f32], bias: &[f32], y: &mut [f32], arg: &mut [u8]) {
        let (w, w2, h2) = (self.w, self.w / 2, self.h / 2);
        for (r, (y, arg)) in y.chunks_mut(w2).zip(arg.chunks_mut(w2)).enumerate() {
            let (k, i) = (r / h2, r % h2);
            let zk = &z[k * self.plane()..];
            let (top, bottom) = (&zk[2 * i * w..][..w], &zk[(2 * i + 1) * w..][..w]);
            for j in 0..w2 {
                let (a, b, c, d) = (top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]);
                let (m1, i1) = if b > a { (b, 1) } else { (a, 0) };
                let (m2, i2) = if d > c { (d, 3) } else { (c, 2) };
                let (m, at) = if m2 > m1 { (m2, i2) } else { (m1, i1) };
                let v = m + bias[k];
                (y[j], arg[j]) = if v > 0.0 { (v, at) } else { (0.0, DEAD) };
            }
        }
    }

    /// The adjoint of [`Image::pool`]: `dz [k, h·w]` holds each pooled value's gradient at the
    /// place of its maximum (zero elsewhere), and `db [k]` their sums (the bias gradient).
    pub fn unpool(&self, dy: &[f32], arg: &[u8], dz: &mut Vec<f32>, db: &mut [f32]) {
        let (w, w2) = (self.w, self.w / 2);
        dz.clear();
        dz.resize(self.k * self.plane(), 0.0);
        for (k, dzk) in dz.chunks_mut(self.plane()).enumerate() {
            let (dy, arg) = (&dy[k * self.pooled()..][..self.pooled()], &arg[k * self.pooled()..][..self.pooled()]);
            let mut sum = 0.0;
            for (i, (dy, arg)) in dy.chunks(w2).zip(arg.chunks(w2)).enumerate() {
                for (j, (&g, &at)) in dy.iter().zip(arg).enumerate() {
                    if at != DEAD {
                        dzk[(2 * i + (at as usize >> 1)) * w + 2 * j + (at as usize & 1)] = g;
                        sum += g;
                    }
                }
            }
            db[k] = sum;
        }
    }
}

/// A dense layer's output after its product: the bias `b` added to each row of `y` (`b.len()`
/// values wide), and negatives cut to 0 when `relu`.
pub fn bias_relu(y: &mut [f32], b: &[f32], relu: bool) {
    if relu { add_bias::<true>(y, b) } else { add_bias::<false>(y, b) }
}

#[inline(always)]
fn add_bias<const RELU: bool>(y: &mut [f32], b: &[f32]) {
    for row in y.chunks_exact_mut(b.len()) {
        for (v, b) in row.iter_mut().zip(b) {
            *v += b;
            if RELU && *v < 0.0 {
                *v = 0.0;
            }
        }
    }
}

/// A dense layer's backward step before its products: the output's gradient `dz` (rows of
/// `db.len()` values) zeroed where ReLU cut the output `y` off (when `relu`), and the bias
/// gradient, its column sums, into `db` (summed row by row, in order).
pub fn relu_bias_grad(dz: &mut [f32], y: &[f32], relu: bool, db: &mut [f32]) {
    if relu {
        for (d, y) in dz.iter_mut().zip(y) {
            if *y <= 0.0 {
                *d = 0.0;
            }
        }
    }
    db.fill(0.0);
    for row in dz.chunks_exact(db.len()) {
        db.iter_mut().zip(row).for_each(|(s, d)| *s += d);
    }
}

/// `len` dropout multipliers: each `1 / keep` with probability `keep`, else 0. Value `i` comes
/// from hashing `i` with the seed (two rounds of a 32-bit integer hash), so no value waits on
/// another and the loop runs in SIMD lanes.
pub fn dropout_mask(len: usize, keep: f64, seed: u64) -> Vec<f32> {
    let threshold = (keep * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let scale = (1.0 / keep) as f32;
    let (lo, hi) = (seed as u32, (seed >> 32) as u32);
    (0..len as u32).map(|i| if hash(hash(i ^ lo) ^ hi) < threshold { scale } else { 0.0 }).collect()
}

/// A 32-bit integer hash with low bias (Chris Wellons's `lowbias32` constants).
fn hash(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// One AdamW step's numbers, the same for every value (`src/adamw.rs` says which).
#[derive(Debug, Clone, Copy)]
pub struct AdamW {
    pub b1: f32,
    pub b2: f32,
    pub f1: f32,
    pub f2: f32,
    pub c1: f32,
    pub c2: f32,
    pub eps: f32,
    /// `1 − lr·λ`, when there is a decay.
    pub keep: Option<f32>,
    pub lr: f32,
    /// The first step: the moments start from the gradient alone.
    pub first: bool,
}

impl AdamW {
    /// Updates the weights `w` and the moments `m`, `v` in place from the gradient `g`, in
    /// burn-optim 0.22's order of operations, so the bits are burn's.
    pub fn step(&self, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        // The choices are made here, outside the loop, so that it vectorises.
        match (self.first, self.keep.is_some()) {
            (true, true) => self.run::<true, true>(w, g, m, v),
            (true, false) => self.run::<true, false>(w, g, m, v),
            (false, true) => self.run::<false, true>(w, g, m, v),
            (false, false) => self.run::<false, false>(w, g, m, v),
        }
    }

    #[inline(always)]
    fn run<const FIRST: bool, const DECAY: bool>(&self, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let n = w.len();
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        let keep = self.keep.unwrap_or(1.0);
        for i in 0..n {
            let gi = g[i];
            let (mi, vi) = if FIRST { (gi * self.f1, (gi * gi) * self.f2) } else { (m[i] * self.b1 + gi * self.f1, v[i] * self.b2 + (gi * gi) * self.f2) };
            (m[i], v[i]) = (mi, vi);
            let delta = (mi / self.c1) / ((vi / self.c2).sqrt() + self.eps);
            // burn skips the decay's multiplication when there is none (x·1 = x anyway).
            w[i] = if DECAY { w[i] * keep } else { w[i] } - delta * self.lr;
        }
    }
}
