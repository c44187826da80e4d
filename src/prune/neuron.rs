//! Structured pruning: remove whole units (dense neurons, conv filters) with the smallest
//! incoming-weight L2 norm, layer by layer.

use super::{Mask, Sparsity, Variant};
use crate::model::Weights;


/// The units removed from each hidden layer, in ascending order, and the resulting mask.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuronPruning {
    pub mask: Mask,
    /// `removed[l]` lists the removed units of hidden layer `l`.
    pub removed: Vec<Vec<usize>>,
}

/// L2 norm of each unit's incoming weights.
pub fn unit_norms(weights: &Weights, layer: usize) -> Vec<f32> {
    let l = &weights.layers[layer];
    (0..l.units()).map(|u| l.incoming(u).map(|i| l.weight.values[i].powi(2)).sum::<f32>().sqrt()).collect()
}

/// Removes ⌊k/100 · units⌋ units from every hidden layer, those of smallest incoming L2 norm
/// (ties by position). Norms are taken on the weights as given, so layers are ranked
/// independently of each other, as in the report.
pub fn neuron_prune(weights: &Weights, sparsity: Sparsity, variant: Variant) -> NeuronPruning {
    let mut mask = Mask::full(weights);
    let mut removed = Vec::new();
    for li in weights.hidden_layers() {
        let norms = unit_norms(weights, li);
        let mut order: Vec<usize> = (0..norms.len()).collect();
        let m = sparsity.count_of(norms.len());
        if m > 0 && m < order.len() {
            order.select_nth_unstable_by(m - 1, |&a, &b| norms[a].total_cmp(&norms[b]).then(a.cmp(&b)));
        }
        let mut gone: Vec<usize> = order[..m].to_vec();
        gone.sort_unstable();
        let layer = &weights.layers[li];
        for &u in &gone {
            for i in layer.incoming(u) {
                mask.layers[li].weight[i] = false;
            }
            if variant == Variant::Full {
                mask.layers[li].bias[u] = false;
                for i in weights.reading(li + 1, u) {
                    mask.layers[li + 1].weight[i] = false;
                }
            }
        }
        removed.push(gone);
    }
    NeuronPruning { mask, removed }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{Arch, HostTensor, Layer};

    fn layered(arch: Arch) -> Weights {
        let layers = arch
            .layer_shapes()
            .into_iter()
            .map(|(name, kind, w, b)| {
                let n: usize = w.iter().product();
                Layer { name, kind, weight: HostTensor::new(w, (0..n).map(|i| ((i * 31 % 17) as f32 - 8.0) / 8.0).collect()), bias: HostTensor::new(vec![b], vec![0.5; b]) }
            })
            .collect();
        Weights { arch, layers }
    }

    #[test]
    fn full_variant_removes_column_bias_and_outgoing_row() {
        let mut w = layered(Arch::Mlp { hidden: vec![10, 8] });
        let p = neuron_prune(&w, Sparsity::new(50.0).unwrap(), Variant::Full);
        assert_eq!(p.removed.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 4]);
        p.mask.apply(&mut w).unwrap();
        for (li, gone) in p.removed.iter().enumerate() {
            for &u in gone {
                assert!(w.layers[li].incoming(u).all(|i| w.layers[li].weight.values[i] == 0.0));
                assert_eq!(w.layers[li].bias.values[u], 0.0);
                assert!(w.reading(li + 1, u).iter().all(|&i| w.layers[li + 1].weight.values[i] == 0.0));
            }
        }
        // The output layer keeps its biases and its own units.
        assert!(w.layers[2].bias.values.iter().all(|b| *b == 0.5));
    }

    #[test]
    fn report_variant_keeps_bias_and_outgoing_row() {
        let mut w = layered(Arch::Mlp { hidden: vec![10] });
        let p = neuron_prune(&w, Sparsity::new(30.0).unwrap(), Variant::Report);
        assert_eq!(p.removed[0].len(), 3);
        p.mask.apply(&mut w).unwrap();
        for &u in &p.removed[0] {
            assert_eq!(w.layers[0].bias.values[u], 0.5);
            assert!(w.layers[0].incoming(u).all(|i| w.layers[0].weight.values[i] == 0.0));
            assert!(w.reading(1, u).iter().any(|&i| w.layers[1].weight.values[i] != 0.0));
        }
        // Only incoming columns were zeroed: 3 units × 784 inputs.
        assert_eq!(p.mask.removed(), 3 * 784);
    }

    #[test]
    fn smallest_norms_go_first() {
        let mut w = layered(Arch::Mlp { hidden: vec![6] });
        // Scale unit u's column by u + 1, so units 0, 1, 2 have the smallest norms.
        let out = 6;
        for (i, v) in w.layers[0].weight.values.iter_mut().enumerate() {
            *v = 1.0 + (i % out) as f32;
        }
        let p = neuron_prune(&w, Sparsity::new(50.0).unwrap(), Variant::Full);
        assert_eq!(p.removed[0], vec![0, 1, 2]);
    }

    #[test]
    fn cnn_filters_and_their_channels_are_removed() {
        let mut w = layered(Arch::Cnn { conv: [4, 6], dense: 8 });
        let p = neuron_prune(&w, Sparsity::new(50.0).unwrap(), Variant::Full);
        assert_eq!(p.removed.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 3, 4]);
        p.mask.apply(&mut w).unwrap();
        // conv2 kernel [6, 4, 2, 2]: each removed conv1 filter's input channel is zero in every filter.
        for &u in &p.removed[0] {
            for o in 0..6 {
                assert!((0..4).all(|k| w.layers[1].weight.values[o * 16 + u * 4 + k] == 0.0));
            }
        }
        // dense1 kernel [6·49, 8]: each removed conv2 filter's 49 rows are zero.
        for &u in &p.removed[1] {
            assert!((u * 49 * 8..(u + 1) * 49 * 8).all(|i| w.layers[2].weight.values[i] == 0.0));
        }
    }
}
