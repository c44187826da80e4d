//! Memory stays flat: twenty sweeps of the report's MLP in a row end with the process's peak
//! resident memory within 10 % of its peak after the first. A test binary of its own, so that no
//! other test's allocations move the figure. Prints the figures (`--nocapture`).

#![cfg(target_os = "linux")]

use burn::tensor::Device;
use prunelab::block_on;
use prunelab::data::{FashionMnist, default_data_dir};
use prunelab::model::{Arch, ModelKind};
use prunelab::prune::{Method, Sparsity};
use prunelab::sweep::{SweepConfig, sweep};
use prunelab::train::Quiet;

/// The process's peak resident memory so far (VmHWM), in kB.
fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok()).unwrap()
}

#[test]
fn twenty_sweeps_keep_peak_memory_within_ten_percent_of_the_first() {
    let data = FashionMnist::load_dir(&default_data_dir()).expect("Fashion-MNIST missing: run `bash scripts/setup-data.sh`");
    let test = data.test.take(1000);
    drop(data);
    let device = Device::flex();
    let dense = block_on(Arch::report(ModelKind::Mlp).init(&device).to_weights()).unwrap();
    let config = SweepConfig {
        methods: vec![Method::Weight, Method::Neuron],
        sparsities: [50.0, 90.0].iter().map(|&k| Sparsity::new(k).unwrap()).collect(),
        ..SweepConfig::default()
    };
    let mut peaks = Vec::new();
    for _ in 0..20 {
        let r = block_on(sweep(&dense, None, &test, None, &config, &device, &mut Quiet, |_| {})).unwrap();
        assert_eq!(r.points.len(), 4);
        peaks.push(peak_kb());
    }
    let (first, last) = (peaks[0], peaks[19]);
    println!("peak RSS after sweep 1: {first} kB, after sweep 20: {last} kB ({:+.1} %)", (last as f64 / first as f64 - 1.0) * 100.0);
    assert!(last as f64 <= first as f64 * 1.10, "peak RSS grew from {first} kB to {last} kB over 20 sweeps: {peaks:?}");
}
