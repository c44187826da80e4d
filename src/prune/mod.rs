//! Pruning: which weights or units to remove, and what is left afterwards.
//!
//! Everything is decided on the host from [`Weights`](crate::model::Weights): ranking needs
//! selection, which WebGPU lacks, and one read of the weights is cheap next to evaluation.

pub mod mask;

use serde::{Deserialize, Serialize};

pub use mask::{DeviceMask, Mask};

/// A share of weights or units to remove, in percent, always within 0..=100 and finite.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Sparsity(f64);

impl Sparsity {
    pub const ZERO: Sparsity = Sparsity(0.0);

    pub fn new(percent: f64) -> Result<Self, PruneError> {
        if percent.is_finite() && (0.0..=100.0).contains(&percent) {
            Ok(Sparsity(percent))
        } else {
            Err(PruneError::BadSparsity(percent.to_string()))
        }
    }

    pub fn percent(self) -> f64 {
        self.0
    }

    /// How many of `n` items this sparsity removes: ⌊k/100 · n⌋ (multiplied first, so that
    /// whole percentages of round counts are exact).
    pub fn count_of(self, n: usize) -> usize {
        ((self.0 * n as f64) / 100.0).floor().min(n as f64) as usize
    }
}

impl TryFrom<f64> for Sparsity {
    type Error = PruneError;
    fn try_from(v: f64) -> Result<Self, PruneError> {
        Sparsity::new(v)
    }
}

impl From<Sparsity> for f64 {
    fn from(s: Sparsity) -> f64 {
        s.0
    }
}

impl std::str::FromStr for Sparsity {
    type Err = PruneError;
    fn from_str(s: &str) -> Result<Self, PruneError> {
        let v: f64 = s.trim().trim_end_matches('%').parse().map_err(|_| PruneError::BadSparsity(s.into()))?;
        Sparsity::new(v)
    }
}

impl std::fmt::Display for Sparsity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// Why pruning could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("sparsity must be a number from 0 to 100 (percent), got {0}")]
    BadSparsity(String),
    #[error("unknown pruning method '{0}' (expected weight or neuron)")]
    UnknownMethod(String),
    #[error("there is no trained model to prune yet: train one or load a model file first")]
    NoModel,
    #[error("the mask does not fit the model: {0}")]
    MaskMismatch(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparsity_accepts_only_percentages() {
        for bad in [f64::NAN, -1.0, 150.0, f64::INFINITY, 100.0001] {
            assert!(matches!(Sparsity::new(bad), Err(PruneError::BadSparsity(_))), "{bad}");
        }
        assert!("abc".parse::<Sparsity>().is_err());
        assert_eq!("90%".parse::<Sparsity>().unwrap().percent(), 90.0);
        assert!(serde_json::from_str::<Sparsity>("150").is_err());
    }

    #[test]
    fn counts_are_floors() {
        assert_eq!(Sparsity::new(90.0).unwrap().count_of(2_386_000), 2_147_400);
        assert_eq!(Sparsity::new(97.0).unwrap().count_of(2_386_000), 2_314_420);
        assert_eq!(Sparsity::new(25.0).unwrap().count_of(10), 2);
        assert_eq!(Sparsity::new(100.0).unwrap().count_of(7), 7);
        assert_eq!(Sparsity::new(33.3).unwrap().count_of(3), 0);
    }
}
