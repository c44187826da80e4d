//! A dense layer (`x · W + b`, then ReLU on hidden layers) as one operation on flex.
//!
//! burn's `Linear` and `relu` make several nodes of the autodiff graph per layer, and its matrix
//! products copy a transposed operand into a fresh buffer and zero every output before writing
//! it. Here the products read their operands in place through strides, write their outputs
//! once, and are split across the threads once each ([`product`]): in the page's threaded
//! bundle gemm's own threading wakes the pool several times per product. The loops around the
//! products (bias, ReLU) are in `prunelab-kernels`, built at opt-level 3 in the page too.
//!
//! On flex (natively, and in the page's CPU bundles) [`dense`] runs this, with its own backward
//! step; elsewhere (WebGPU) it runs burn's operations. The tests compare values and gradients
//! with burn's `Linear` and `relu`.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::FUSED;
use super::flex::{product, register, tensor, values};

/// `layer(x)`, then ReLU when `hidden`: on flex by [`Dense`], else by burn.
pub fn dense(x: Tensor<2>, layer: &Linear, hidden: bool) -> Tensor<2> {
    if let (Some(bias), true) = (&layer.bias, FUSED) {
        if let Some(y) = on_flex(&x, &layer.weight.val(), &bias.val(), hidden) {
            return y;
        }
    }
    let y = layer.forward(x);
    if hidden { relu(y) } else { y }
}

/// The layer on flex: tracked when the tensors are on flex's autodiff device, plain when on flex
/// itself; `None` elsewhere.
fn on_flex(x: &Tensor<2>, w: &Tensor<2>, b: &Tensor<1>, relu: bool) -> Option<Tensor<2>> {
    tracked(x, w, b, relu).or_else(|| {
        let (x, w, b) = (x.clone().try_into_primitive::<Flex>().ok()?, w.clone().try_into_primitive::<Flex>().ok()?, b.clone().try_into_primitive::<Flex>().ok()?);
        Some(Tensor::from_primitive::<Flex>(Dense::of(&x, &w, relu).forward(&x, &w, &b)))
    })
}

/// The layer as one node of the autodiff graph, its backward step [`Dense`]'s.
fn tracked(x: &Tensor<2>, w: &Tensor<2>, b: &Tensor<1>, relu: bool) -> Option<Tensor<2>> {
    let x = x.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let w = w.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let b = b.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let (px, pw, pb) = (x.primitive().clone(), w.primitive().clone(), b.primitive().clone());
    let layer = Dense::of(&px, &pw, relu);
    let output = match layer.prepare::<NoCheckpointing>([x.node(), w.node(), b.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let y = layer.forward(&px, &pw, &pb);
            prep.finish(Saved { x: px, w: pw, y: y.clone() }, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(layer.forward(&px, &pw, &pb)),
    };
    Some(Tensor::from_primitive::<Autodiff<Flex>>(output))
}

/// The sizes of one layer's product: `n` rows of `inputs` values to `outputs`, and whether
/// ReLU follows.
#[derive(Debug, Clone, Copy)]
struct Dense {
    n: usize,
    inputs: usize,
    outputs: usize,
    relu: bool,
}

/// What the backward step needs: the input, the weight, and the output (whose zeros are where
/// ReLU cut the gradient off).
#[derive(Debug, Clone)]
struct Saved {
    x: FlexTensor,
    w: FlexTensor,
    y: FlexTensor,
}

impl Dense {
    fn of(x: &FlexTensor, w: &FlexTensor, relu: bool) -> Dense {
        let (xs, ws) = (x.layout().shape(), w.layout().shape());
        Dense { n: xs[0], inputs: ws[0], outputs: ws[1], relu }
    }

    /// `[n, outputs]`: `x · w + b`, through ReLU when asked.
    fn forward(&self, x: &FlexTensor, w: &FlexTensor, b: &FlexTensor) -> FlexTensor {
        let Dense { n, inputs, outputs, relu } = *self;
        let (x, w, b) = (values(x), values(w), values(b));
        let mut y = product(n, outputs, inputs, (&x, inputs, 1), (&w, outputs, 1));
        prunelab_kernels::bias_relu(&mut y, &b, relu);
        tensor(y, [n, outputs])
    }

    /// Gradients of the input (when asked), the weight and the bias, from the output's.
    fn gradients(&self, saved: &Saved, dy: &FlexTensor, want_dx: bool) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
        let Dense { n, inputs, outputs, relu } = *self;
        let (x, w) = (values(&saved.x), values(&saved.w));
        let mut dz = values(dy).into_owned();
        let mut db = vec![0f32; outputs];
        prunelab_kernels::relu_bias_grad(&mut dz, &values(&saved.y), relu, &mut db);
        // dweight [inputs, outputs] = xᵀ [inputs, n] × dz [n, outputs]
        let dw = product(inputs, outputs, n, (&x, 1, inputs), (&dz, outputs, 1));
        let dx = want_dx.then(|| {
            // dx [n, inputs] = dz [n, outputs] × weightᵀ [outputs, inputs]
            tensor(product(n, inputs, outputs, (&dz, outputs, 1), (&w, 1, outputs)), [n, inputs])
        });
        (dx, tensor(dw, [inputs, outputs]), tensor(db, [outputs]))
    }
}

impl Backward<Flex, 3> for Dense {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let found = self.gradients(&ops.state, &dy, ops.parents[0].is_some());
        register(grads, ops, found);
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::{Device, Distribution};

    use super::*;

    fn close(a: Tensor<2>, b: Tensor<2>, what: &str) {
        let (a, b) = (a.into_data().try_into_vec_as::<f32>().unwrap(), b.into_data().try_into_vec_as::<f32>().unwrap());
        assert_eq!(a.len(), b.len(), "{what}");
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-5, "{what}: differs from burn's by {worst}");
    }

    /// Values and the input, weight and bias gradients equal burn's `Linear` (+ `relu`).
    fn equals_burns(n: usize, inputs: usize, outputs: usize, hidden: bool) {
        let device = Device::flex().autodiff();
        device.seed(3);
        let layer: Linear = LinearConfig::new(inputs, outputs).init(&device);
        let x = Tensor::<2>::random([n, inputs], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let ours = dense(x.clone(), &layer, hidden);
        let burns = if hidden { relu(layer.forward(x.clone())) } else { layer.forward(x.clone()) };
        close(ours.clone(), burns.clone(), "output");
        // Weights on the outputs, so each output's gradient differs.
        let mix = Tensor::<2>::random([n, outputs], Distribution::Normal(0.0, 1.0), &device);
        let g1 = (ours * mix.clone()).sum().backward();
        let g2 = (burns * mix).sum().backward();
        close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap(), "input gradient");
        close(layer.weight.grad(&g1).unwrap(), layer.weight.grad(&g2).unwrap(), "weight gradient");
        let (b1, b2) = (layer.bias.as_ref().unwrap().grad(&g1).unwrap(), layer.bias.as_ref().unwrap().grad(&g2).unwrap());
        close(b1.unsqueeze::<2>(), b2.unsqueeze::<2>(), "bias gradient");
    }

    #[test]
    fn small_layers_equal_burns() {
        equals_burns(5, 7, 3, true);
        equals_burns(5, 7, 3, false);
        equals_burns(1, 1, 1, true);
    }

    #[test]
    fn the_reports_first_layer_equals_burns_split_across_threads() {
        // Large enough for `product` to split: by rows forward, by rows for the weight gradient.
        equals_burns(64, 784, 1000, true);
        // Fewer rows than columns: split by columns.
        equals_burns(8, 300, 900, false);
    }

    #[test]
    fn inference_on_plain_flex_equals_burns() {
        let device = Device::flex();
        device.seed(5);
        let layer: Linear = LinearConfig::new(30, 20).init(&device);
        let x = Tensor::<2>::random([6, 30], Distribution::Normal(0.0, 1.0), &device);
        let (w, b) = (layer.weight.val(), layer.bias.as_ref().unwrap().val());
        assert!(on_flex(&x, &w, &b, true).is_some(), "the fused layer runs on flex");
        close(dense(x.clone(), &layer, true), relu(layer.forward(x)), "output");
    }

    #[test]
    fn the_autodiff_path_is_the_fused_one() {
        let device = Device::flex().autodiff();
        let layer: Linear = LinearConfig::new(4, 3).init(&device);
        let x = Tensor::<2>::ones([2, 4], &device);
        let (w, b) = (layer.weight.val(), layer.bias.as_ref().unwrap().val());
        assert!(tracked(&x, &w, &b, true).is_some());
    }
}
