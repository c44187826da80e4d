//! Prune Lab: train the report's MLP and CNN on Fashion-MNIST, prune them by weight magnitude
//! or by neuron, and see what pruning does, natively or in the browser.
//!
//! The engine (`data`, `model`, `train`, `prune`, `sweep`) is device-agnostic: burn 0.22 picks
//! the backend at run time through [`burn::tensor::Device`]. The CLI (`src/bin/prunelab.rs`) and
//! the browser face (`web`) are thin layers on it.
//!
//! Without the default `engine` feature only the parts that read untrusted bytes build (the
//! IDX reader, the model files, drawings, the Lab's options and the requests they become),
//! without burn: that is what the fuzz targets link.

pub mod augment;
pub mod data;
pub mod drawing;
pub mod model;
pub mod options;
pub mod spec;

#[cfg(feature = "engine")]
pub mod adamw;
#[cfg(feature = "engine")]
pub mod confidence;
#[cfg(feature = "engine")]
pub mod prune;
#[cfg(feature = "engine")]
pub mod sweep;
#[cfg(feature = "engine")]
pub mod train;
#[cfg(all(feature = "engine", target_arch = "wasm32"))]
pub mod web;

/// Runs a future to completion on the current thread. The engine is async for the browser's
/// sake; natively, on the CPU backends, its futures are ready at once.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
