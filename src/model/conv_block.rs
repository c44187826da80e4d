//! The CNN's block (2×2 `same` convolution → ReLU → 2×2 max-pool) as one operation on flex.
//!
//! Composed from burn's operations, the block passed over the full-resolution activations
//! (64 × 28 × 28 per image) some ten times in a training step: convolution, ReLU, pooling with
//! an index per value, and their backward passes, each with a fresh buffer, most of them scalar
//! loops (README, Speed). Here each image's convolution is one matrix product (im2col), and the
//! bias, ReLU and pooling are applied while the product is still in cache, so only the pooled
//! quarter and one byte per pooled value (where the maximum was) reach memory. The backward
//! pass redoes the im2col rather than storing it.
//!
//! On flex (natively, and in the page's CPU bundles) [`conv_relu_pool`] runs this, with its own
//! backward step in burn's autodiff graph; elsewhere (WebGPU) it runs burn's operations. The
//! loops over one image's values are in the `prunelab-kernels` crate (`kernels/`).
//! `ReLU(max(z))` equals `max(ReLU(z))`, so either path computes the report's
//! `pool(relu(conv(x)))`; the tests compare values and gradients with burn's `Conv2d`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::Flex;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::activation::relu;
use burn::tensor::Tensor;
use prunelab_kernels::{DEAD, Image};

use super::FUSED;
use super::flex::{each, gemm, register, tensor, values};

/// `relu(max_pool_2x2(conv2d_same_2x2(x, weight) + bias))`, on flex by [`Block`], else by burn.
pub fn conv_relu_pool(x: Tensor<4>, conv: &Conv2d, pool: &MaxPool2d) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let fits = FUSED && h % 2 == 0 && w % 2 == 0 && conv.weight.dims()[2..] == [2, 2];
    if let (Some(bias), true) = (&conv.bias, fits) {
        let (weight, bias) = (conv.weight.val(), bias.val());
        if let Some(y) = on_flex(&x, &weight, &bias) {
            return y;
        }
    }
    relu(pool.forward(conv.forward(x)))
}

/// The block on flex: tracked when the tensors are on flex's autodiff device (without gradient
/// checkpointing, as the trainer makes it), plain when on flex itself; `None` elsewhere.
fn on_flex(x: &Tensor<4>, w: &Tensor<4>, b: &Tensor<1>) -> Option<Tensor<4>> {
    tracked(x, w, b).or_else(|| {
        let (x, w, b) = (x.clone().try_into_primitive::<Flex>().ok()?, w.clone().try_into_primitive::<Flex>().ok()?, b.clone().try_into_primitive::<Flex>().ok()?);
        let (y, _) = Block::of(&x, &w).forward(&x, &w, &b);
        Some(Tensor::from_primitive::<Flex>(y))
    })
}

/// The block as one node of the autodiff graph, its backward step [`Block`]'s.
fn tracked(x: &Tensor<4>, w: &Tensor<4>, b: &Tensor<1>) -> Option<Tensor<4>> {
    let x = x.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let w = w.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let b = b.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let (px, pw, pb) = (x.primitive().clone(), w.primitive().clone(), b.primitive().clone());
    let block = Block::of(&px, &pw);
    let output = match block.prepare::<NoCheckpointing>([x.node(), w.node(), b.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (y, arg) = block.forward(&px, &pw, &pb);
            prep.finish(Saved { x: px, w: pw, arg: Arc::new(arg) }, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(block.forward(&px, &pw, &pb).0),
    };
    Some(Tensor::from_primitive::<Autodiff<Flex>>(output))
}

/// The sizes of one block: `n` images, each `img`.
#[derive(Debug, Clone, Copy)]
struct Block {
    n: usize,
    img: Image,
}

/// What the backward step needs: the input and weights, and where each maximum was.
#[derive(Debug, Clone)]
struct Saved {
    x: FlexTensor,
    w: FlexTensor,
    arg: Arc<Vec<u8>>,
}

/// One image's working buffers, reused across the images a thread takes.
#[derive(Default)]
struct Scratch {
    col: Vec<f32>,
    z: Vec<f32>,
}

impl Block {
    fn of(x: &FlexTensor, w: &FlexTensor) -> Block {
        let (xs, ws) = (x.layout().shape(), w.layout().shape());
        Block { n: xs[0], img: Image { c: xs[1], h: xs[2], w: xs[3], k: ws[0] } }
    }

    /// The pooled output `[n, k, h/2, w/2]` and, per value, where its maximum was.
    fn forward(&self, x: &FlexTensor, w: &FlexTensor, b: &FlexTensor) -> (FlexTensor, Vec<u8>) {
        let Image { c, h, w: width, k } = self.img;
        let (plane, per_x, per_y) = (self.img.plane(), c * self.img.plane(), k * self.img.pooled());
        let (x, w, b) = (values(x), values(w), values(b));
        let mut y = vec![0f32; self.n * per_y];
        let mut arg = vec![DEAD; self.n * per_y];
        let jobs: Vec<_> = y.chunks_mut(per_y).zip(arg.chunks_mut(per_y)).zip(x.chunks(per_x)).collect();
        each(jobs, Scratch::default, |s, ((y, arg), x)| {
            self.img.im2col(x, &mut s.col);
            s.z.resize(k * plane, 0.0);
            // z [k, h·w] = weight [k, 4c] × col [4c, h·w]
            gemm(&mut s.z, k, plane, 4 * c, (&w, 4 * c, 1), (&s.col, plane, 1));
            self.img.pool(&s.z, &b, y, arg);
        });
        (tensor(y, [self.n, k, h / 2, width / 2]), arg)
    }

    /// Gradients of the input (when asked), the weight and the bias, from the output's.
    fn gradients(&self, saved: &Saved, dy: &FlexTensor, want_dx: bool) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
        let Image { c, h, w: width, k } = self.img;
        let (plane, per_x, per_y, per_w) = (self.img.plane(), c * self.img.plane(), k * self.img.pooled(), k * 4 * c);
        let (x, w, dy) = (values(&saved.x), values(&saved.w), values(dy));
        let mut dx = vec![0f32; if want_dx { self.n * per_x } else { 0 }];
        // Each image's share of the weight and bias gradients, summed below in a fixed order, so
        // the result does not depend on how many threads there were.
        let mut dw = vec![0f32; self.n * per_w];
        let mut db = vec![0f32; self.n * k];
        let dx_chunks: Vec<Option<&mut [f32]>> = if want_dx { dx.chunks_mut(per_x).map(Some).collect() } else { (0..self.n).map(|_| None).collect() };
        let jobs: Vec<_> = dx_chunks
            .into_iter()
            .zip(dw.chunks_mut(per_w))
            .zip(db.chunks_mut(k))
            .zip(x.chunks(per_x).zip(dy.chunks(per_y)).zip(saved.arg.chunks(per_y)))
            .collect();
        each(jobs, Scratch::default, |s, (((dx, dw), db), ((x, dy), arg))| {
            self.img.unpool(dy, arg, &mut s.z, db);
            self.img.im2col(x, &mut s.col);
            // dweight [k, 4c] = dz [k, h·w] × colᵀ [h·w, 4c]
            gemm(dw, k, 4 * c, plane, (&s.z, plane, 1), (&s.col, 1, plane));
            if let Some(dx) = dx {
                // dcol [4c, h·w] = weightᵀ [4c, k] × dz [k, h·w], then each row shifted back.
                gemm(&mut s.col, 4 * c, plane, k, (&w, 1, 4 * c), (&s.z, plane, 1));
                self.img.col2im(&s.col, dx);
            }
        });
        let sum = |parts: &[f32], len: usize| {
            let mut total = vec![0f32; len];
            for part in parts.chunks(len) {
                total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
            }
            total
        };
        let (dw, db) = (sum(&dw, per_w), sum(&db, k));
        let dx = want_dx.then(|| tensor(dx, [self.n, c, h, width]));
        (dx, tensor(dw, [k, c, 2, 2]), tensor(db, [k]))
    }
}

impl Backward<Flex, 3> for Block {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let found = self.gradients(&ops.state, &dy, ops.parents[0].is_some());
        register(grads, ops, found);
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::model::cnn::conv_config;

    /// The report's composition, from burn's own operations.
    fn burns(x: Tensor<4>, conv: &Conv2d, pool: &MaxPool2d) -> Tensor<4> {
        pool.forward(relu(conv.forward(x)))
    }

    fn close(a: Tensor<4>, b: Tensor<4>, what: &str) {
        let (a, b) = (a.into_data().try_into_vec_as::<f32>().unwrap(), b.into_data().try_into_vec_as::<f32>().unwrap());
        assert_eq!(a.len(), b.len(), "{what}");
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-5, "{what}: differs from burn's by {worst}");
    }

    fn grads_equal(n: usize, c: usize, k: usize, side: usize) {
        let device = Device::flex().autodiff();
        device.seed(7);
        let conv = conv_config(c, k).init(&device);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        let x = Tensor::<4>::random([n, c, side, side], Distribution::Normal(0.0, 1.0), &device).require_grad();
        // A random weighting of the outputs, so every output's gradient differs.
        let r = Tensor::<4>::random([n, k, side / 2, side / 2], Distribution::Normal(0.0, 1.0), &device);

        let (w, b) = (conv.weight.val(), conv.bias.as_ref().unwrap().val());
        assert!(tracked(&x, &w, &b).is_some(), "the fused block runs on flex's autodiff device");
        let ours = conv_relu_pool(x.clone(), &conv, &pool);
        let theirs = burns(x.clone(), &conv, &pool);
        close(ours.clone(), theirs.clone(), "output");
        let (g1, g2) = ((ours * r.clone()).sum().backward(), (theirs * r).sum().backward());
        close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), "input gradient");
        close(conv.weight.val().grad(&g1).unwrap(), conv.weight.val().grad(&g2).unwrap(), "weight gradient");
        let bias = conv.bias.as_ref().unwrap().val();
        let (b1, b2) = (bias.grad(&g1).unwrap(), bias.grad(&g2).unwrap());
        close(b1.reshape([1, 1, 1, k]), b2.reshape([1, 1, 1, k]), "bias gradient");
    }

    #[test]
    fn outputs_and_gradients_equal_burns_conv2d() {
        grads_equal(3, 1, 5, 6);
        grads_equal(2, 3, 4, 8);
        // The report's second block, full size.
        grads_equal(2, 64, 32, 14);
    }

    #[test]
    fn inference_on_plain_flex_equals_burns() {
        let device = Device::flex();
        device.seed(3);
        let conv = conv_config(1, 8).init(&device);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        let x = Tensor::<4>::random([4, 1, 28, 28], Distribution::Default, &device);
        let (w, b) = (conv.weight.val(), conv.bias.as_ref().unwrap().val());
        assert!(on_flex(&x, &w, &b).is_some(), "the fused block runs on flex");
        close(conv_relu_pool(x.clone(), &conv, &pool), burns(x, &conv, &pool), "output");
    }
}
