//! The f32 buffers behind flex tensors, for the operations this crate fuses itself (the CNN's
//! block, AdamW's step).

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
