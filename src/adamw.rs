//! AdamW whose update is one pass over memory on the CPU.
//!
//! burn-optim's AdamW writes a step as some fifteen element-wise tensor operations (moments,
//! bias corrections, square root, decay, step), each a pass over every parameter, most with a
//! fresh buffer: on the report's MLP that was 28 % of the training time (README, Speed). On
//! flex, [`FusedAdamW`] does the same arithmetic, operation for operation, in the same order
//! and precision, in one pass that updates the weight and both moments in place, so training
//! gives the same bits as with burn's AdamW (the tests check it). The loop is in
//! `prunelab-kernels`, which the page's bundles build at opt-level 3: compiled for size with the
//! rest of the lab, it had made the page's training slower than burn's step (README, Speed).
//! Elsewhere (`--device wgpu`) it takes burn's own step: the GPU runs those operations and the
//! host never sees the values.
//!
//! The state is burn's `AdamWState`, so either path can continue what the other began.

use burn::backend::flex::FlexTensor;
use burn::backend::{BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind};
use burn::optim::{AdaptiveMomentumState, AdamW, AdamWConfig, AdamWState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{DType, Device, Tensor};
use prunelab_kernels as kernels;

use crate::model::flex::{each, tensor, values};

/// burn's defaults, which the recipes keep.
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;

#[derive(Clone)]
pub struct FusedAdamW {
    epsilon: f32,
    weight_decay: f32,
    /// burn's AdamW with the same settings, for tensors not on flex.
    burn: AdamW,
}

impl FusedAdamW {
    pub fn new(weight_decay: f32, epsilon: f32) -> Self {
        let burn = AdamWConfig::new().with_beta_1(BETA_1).with_beta_2(BETA_2).with_weight_decay(weight_decay).with_epsilon(epsilon).build();
        Self { epsilon, weight_decay, burn }
    }

    /// The optimizer for a whole module, as `AdamWConfig::init` gives burn's.
    pub fn module(weight_decay: f32, epsilon: f32) -> ModuleOptimizer {
        ModuleOptimizer::from(Self::new(weight_decay, epsilon))
    }
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(&self, lr: LearningRate, weight: Tensor<D>, grad: Tensor<D>, state: Option<AdamWState<D>>) -> (Tensor<D>, Option<AdamWState<D>>) {
        // Only the conversions depend on the rank (burn instantiates this for ranks 0 to 8); the
        // step itself is one function.
        let (w, g) = match (flex(weight), flex(grad)) {
            (Ok(w), Ok(g)) => (w, g),
            (w, g) => return self.burn.step(lr, w.map_or_else(|t| t, from_flex), g.map_or_else(|t| t, from_flex), state),
        };
        let moments = match state {
            None => None,
            Some(AdamWState { momentum: AdaptiveMomentumState { time, moment_1, moment_2, max_moment_2: None } }) => match (flex(moment_1), flex(moment_2)) {
                (Ok(m), Ok(v)) => Some(Moments { time, m, v }),
                (m, v) => {
                    let momentum = AdaptiveMomentumState::new(time, m.map_or_else(|t| t, from_flex), v.map_or_else(|t| t, from_flex));
                    return self.burn.step(lr, from_flex(w), from_flex(g), Some(AdamWState::new(momentum)));
                }
            },
            Some(other) => return self.burn.step(lr, from_flex(w), from_flex(g), Some(other)),
        };
        let (w, Moments { time, m, v }) = self.fused(lr, w, &g, moments);
        (from_flex(w), Some(AdamWState::new(AdaptiveMomentumState::new(time, from_flex(m), from_flex(v)))))
    }

    fn to_device<const D: usize>(state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        <AdamW as Optimizer>::to_device(state, device)
    }
}

/// The optimizer's state for one tensor on flex: its moments after step `time`.
struct Moments {
    time: usize,
    m: FlexTensor,
    v: FlexTensor,
}

impl FusedAdamW {
    /// The step on flex: the weight and the moments written in place where they are not shared.
    fn fused(&self, lr: LearningRate, w: FlexTensor, g: &FlexTensor, moments: Option<Moments>) -> (FlexTensor, Moments) {
        let mut w = owned(w);
        let g = values(g);
        let (time, mut m, mut v) = match moments {
            Some(Moments { time, m, v }) => (time + 1, owned(m), owned(v)),
            None => (1, zeros(w.layout().shape()), zeros(w.layout().shape())),
        };
        self.update(lr, time, storage(&mut w), &g, storage(&mut m), storage(&mut v), time == 1);
        (w, Moments { time, m, v })
    }

    /// One AdamW step over the values, in burn-optim 0.22's order of operations (`adamw.rs`):
    /// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; Δ = (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε);
    /// w ← w·(1 − lr·λ) − lr·Δ. On the first step the moments start from the gradient alone.
    #[allow(clippy::too_many_arguments)]
    fn update(&self, lr: LearningRate, time: usize, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], first: bool) {
        let decay = lr * self.weight_decay as f64;
        let step = kernels::AdamW {
            b1: BETA_1,
            b2: BETA_2,
            f1: 1.0 - BETA_1,
            f2: 1.0 - BETA_2,
            c1: 1f32 - BETA_1.powi(time as i32),
            c2: 1f32 - BETA_2.powi(time as i32),
            eps: self.epsilon,
            keep: (decay != 0.0).then_some((1.0 - decay) as f32),
            lr: lr as f32,
            first,
        };
        // In chunks across the cores where the build has a thread pool (natively, the threaded
        // bundle): each value's update is independent of the others.
        const CHUNK: usize = 1 << 15;
        let jobs: Vec<_> = w.chunks_mut(CHUNK).zip(g.chunks(CHUNK)).zip(m.chunks_mut(CHUNK)).zip(v.chunks_mut(CHUNK)).collect();
        each(jobs, || (), |_, (((w, g), m), v)| step.step(w, g, m, v));
    }
}

/// The flex tensor inside a (non-autodiff) float tensor, or the tensor back.
fn flex<const D: usize>(t: Tensor<D>) -> Result<FlexTensor, Tensor<D>> {
    match t.into_dispatch() {
        DispatchTensor { kind: DispatchTensorKind::Flex(BackendTensor::Float(f)), autodiff: DispatchAutodiffContext::Disabled } if f.dtype() == DType::F32 => Ok(f),
        other => Err(Tensor::from_dispatch(other)),
    }
}

fn from_flex<const D: usize>(f: FlexTensor) -> Tensor<D> {
    Tensor::from_primitive::<burn::backend::Flex>(f)
}

/// A tensor whose buffer is its own, its values contiguous from the start, so it can be
/// written in place: itself when it is (the usual case), else a copy (after `Trainer` clones
/// the model for its checkpoint, the next step finds the weights shared). What the buffer may
/// hold past the values belongs to no other tensor, since none shares it.
fn owned(f: FlexTensor) -> FlexTensor {
    let n = f.layout().num_elements();
    if f.is_unique() && f.layout().contiguous_offsets() == Some((0, n)) {
        return f;
    }
    tensor(values(&f).into_owned(), f.layout().shape().clone())
}

fn zeros(shape: &burn::tensor::Shape) -> FlexTensor {
    tensor(vec![0f32; shape.num_elements()], shape.clone())
}

/// The values of an [`owned`] tensor, to write.
fn storage(f: &mut FlexTensor) -> &mut [f32] {
    let n = f.layout().num_elements();
    &mut f.try_storage_mut::<f32>().expect("owned")[..n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SplitMix64;
    use burn::tensor::TensorData;

    fn random(rng: &mut SplitMix64, shape: [usize; 2], device: &Device) -> Tensor<2> {
        // Some exact zeros too, as ReLU's gradients have.
        let values: Vec<f32> = (0..shape[0] * shape[1]).map(|_| if rng.below(10) == 0 { 0.0 } else { (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0 }).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn bits(t: Tensor<2>) -> Vec<u32> {
        t.into_data().try_into_vec_as::<f32>().unwrap().into_iter().map(f32::to_bits).collect()
    }

    /// Steps of the fused optimizer and of burn's AdamW from the same weights and gradients end
    /// in the same bits, weights and moments, with and without weight decay: on a tensor larger
    /// than a chunk, with a shared weight (copied) and a transposed gradient (not contiguous).
    #[test]
    fn steps_equal_burns_adamw_bit_for_bit() {
        let device = Device::flex();
        let shape = [301, 257];
        for (decay, eps) in [(0.0, 1e-7), (5e-4, 1e-8)] {
            let fused = FusedAdamW::new(decay, eps);
            let burn = AdamWConfig::new().with_weight_decay(decay).with_epsilon(eps).build();
            let mut rng = SplitMix64::new(7);
            let start = random(&mut rng, shape, &device);
            let (mut a, mut b) = (start.clone(), start);
            let (mut sa, mut sb) = (None, None);
            for step in 0..6 {
                let g = if step == 2 { random(&mut rng, [shape[1], shape[0]], &device).transpose() } else { random(&mut rng, shape, &device) };
                let lr = 0.003 / (step + 1) as f64;
                (a, sa) = fused.step(lr, a, g.clone(), sa);
                (b, sb) = burn.step(lr, b, g, sb);
            }
            let (sa, sb): (AdamWState<2>, AdamWState<2>) = (sa.unwrap(), sb.unwrap());
            assert_eq!(sa.momentum.time, sb.momentum.time);
            assert!(bits(a) == bits(b), "weights differ (decay {decay})");
            assert!(bits(sa.momentum.moment_1) == bits(sb.momentum.moment_1), "first moments differ");
            assert!(bits(sa.momentum.moment_2) == bits(sb.momentum.moment_2), "second moments differ");
        }
    }
}
