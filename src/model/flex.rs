//! The f32 buffers behind flex tensors, and the loop that spreads work on them over the cores,
//! for the operations this crate fuses itself (the CNN's block, AdamW's step).

use std::borrow::Cow;

use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::{Bytes, DType, Shape};

/// A tensor's values in order, borrowed when they lie contiguous in its buffer.
pub fn values(f: &FlexTensor) -> Cow<'_, [f32]> {
    match f.as_slice::<f32>() {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(f.to_contiguous().as_slice::<f32>().expect("contiguous").to_vec()),
    }
}

/// A contiguous f32 tensor of `shape` holding `values`.
pub fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(shape.into()), DType::F32)
}

/// Runs `f` on every job, across rayon's pool where the build has one (natively, and the
/// threaded page bundle), else in order; each thread gets its own scratch from `init`.
pub fn each<J: Send, S>(jobs: Vec<J>, init: impl Fn() -> S + Send + Sync, f: impl Fn(&mut S, J) + Send + Sync) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        jobs.into_par_iter().for_each_init(init, f);
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    {
        let mut s = init();
        jobs.into_iter().for_each(|job| f(&mut s, job));
    }
}
