//! One module per command, each with its arguments and `run`.

pub mod bench;
pub mod calibrate;
pub mod eval;
pub mod histogram;
pub mod prune;
pub mod sensitivity;
pub mod serve;
pub mod subset;
pub mod sweep;
pub mod train;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Train the MLP or the CNN, evaluate it on the test set and save it.
    Train(train::Args),
    /// Evaluate a saved model on the test set, or on drawings.
    Eval(eval::Args),
    /// Fit a saved model's confidence (temperature, "not sure") on held-out training images.
    Calibrate(calibrate::Args),
    /// What weight pruning at a sparsity would remove, per layer (|w| histograms, thresholds).
    Histogram(histogram::Args),
    /// Prune each hidden layer alone at each sparsity: accuracy per layer, on training images.
    Sensitivity(sensitivity::Args),
    /// Prune a saved model, optionally fine-tune it, and report what is left.
    Prune(prune::Args),
    /// Prune the same trained model at each sparsity by each method; table, CSV, JSON and SVG chart.
    Sweep(sweep::Args),
    /// Measure training and inference throughput of both models.
    Bench(bench::Args),
    /// Write the first N training and M test images as raw IDX files (for the browser tests).
    Subset(subset::Args),
    /// Serve the browser lab (www/) on http://127.0.0.1:PORT/.
    Serve(serve::Args),
}
