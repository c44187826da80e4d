//! Unstructured pruning: zero the kernel weights of smallest magnitude.

use super::{Mask, PruneError, Scope, Sensitivity, Sparsity};
use crate::model::Weights;

// The enum is plain data (crate::spec); what it means for a network is here.
impl Scope {
    /// How many hidden-kernel weights go, and from where, at `sparsity`. Only the sensitivity
    /// scope reads `curves`, which must fit `weights`.
    pub fn budget(self, weights: &Weights, sparsity: Sparsity, curves: Option<&Sensitivity>) -> Result<Budget, PruneError> {
        let sizes: Vec<usize> = weights.hidden_layers().map(|li| weights.layers[li].weight.len()).collect();
        Ok(match self {
            Scope::Global | Scope::Lamp => Budget::Pooled(sparsity.count_of(sizes.iter().sum())),
            Scope::Layer => Budget::PerLayer(sizes.iter().map(|&n| sparsity.count_of(n)).collect()),
            Scope::Sensitivity => {
                let curves = curves.ok_or(PruneError::NoSensitivity)?;
                curves.check(weights)?;
                curves.budget(sparsity)
            }
        })
    }
}


/// How many hidden-kernel weights a pruning removes: from all layers in one competition, or a
/// given count from each layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Budget {
    Pooled(usize),
    PerLayer(Vec<usize>),
}

impl Budget {
    /// How many groups of weights compete separately, over `layers` hidden layers.
    fn groups(&self, layers: usize) -> usize {
        if matches!(self, Budget::PerLayer(_)) { layers } else { 1 }
    }

    /// The group hidden layer `li`'s weights compete in.
    fn group(&self, li: usize) -> usize {
        if matches!(self, Budget::PerLayer(_)) { li } else { 0 }
    }

    /// How many group `g` loses.
    fn count(&self, g: usize) -> usize {
        match self {
            Budget::Pooled(n) => *n,
            Budget::PerLayer(counts) => counts[g],
        }
    }
}

/// Marks the ⌊k/100 · n⌋ smallest-magnitude weights of the hidden layers' kernels (not biases,
/// not the output layer) as removed. Ties are broken by position, so the result is
/// deterministic. Selection, not sorting: O(n) for 2.4 M weights.
///
/// With `connected`, the budget of kept weights is not spent on *stranded* weights, those on no
/// path from the input to the output (Vysogorets & Kempe (2023) call the sparsity that counts
/// only useful weights *effective sparsity*): plain magnitude pruning strands many at extreme
/// sparsity, capacity thrown away. First, in rounds, the stranded weights make way for the
/// next-ranked ones, which may open new units (at most [`REPLACE_ROUNDS`], and never into a mask
/// without any path); then [`reconnect`] places what is still stranded. The count removed stays
/// exactly ⌊k/100 · n⌋. The rounds matter: reconnecting alone can only deepen the units already
/// on a path, which leaves the last layers narrower. A selection with no path at all is left as
/// it is, as there is nothing to extend. README (connected weight pruning) has the numbers.
///
/// `curves` are for the sensitivity scope, which fails without them.
pub fn weight_mask(weights: &Weights, sparsity: Sparsity, scope: Scope, connected: bool, curves: Option<&Sensitivity>) -> Result<Mask, PruneError> {
    let budget = scope.budget(weights, sparsity, curves)?;
    let scores: Vec<Vec<f32>> = weights
        .hidden_layers()
        .map(|li| {
            let values = &weights.layers[li].weight.values;
            if scope == Scope::Lamp { lamp_scores(values) } else { values.iter().map(|v| v.abs()).collect() }
        })
        .collect();
    let mut mask = select(&scores, &budget, Mask::full(weights));
    if !connected {
        return Ok(mask);
    }
    let mut lost = stranded(weights, &mask);
    // Scores are ≥ 0, so a weight ranked −1 goes before every other.
    let mut ranks = scores.clone();
    for _ in 0..REPLACE_ROUNDS {
        let mut changed = false;
        for &(li, i) in &lost {
            if ranks[li][i] >= 0.0 {
                ranks[li][i] = -1.0;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let next = select(&ranks, &budget, Mask::full(weights));
        let next_lost = stranded(weights, &next);
        if next_lost.len() == kept(weights, &next) {
            break;
        }
        (mask, lost) = (next, next_lost);
    }
    Ok(reconnect(weights, &scores, &budget, mask, &lost))
}

/// Removes the smallest-magnitude weights as `budget` says.
pub fn magnitude_mask(weights: &Weights, budget: &Budget) -> Mask {
    let scores: Vec<Vec<f32>> = weights.hidden_layers().map(|li| weights.layers[li].weight.values.iter().map(|v| v.abs()).collect()).collect();
    select(&scores, budget, Mask::full(weights))
}

const REPLACE_ROUNDS: usize = 16;

/// Kept hidden-kernel weights.
fn kept(weights: &Weights, mask: &Mask) -> usize {
    weights.hidden_layers().map(|li| mask.layers[li].weight.iter().filter(|k| **k).count()).sum()
}

/// Drops the `stranded` weights of `mask` and keeps as many others in their place, within the
/// same competing group: the best-scored weights that join a unit some path reaches to a unit
/// that reaches the output. Each of those lies on a path however many are added, so one round
/// is enough and nothing new is stranded. Where too few such weights exist, the best stranded
/// ones stay; a mask with no path at all has nothing to extend and is returned as it is.
fn reconnect(weights: &Weights, scores: &[Vec<f32>], scope: &Budget, mut mask: Mask, stranded: &[(usize, usize)]) -> Mask {
    if stranded.is_empty() || stranded.len() == kept(weights, &mask) {
        return mask;
    }
    let plain = mask.clone();
    for &(li, i) in stranded {
        mask.layers[li].weight[i] = false;
    }
    let paths = Paths::of(weights, &mask);
    let groups = scope.groups(scores.len());
    let mut freed = vec![0usize; groups];
    for &(li, _) in stranded {
        freed[scope.group(li)] += 1;
    }
    // Per group: the joining weights, then the stranded ones, each best first.
    let mut joining: Vec<Vec<(f32, u32, u32)>> = vec![Vec::new(); groups];
    for (li, layer_scores) in scores.iter().enumerate() {
        let (l, edges) = (&weights.layers[li], weights.edges(li));
        for (i, &s) in layer_scores.iter().enumerate() {
            if !plain.layers[li].weight[i] && l.weight.values[i] != 0.0 && paths.connects(li, edges.of(i)) {
                joining[scope.group(li)].push((s, li as u32, i as u32));
            }
        }
    }
    let mut fallback: Vec<Vec<(f32, u32, u32)>> = vec![Vec::new(); groups];
    for &(li, i) in stranded {
        fallback[scope.group(li)].push((scores[li][i], li as u32, i as u32));
    }
    for g in 0..groups {
        let mut left = freed[g];
        for list in [&mut joining[g], &mut fallback[g]] {
            for &(_, li, i) in best(list, left) {
                mask.layers[li as usize].weight[i as usize] = true;
            }
            left -= left.min(list.len());
        }
    }
    mask
}

/// Removes from `mask` the lowest-scored weights of each group that competes, as many as the
/// budget gives it, ties going first to the earlier layer and position.
/// Works on a copy of the scores alone (4 bytes a weight) rather than (score, layer, position)
/// triples: for the report's MLP that is 9 MB instead of 27, whose growth also passed through
/// 41 MB blocks, and large blocks that come and go are what fragment the page's memory.
fn select(scores: &[Vec<f32>], budget: &Budget, mut mask: Mask) -> Mask {
    for g in 0..budget.groups(scores.len()) {
        let layers: Vec<usize> = (0..scores.len()).filter(|&li| budget.group(li) == g).collect();
        let mut all = Vec::with_capacity(layers.iter().map(|&li| scores[li].len()).sum());
        for &li in &layers {
            all.extend_from_slice(&scores[li]);
        }
        let m = budget.count(g).min(all.len());
        if m == 0 {
            continue;
        }
        // The m-th smallest score: every score below it goes, and as many equal to it as make m.
        let threshold = *all.select_nth_unstable_by(m - 1, f32::total_cmp).1;
        let mut ties = m - all.iter().filter(|s| s.total_cmp(&threshold).is_lt()).count();
        drop(all);
        for &li in &layers {
            for (i, s) in scores[li].iter().enumerate() {
                let goes = match s.total_cmp(&threshold) {
                    std::cmp::Ordering::Less => true,
                    std::cmp::Ordering::Equal if ties > 0 => {
                        ties -= 1;
                        true
                    }
                    _ => false,
                };
                if goes {
                    mask.layers[li].weight[i] = false;
                }
            }
        }
    }
    mask
}

/// Which units lie on a path from the input to the output, through kept non-zero weights.
struct Paths {
    /// `reached[l][u]`: some path from the input ends at unit u of layer l.
    reached: Vec<Vec<bool>>,
    /// `reaching[l][u]`: some path from unit u of layer l ends at the output.
    reaching: Vec<Vec<bool>>,
}

impl Paths {
    /// Whether a weight of layer `li` from unit `src` to unit `dst` would lie on a path.
    fn connects(&self, li: usize, (src, dst): (usize, usize)) -> bool {
        (li == 0 || self.reached[li - 1][src]) && self.reaching[li][dst]
    }

    fn of(weights: &Weights, mask: &Mask) -> Self {
        let layers = &weights.layers;
        let present = |li: usize, i: usize| mask.layers[li].weight[i] && layers[li].weight.values[i] != 0.0;
        let mut reached: Vec<Vec<bool>> = Vec::with_capacity(layers.len());
        for (li, l) in layers.iter().enumerate() {
            let (mut r, edges) = (vec![false; l.units()], weights.edges(li));
            for i in (0..l.weight.len()).filter(|&i| present(li, i)) {
                let (src, dst) = edges.of(i);
                if li == 0 || reached[li - 1][src] {
                    r[dst] = true;
                }
            }
            reached.push(r);
        }
        let mut reaching: Vec<Vec<bool>> = layers.iter().map(|l| vec![false; l.units()]).collect();
        reaching[layers.len() - 1].fill(true);
        for li in (1..layers.len()).rev() {
            let edges = weights.edges(li);
            for i in (0..layers[li].weight.len()).filter(|&i| present(li, i)) {
                let (src, dst) = edges.of(i);
                if reaching[li][dst] {
                    reaching[li - 1][src] = true;
                }
            }
        }
        Paths { reached, reaching }
    }
}

/// (layer, index) of every kept, non-zero hidden-kernel weight that lies on no path from the
/// input to the output. A unit that no path reaches can only emit a constant (which the next
/// layer's bias could absorb), so the weights leaving it are stranded too.
pub fn stranded(weights: &Weights, mask: &Mask) -> Vec<(usize, usize)> {
    let paths = Paths::of(weights, mask);
    let mut out = Vec::new();
    for li in weights.hidden_layers() {
        let (l, edges) = (&weights.layers[li], weights.edges(li));
        for i in 0..l.weight.len() {
            if mask.layers[li].weight[i] && l.weight.values[i] != 0.0 && !paths.connects(li, edges.of(i)) {
                out.push((li, i));
            }
        }
    }
    out
}

/// LAMP scores of one layer's weights: w² over the sum of w'² of the weights at least as large.
/// Needs a sort within the layer.
fn lamp_scores(values: &[f32]) -> Vec<f32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| values[a as usize].abs().total_cmp(&values[b as usize].abs()).then(a.cmp(&b)));
    // Suffix sums of w², accumulated in f64 so the tail of a million small terms is exact enough.
    let mut tail = 0.0f64;
    let mut scores = vec![0.0f32; values.len()];
    for &i in order.iter().rev() {
        let sq = (values[i as usize] as f64).powi(2);
        tail += sq;
        scores[i as usize] = if tail > 0.0 { (sq / tail) as f32 } else { 0.0 };
    }
    scores
}

/// The `m` best-scored items, ties broken by earlier layer then position (so the result is
/// deterministic), in no particular order. Selection, not sorting: O(n).
fn best(items: &mut [(f32, u32, u32)], m: usize) -> &[(f32, u32, u32)] {
    let m = m.min(items.len());
    if m > 0 && m < items.len() {
        items.select_nth_unstable_by(m - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    }
    &items[..m]
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Arch, HostTensor, Layer};

    /// An MLP 784-h-10 whose hidden kernel holds the given pattern repeated.
    pub(crate) fn weights_with(hidden: &[usize], f: impl Fn(usize, usize) -> f32) -> Weights {
        let arch = Arch::Mlp { hidden: hidden.to_vec() };
        let layers = arch
            .layer_shapes()
            .into_iter()
            .enumerate()
            .map(|(li, (name, kind, w, b))| {
                let n: usize = w.iter().product();
                Layer { name, kind, weight: HostTensor::new(w, (0..n).map(|i| f(li, i)).collect()), bias: HostTensor::new(vec![b], vec![0.1; b]) }
            })
            .collect();
        Weights { arch, layers }
    }

    #[test]
    fn global_removes_exactly_the_floor_and_only_hidden_kernels() {
        let w = weights_with(&[7, 5], |li, i| ((i * 37 + li * 11) % 101) as f32 - 50.0);
        let hidden_n: usize = w.layers[..2].iter().map(|l| l.weight.len()).sum();
        for k in [0.0, 25.0, 50.0, 90.0, 99.0, 100.0] {
            let m = weight_mask(&w, Sparsity::new(k).unwrap(), Scope::Global, false, None).unwrap();
            assert_eq!(m.removed(), (k * hidden_n as f64 / 100.0).floor() as usize, "k = {k}");
            assert!(m.layers[2].weight.iter().all(|k| *k), "output layer untouched");
            assert!(m.layers.iter().all(|l| l.bias.iter().all(|k| *k)), "biases untouched");
        }
    }

    #[test]
    fn removed_weights_are_the_smallest_and_ties_are_deterministic() {
        // All weights equal in magnitude: ties everywhere, broken by layer then position.
        let w = weights_with(&[3], |_, i| if i % 2 == 0 { 1.0 } else { -1.0 });
        let m = weight_mask(&w, Sparsity::new(50.0).unwrap(), Scope::Global, false, None).unwrap();
        let n = w.layers[0].weight.len();
        assert!(m.layers[0].weight[..n / 2].iter().all(|k| !*k));
        assert!(m.layers[0].weight[n / 2..].iter().all(|k| *k));
        assert_eq!(m, weight_mask(&w, Sparsity::new(50.0).unwrap(), Scope::Global, false, None).unwrap());
        // Magnitude order: every removed |w| ≤ every kept |w|.
        let w = weights_with(&[6, 4], |li, i| (((i * 7919 + li) % 1000) as f32 - 500.0) / 100.0);
        let m = weight_mask(&w, Sparsity::new(70.0).unwrap(), Scope::Global, false, None).unwrap();
        let (mut max_removed, mut min_kept) = (0f32, f32::MAX);
        for (l, lm) in w.layers[..2].iter().zip(&m.layers) {
            for (v, keep) in l.weight.values.iter().zip(&lm.weight) {
                if *keep { min_kept = min_kept.min(v.abs()) } else { max_removed = max_removed.max(v.abs()) }
            }
        }
        assert!(max_removed <= min_kept);
    }

    #[test]
    fn lamp_removes_exactly_the_floor_and_spares_every_layer() {
        // Layer 1's weights are 1000× smaller: global magnitude empties it, LAMP does not.
        let w = weights_with(&[9, 6], |li, i| (1 + i % 13) as f32 * if li == 1 { 1e-3 } else { 1.0 });
        let hidden_n: usize = w.layers[..2].iter().map(|l| l.weight.len()).sum();
        let k = Sparsity::new(90.0).unwrap();
        let lamp = weight_mask(&w, k, Scope::Lamp, false, None).unwrap();
        assert_eq!(lamp.removed(), 90 * hidden_n / 100);
        assert!(lamp.layers[1].weight.iter().any(|k| *k));
        let global = weight_mask(&w, k, Scope::Global, false, None).unwrap();
        assert!(global.layers[1].weight.iter().all(|k| !*k));
        // Within a layer LAMP still removes smaller weights first.
        let vals = &w.layers[0].weight.values;
        let max_removed = vals.iter().zip(&lamp.layers[0].weight).filter(|(_, k)| !**k).map(|(v, _)| v.abs()).fold(0.0, f32::max);
        let min_kept = vals.iter().zip(&lamp.layers[0].weight).filter(|(_, k)| **k).map(|(v, _)| v.abs()).fold(f32::MAX, f32::min);
        assert!(max_removed <= min_kept);
    }

    /// 784-2-2-10: unit 0 of the first layer has tiny inputs, and the largest second-layer
    /// weights read it.
    fn a_trap() -> Weights {
        weights_with(&[2, 2], |li, i| match li {
            0 => if i % 2 == 0 { 1e-3 } else { 0.3 },
            1 => [5.0, 5.0, 0.5, 0.6][i],
            _ => 1.0,
        })
    }

    #[test]
    fn connected_pruning_spends_the_budget_on_paths_only() {
        let w = a_trap();
        let n: usize = w.layers[..2].iter().map(|l| l.weight.len()).sum();
        // 786 removals: by magnitude, the 784 tiny weights and two of 0.3, which strands both
        // 5.0s (they read a unit nothing reaches).
        let k = Sparsity::new(50.0).unwrap();
        let plain = weight_mask(&w, k, Scope::Global, false, None).unwrap();
        assert_eq!(stranded(&w, &plain), vec![(1, 0), (1, 1)]);
        for scope in [Scope::Global, Scope::Lamp] {
            let m = weight_mask(&w, k, scope, true, None).unwrap();
            assert_eq!(m.removed(), k.count_of(n), "{scope:?}");
            assert!(stranded(&w, &m).is_empty(), "{scope:?}");
            // Kept instead: every input of unit 1 and both weights reading it.
            assert!((0..784).all(|r| m.layers[0].weight[2 * r + 1]), "{scope:?}");
            assert_eq!(m.layers[1].weight, vec![false, false, true, true], "{scope:?}");
        }
    }

    #[test]
    fn connected_pruning_changes_nothing_where_nothing_is_stranded() {
        let w = weights_with(&[7, 5], |li, i| ((i * 37 + li * 11) % 101) as f32 - 50.5);
        for k in [0.0, 25.0, 50.0] {
            let k = Sparsity::new(k).unwrap();
            let plain = weight_mask(&w, k, Scope::Global, false, None).unwrap();
            assert!(stranded(&w, &plain).is_empty());
            assert_eq!(weight_mask(&w, k, Scope::Global, true, None).unwrap(), plain);
        }
    }

    #[test]
    fn per_layer_scope_removes_the_share_from_each_layer() {
        let w = weights_with(&[9, 6], |li, i| if li == 0 { 0.001 * i as f32 } else { 10.0 + i as f32 });
        let m = weight_mask(&w, Sparsity::new(60.0).unwrap(), Scope::Layer, false, None).unwrap();
        for li in 0..2 {
            let n = w.layers[li].weight.len();
            assert_eq!(m.layers[li].weight.iter().filter(|k| !**k).count(), 60 * n / 100);
        }
        // Globally, the tiny first layer would lose far more.
        let g = weight_mask(&w, Sparsity::new(60.0).unwrap(), Scope::Global, false, None).unwrap();
        assert!(g.layers[1].weight.iter().all(|k| *k));
    }
}
