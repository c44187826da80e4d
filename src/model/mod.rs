//! The two networks of the report.
//!
//! [`Arch`] describes a network by its sizes (so a compacted, smaller network is just another
//! `Arch`), [`Weights`] is a network on the host, and (with the `engine` feature) [`Model`] is
//! the burn module that runs on any device. The host side and the model files build without
//! burn, for the fuzz targets.

mod arch;
pub mod file;
pub mod mask;
pub mod weights;

#[cfg(feature = "engine")]
pub mod cnn;
#[cfg(feature = "engine")]
mod conv_block;
#[cfg(feature = "engine")]
mod dense;
#[cfg(feature = "engine")]
mod dropout;
#[cfg(feature = "engine")]
pub(crate) mod flex;
#[cfg(feature = "engine")]
pub mod mlp;
#[cfg(feature = "engine")]
mod network;

/// Whether this build has the fused operations on flex: the CNN's block, the dense layers and
/// dropout (`conv_block.rs`, `dense.rs`, `dropout.rs`) and AdamW's step (`crate::adamw`). Not the page's WebGPU
/// bundle: they would take it over 3.0 MB gzipped (issue 14), and its CPU backend only runs
/// when `auto` finds the GPU slower (README, Speed).
pub const FUSED: bool = !cfg!(all(target_arch = "wasm32", feature = "wgpu"));

pub use arch::{Arch, KERNEL, ModelError, ModelKind, POOLED_SIDE, REPORT_CONV, REPORT_DENSE, REPORT_HIDDEN, check_shapes, layer_sizes};
#[cfg(feature = "engine")]
pub use cnn::Cnn;
#[cfg(feature = "engine")]
pub use mask::DeviceMask;
pub use mask::{LayerMask, Mask};
#[cfg(feature = "engine")]
pub use mlp::Mlp;
#[cfg(feature = "engine")]
pub use network::{Model, ParamMap, image_tensor};
pub use weights::{Edges, HostTensor, Layer, LayerKind, Weights};
