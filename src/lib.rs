//! Prune Lab: train the report's MLP and CNN on Fashion-MNIST, prune them by weight magnitude
//! or by neuron, and see what pruning does, natively or in the browser.
//!
//! The engine (`data`, `model`, `train`, `prune`, `sweep`) is device-agnostic: burn 0.22 picks
//! the backend at run time through [`burn::tensor::Device`]. The CLI (`src/bin/prunelab.rs`) and
//! the browser face (`web`) are thin layers on it.

pub mod augment;
pub mod confidence;
pub mod data;
pub mod drawing;
pub mod model;
pub mod prune;
pub mod sweep;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// Runs a future to completion on the current thread. The engine is async for the browser's
/// sake; natively, on the CPU backends, its futures are ready at once.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
