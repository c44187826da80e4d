//! Inside the first layer: each first-layer unit's incoming weights as a small image (28×28 for
//! the MLP, a filter for the CNN), strongest first, with what a pruning removed; and for the MLP
//! how many weights survive from each input pixel, which shows the border emptying first.

use serde::Serialize;

use crate::model::{LayerKind, Weights};

/// One first-layer unit (or filter).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitImage {
    pub index: usize,
    /// L2 norm of its incoming weights in the dense model (the neuron-pruning score).
    pub norm: f32,
    /// Its dense incoming weights, row by row (`side × side` per input channel).
    pub weights: Vec<f32>,
    /// Which of them the pruning keeps (all `true` when not pruned).
    pub kept: Vec<bool>,
    /// The pruning removed the whole unit.
    pub removed: bool,
}

/// The first layer, as the page draws it.
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstLayer {
    /// Side of a unit's image: 28 for the MLP, the kernel side for the CNN.
    pub side: usize,
    /// How many units the layer has in all.
    pub units_total: usize,
    /// The strongest units, by dense norm.
    pub units: Vec<UnitImage>,
    /// MLP only: per input pixel (784, row by row), how many of its outgoing weights survive.
    pub survivors: Option<Vec<u32>>,
}

/// The first layer of `dense`, against `pruned` when there is a pruning (same architecture,
/// removed weights zero): the `max_units` strongest units.
pub fn first_layer(dense: &Weights, pruned: Option<&Weights>, max_units: usize) -> FirstLayer {
    let l = &dense.layers[0];
    let p = pruned.map(|w| &w.layers[0]);
    let kept_at = |i: usize| p.is_none_or(|p| p.weight.values[i] != 0.0 || l.weight.values[i] == 0.0);
    let norm = |u: usize| l.incoming(u).map(|i| l.weight.values[i] * l.weight.values[i]).sum::<f32>().sqrt();
    let mut ranked: Vec<(f32, usize)> = (0..l.units()).map(|u| (norm(u), u)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let units = ranked
        .into_iter()
        .take(max_units)
        .map(|(norm, u)| {
            let idx: Vec<usize> = l.incoming(u).collect();
            let weights: Vec<f32> = idx.iter().map(|&i| l.weight.values[i]).collect();
            let kept: Vec<bool> = idx.iter().map(|&i| kept_at(i)).collect();
            let removed = p.is_some_and(|p| idx.iter().all(|&i| p.weight.values[i] == 0.0)) && norm > 0.0;
            UnitImage { index: u, norm, weights, kept, removed }
        })
        .collect();
    let (side, survivors) = match l.kind {
        LayerKind::Dense => {
            let out = l.weight.shape[1];
            let values = &p.unwrap_or(l).weight.values;
            let survivors = (0..l.weight.shape[0]).map(|r| values[r * out..(r + 1) * out].iter().filter(|v| **v != 0.0).count() as u32).collect();
            ((l.weight.shape[0] as f64).sqrt() as usize, Some(survivors))
        }
        LayerKind::Conv => (l.weight.shape[2], None),
    };
    FirstLayer { side, units_total: l.units(), units, survivors }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prune::weight::tests::weights_with;
    use crate::prune::{Method, PruneSpec, Scope, Sparsity, Variant, prune};

    #[test]
    fn strongest_first_and_the_pruning_shows() {
        // Unit u's weights grow with u, so the last units are the strongest.
        let dense = weights_with(&[8, 4], |li, i| if li == 0 { 0.01 * (1 + i % 8) as f32 } else { 0.1 });
        let view = first_layer(&dense, None, 3);
        assert_eq!(view.side, 28);
        assert_eq!(view.units.iter().map(|u| u.index).collect::<Vec<_>>(), [7, 6, 5]);
        assert_eq!(view.units[0].weights.len(), 784);
        assert!(view.units.iter().all(|u| !u.removed && u.kept.iter().all(|k| *k)));
        assert_eq!(view.survivors.as_ref().unwrap(), &vec![8u32; 784]);

        let spec = PruneSpec { method: Method::Neuron, sparsity: Sparsity::new(50.0).unwrap(), scope: Scope::Global, connected: false, variant: Variant::default() };
        let pruned = prune(&dense, spec, None).unwrap();
        let view = first_layer(&dense, Some(&pruned.weights), 8);
        let removed: Vec<usize> = view.units.iter().filter(|u| u.removed).map(|u| u.index).collect();
        assert_eq!(removed, [3, 2, 1, 0]);
        assert!(view.survivors.unwrap().iter().all(|&n| n == 4));
    }
}
