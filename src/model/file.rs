//! The Prune Lab model file: small, versioned, and checked on load.
//!
//! Layout (all integers little-endian):
//!
//! | bytes        | content                                                        |
//! |--------------|----------------------------------------------------------------|
//! | 0..8         | magic `PRUNELAB`                                               |
//! | 8..12        | format version (`u32`, currently 1)                            |
//! | 12..16       | header length `H` (`u32`)                                      |
//! | 16..16+H     | JSON header: `arch`, `precision`, `layers` (names and shapes), `meta` |
//! | 16+H..       | for each layer: kernel then bias, as `f32` or `f16` values    |
//!
//! A sparse file (version 2, header `"encoding": "sparse"`, for pruned models) stores the same
//! values as one bit per value in that order (1 = non-zero, least significant bit first, unused
//! bits of the last byte zero), then only the non-zero values: a 90 % weight-pruned MLP in f16
//! is under 1 MB instead of 4.8. Dense files stay version 1, byte for byte as before.
//!
//! We use our own format rather than burn's recorder because it is readable from any language,
//! records the architecture (so a compacted model loads without knowing its sizes in advance),
//! and halves in size as `f16` for the default model the page ships.

use serde::{Deserialize, Serialize};

use super::{Arch, HostTensor, Layer, LayerKind, ModelError, Weights, check_shapes};

const MAGIC: &[u8; 8] = b"PRUNELAB";
const VERSION: u32 = 1;
/// Files that need a reader of sparse encoding.
const SPARSE_VERSION: u32 = 2;
/// A header is a few hundred bytes; refuse absurd lengths from a corrupt file.
const MAX_HEADER: usize = 1 << 20;

/// How values are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    /// Half the size; rounding changes logits by about 1e-3, not the predicted class in practice.
    F16,
}

/// How the values follow the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Every value, in order.
    #[default]
    Dense,
    /// A bitmask of the non-zero values, then those values only.
    Sparse,
}

impl Encoding {
    /// The encoding that makes `weights` smaller at `precision`.
    pub fn smallest(weights: &Weights, precision: Precision) -> Self {
        let width = precision.width();
        let n = weights.num_params();
        if n.div_ceil(8) + weights.count_nonzero() * width < n * width { Encoding::Sparse } else { Encoding::Dense }
    }
}

impl Precision {
    /// Bytes per stored value.
    fn width(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    arch: Arch,
    precision: Precision,
    #[serde(default, skip_serializing_if = "is_dense")]
    encoding: Encoding,
    layers: Vec<LayerHeader>,
    #[serde(default)]
    meta: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct LayerHeader {
    name: String,
    kind: LayerKind,
    weight: Vec<usize>,
    bias: usize,
}

/// A decoded model file: the weights and whatever was recorded about how they were made.
#[derive(Clone, Debug)]
pub struct ModelFile {
    pub weights: Weights,
    /// Free-form facts: recipe, epochs, test accuracy, pruning applied…
    pub meta: serde_json::Value,
}

fn is_dense(e: &Encoding) -> bool {
    *e == Encoding::Dense
}

/// Serialises weights and metadata, every value stored (a dense file).
pub fn encode(weights: &Weights, meta: &serde_json::Value, precision: Precision) -> Vec<u8> {
    encode_as(weights, meta, precision, Encoding::Dense)
}

/// Serialises weights and metadata in the given encoding.
pub fn encode_as(weights: &Weights, meta: &serde_json::Value, precision: Precision, encoding: Encoding) -> Vec<u8> {
    let header = Header {
        arch: weights.arch.clone(),
        precision,
        encoding,
        layers: weights
            .layers
            .iter()
            .map(|l| LayerHeader { name: l.name.clone(), kind: l.kind, weight: l.weight.shape.clone(), bias: l.bias.len() })
            .collect(),
        meta: meta.clone(),
    };
    let json = serde_json::to_vec(&header).expect("header is plain data");
    let mut out = Vec::with_capacity(16 + json.len() + weights.num_params() * precision.width());
    out.extend_from_slice(MAGIC);
    let version = if encoding == Encoding::Sparse { SPARSE_VERSION } else { VERSION };
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    let values = || weights.layers.iter().flat_map(|l| l.weight.values.iter().chain(&l.bias.values)).copied();
    if encoding == Encoding::Sparse {
        let bits: Vec<bool> = values().map(|v| v != 0.0).collect();
        out.extend(bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &k)| b | ((k as u8) << i))));
    }
    for v in values().filter(|&v| encoding == Encoding::Dense || v != 0.0) {
        match precision {
            Precision::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Precision::F16 => out.extend_from_slice(&half::f16::from_f32(v).to_le_bytes()),
        }
    }
    out
}

/// Checks the magic and version of a file of ours, and splits it into its JSON header and the
/// bytes after it.
fn split<'a>(bytes: &'a [u8], magic: &[u8; 8], newest: u32, bad: impl Fn(&str) -> ModelError) -> Result<(u32, &'a [u8], &'a [u8]), ModelError> {
    if bytes.len() < 16 || &bytes[..8] != magic {
        return Err(bad(&format!("it does not start with {}", String::from_utf8_lossy(magic))));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if !(VERSION..=newest).contains(&version) {
        return Err(ModelError::Version { found: version, supported: newest });
    }
    let hlen = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    if hlen > MAX_HEADER || 16 + hlen > bytes.len() {
        return Err(bad("the header length points past the end of the file"));
    }
    let (header, body) = bytes[16..].split_at(hlen);
    Ok((version, header, body))
}

/// Parses and validates a model file: magic, version, header, every shape against the
/// architecture, exact length, finite values.
pub fn decode(bytes: &[u8]) -> Result<ModelFile, ModelError> {
    let bad = |m: &str| ModelError::BadFile(m.to_string());
    let (version, header, body) = split(bytes, MAGIC, SPARSE_VERSION, bad)?;
    let header: Header = serde_json::from_slice(header).map_err(|e| bad(&format!("header: {e}")))?;
    if (header.encoding == Encoding::Sparse) != (version == SPARSE_VERSION) {
        return Err(bad(&format!("a version {version} file cannot be {:?}", header.encoding).to_lowercase()));
    }
    let width = header.precision.width();
    // Checked: a corrupt header can claim shapes whose size overflows usize (easily on wasm32).
    let count = header
        .layers
        .iter()
        .try_fold(0usize, |sum, l| crate::data::file_len(l.bias, &l.weight).and_then(|n| sum.checked_add(n)))
        .filter(|n| n.checked_mul(width).is_some())
        .ok_or_else(|| bad("the header claims layers too large to be a model"))?;
    let (mask, stored) = match header.encoding {
        Encoding::Dense => (None, body),
        Encoding::Sparse => {
            if body.len() < count.div_ceil(8) {
                return Err(bad(&format!("the mask of {count} values needs {} bytes but {} follow the header", count.div_ceil(8), body.len())));
            }
            let (mask, rest) = body.split_at(count.div_ceil(8));
            if count % 8 != 0 && mask[mask.len() - 1] >> (count % 8) != 0 {
                return Err(bad("the mask has bits set past its last value"));
            }
            (Some(mask), rest)
        }
    };
    let stored_count = mask.map_or(count, |m| m.iter().map(|b| b.count_ones() as usize).sum());
    if stored.len() != stored_count * width {
        return Err(ModelError::BadFile(format!(
            "the header describes {stored_count} stored values ({} bytes) but {} bytes follow",
            stored_count * width,
            stored.len()
        )));
    }
    let mut stored = stored.chunks_exact(width).map(|c| match header.precision {
        Precision::F32 => f32::from_le_bytes(c.try_into().unwrap()),
        Precision::F16 => half::f16::from_le_bytes(c.try_into().unwrap()).to_f32(),
    });
    let mut at = 0usize;
    let mut values = std::iter::from_fn(|| {
        let keep = mask.is_none_or(|m| m[at / 8] >> (at % 8) & 1 == 1);
        at += 1;
        if keep { stored.next() } else { Some(0.0) }
    });
    let mut take = |shape: Vec<usize>| {
        let n = shape.iter().product();
        HostTensor::new(shape, values.by_ref().take(n).collect())
    };
    let layers: Vec<Layer> = header
        .layers
        .into_iter()
        .map(|l| {
            let weight = take(l.weight);
            let bias = take(vec![l.bias]);
            Layer { name: l.name, kind: l.kind, weight, bias }
        })
        .collect();
    let weights = Weights { arch: header.arch, layers };
    check_shapes(&weights)?;
    if weights.layers.iter().any(|l| l.weight.values.iter().chain(&l.bias.values).any(|v| !v.is_finite())) {
        return Err(bad("it contains NaN or infinite weights"));
    }
    Ok(ModelFile { weights, meta: header.meta })
}

/// A whole pruning session: the dense weights pruning starts from, and the network in use with
/// its mask when it is pruned. This is what carries a lab from one backend to another (or
/// across a crash) without turning the pruned weights into the new dense ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub dense: Weights,
    pub pruned: Option<(Weights, crate::model::Mask)>,
    /// What the face needs to resume: the pruning spec, timings…
    pub meta: serde_json::Value,
}

const SNAPSHOT_MAGIC: &[u8; 8] = b"PLABSNAP";

#[derive(Serialize, Deserialize)]
struct SnapshotHeader {
    meta: serde_json::Value,
    dense_bytes: usize,
    pruned_bytes: usize,
}

/// Layout: magic `PLABSNAP`, version (`u32`), JSON header length (`u32`), the JSON header, the
/// dense weights as a model file, then (when pruned) the pruned weights as a model file and
/// their mask, one bit per parameter in layer order, kernel before bias.
pub fn encode_snapshot(s: &Snapshot) -> Vec<u8> {
    let dense = encode(&s.dense, &serde_json::Value::Null, Precision::F32);
    let pruned = s.pruned.as_ref().map(|(w, _)| encode(w, &serde_json::Value::Null, Precision::F32)).unwrap_or_default();
    let header = serde_json::to_vec(&SnapshotHeader { meta: s.meta.clone(), dense_bytes: dense.len(), pruned_bytes: pruned.len() }).expect("plain data");
    let bits: Vec<bool> = s.pruned.iter().flat_map(|(_, mask)| mask.layers.iter().flat_map(|l| l.weight.iter().chain(&l.bias).copied())).collect();
    // Sized at once: grown by doubling, this buffer passed through a block twice its size.
    let mut out = Vec::with_capacity(16 + header.len() + dense.len() + pruned.len() + bits.len().div_ceil(8));
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&dense);
    out.extend_from_slice(&pruned);
    out.extend(bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &k)| b | ((k as u8) << i))));
    out
}

/// Parses a snapshot, checking every part as [`decode`] checks a model file.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, ModelError> {
    let bad = |m: &str| ModelError::BadFile(format!("lab snapshot: {m}"));
    let (_, header, rest) = split(bytes, SNAPSHOT_MAGIC, VERSION, bad)?;
    let header: SnapshotHeader = serde_json::from_slice(header).map_err(|e| bad(&format!("header: {e}")))?;
    let cut = header.dense_bytes.checked_add(header.pruned_bytes).filter(|&n| n <= rest.len()).ok_or_else(|| bad("it is truncated"))?;
    let dense = decode(&rest[..header.dense_bytes])?.weights;
    let pruned = if header.pruned_bytes == 0 {
        if cut != rest.len() {
            return Err(bad("unexpected bytes at the end"));
        }
        None
    } else {
        let weights = decode(&rest[header.dense_bytes..cut])?.weights;
        if weights.arch != dense.arch {
            return Err(bad("the pruned weights do not have the dense model's shape"));
        }
        let bits = &rest[cut..];
        if bits.len() != weights.num_params().div_ceil(8) {
            return Err(bad("the mask is truncated"));
        }
        let mut at = 0usize;
        let mut next = || {
            let keep = bits[at / 8] >> (at % 8) & 1 == 1;
            at += 1;
            keep
        };
        let mut mask = crate::model::Mask::full(&weights);
        for l in &mut mask.layers {
            for k in l.weight.iter_mut().chain(l.bias.iter_mut()) {
                *k = next();
            }
        }
        Some((weights, mask))
    };
    Ok(Snapshot { dense, pruned, meta: header.meta })
}

#[cfg(not(target_arch = "wasm32"))]
impl ModelFile {
    pub fn load(path: &std::path::Path) -> Result<ModelFile, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::Io { path: path.display().to_string(), message: e.to_string() })?;
        decode(&bytes).map_err(|e| match e {
            ModelError::BadFile(m) => ModelError::BadFile(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Writes through a temporary file and a rename, so a failed write never leaves half a model.
    /// Pruned weights are stored sparse when that is smaller.
    pub fn save(&self, path: &std::path::Path, precision: Precision) -> Result<(), ModelError> {
        let io = |e: std::io::Error| ModelError::Io { path: path.display().to_string(), message: e.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("tmp");
        let encoding = Encoding::smallest(&self.weights, precision);
        std::fs::write(&tmp, encode_as(&self.weights, &self.meta, precision, encoding)).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn tiny() -> Weights {
        let arch = Arch::Mlp { hidden: vec![3] };
        let layers = arch
            .layer_shapes()
            .into_iter()
            .map(|(name, kind, w, b)| {
                let n: usize = w.iter().product();
                Layer {
                    name,
                    kind,
                    weight: HostTensor::new(w, (0..n).map(|i| i as f32 * 0.01 - 1.0).collect()),
                    bias: HostTensor::new(vec![b], vec![0.5; b]),
                }
            })
            .collect();
        Weights { arch, layers }
    }

    #[test]
    fn round_trips_exactly_in_f32_and_closely_in_f16() {
        let w = tiny();
        let meta = serde_json::json!({"epochs": 5});
        let f = decode(&encode(&w, &meta, Precision::F32)).unwrap();
        assert_eq!(f.weights, w);
        assert_eq!(f.meta, meta);
        let h = decode(&encode(&w, &meta, Precision::F16)).unwrap();
        for (a, b) in h.weights.layers.iter().zip(&w.layers) {
            for (x, y) in a.weight.values.iter().zip(&b.weight.values) {
                assert!((x - y).abs() < 1e-3 * y.abs().max(1.0));
            }
        }
    }

    #[test]
    fn malformed_files_are_clear_errors() {
        let good = encode(&tiny(), &serde_json::Value::Null, Precision::F32);
        assert!(matches!(decode(b"hello"), Err(ModelError::BadFile(_))));
        assert!(matches!(decode(&good[..good.len() - 4]), Err(ModelError::BadFile(m)) if m.contains("bytes follow")));
        let mut v3 = good.clone();
        v3[8] = 3;
        assert!(matches!(decode(&v3), Err(ModelError::Version { found: 3, .. })));
        // A dense body under a sparse version number, or the reverse, is refused.
        let mut v2 = good.clone();
        v2[8] = 2;
        assert!(matches!(decode(&v2), Err(ModelError::BadFile(m)) if m.contains("version 2")));
        let mut junk = good.clone();
        junk[20] = b'!';
        assert!(matches!(decode(&junk), Err(ModelError::BadFile(m)) if m.starts_with("header")));
        // Weights that do not fit the architecture they claim.
        let mut w = tiny();
        w.arch = Arch::Mlp { hidden: vec![4] };
        assert!(matches!(decode(&encode(&w, &serde_json::Value::Null, Precision::F32)), Err(ModelError::ShapeMismatch { .. })));
        let mut nan = tiny();
        nan.layers[0].weight.values[0] = f32::NAN;
        assert!(matches!(decode(&encode(&nan, &serde_json::Value::Null, Precision::F32)), Err(ModelError::BadFile(m)) if m.contains("NaN")));
    }

    /// A header whose shapes multiply past usize is refused, not overflowed.
    #[test]
    fn absurd_shapes_are_refused() {
        let good = encode(&tiny(), &serde_json::Value::Null, Precision::F32);
        let hlen = u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize;
        let header = String::from_utf8(good[16..16 + hlen].to_vec()).unwrap();
        let huge = header.replacen("\"weight\":[784,3]", &format!("\"weight\":[{},{}]", usize::MAX / 2, 4), 1);
        assert_ne!(huge, header);
        let mut bytes = good[..12].to_vec();
        bytes.extend_from_slice(&(huge.len() as u32).to_le_bytes());
        bytes.extend_from_slice(huge.as_bytes());
        bytes.extend_from_slice(&good[16 + hlen..]);
        assert!(matches!(decode(&bytes), Err(ModelError::BadFile(m)) if m.contains("too large")));
    }

    #[test]
    fn sparse_files_round_trip_exactly_and_refuse_damage() {
        let mut w = tiny();
        for (i, v) in w.layers[0].weight.values.iter_mut().enumerate() {
            if i % 10 != 3 {
                *v = 0.0;
            }
        }
        assert_eq!(Encoding::smallest(&w, Precision::F16), Encoding::Sparse);
        assert_eq!(Encoding::smallest(&tiny(), Precision::F16), Encoding::Dense);
        let meta = serde_json::json!({"pruned": "weight 90"});
        for precision in [Precision::F32, Precision::F16] {
            let sparse = encode_as(&w, &meta, precision, Encoding::Sparse);
            let dense = encode(&w, &meta, precision);
            assert!(sparse.len() < dense.len() / 2, "{} vs {}", sparse.len(), dense.len());
            // The same weights as the dense file of the same precision, bit for bit.
            assert_eq!(decode(&sparse).unwrap().weights, decode(&dense).unwrap().weights);
            assert_eq!(decode(&sparse).unwrap().meta, meta);
            // Truncated, padded, or a mask bit flipped (one value more or fewer): refused.
            assert!(decode(&sparse[..sparse.len() - 1]).is_err());
            let mut longer = sparse.clone();
            longer.push(0);
            assert!(decode(&longer).is_err());
            let hlen = u32::from_le_bytes(sparse[12..16].try_into().unwrap()) as usize;
            let mut flipped = sparse.clone();
            flipped[16 + hlen] ^= 1;
            assert!(matches!(decode(&flipped), Err(ModelError::BadFile(m)) if m.contains("stored values")));
            let mut cut = sparse.clone();
            cut.truncate(16 + hlen + 3);
            assert!(matches!(decode(&cut), Err(ModelError::BadFile(m)) if m.contains("mask")));
        }
    }

    #[test]
    fn snapshots_round_trip_and_refuse_damage() {
        let dense = tiny();
        let mut mask = crate::model::Mask::full(&dense);
        mask.layers[0].weight[5] = false;
        mask.layers[1].bias[2] = false;
        let mut pruned = dense.clone();
        mask.apply(&mut pruned).unwrap();
        let meta = serde_json::json!({"spec": "weight 50"});
        for s in [Snapshot { dense: dense.clone(), pruned: None, meta: meta.clone() }, Snapshot { dense: dense.clone(), pruned: Some((pruned, mask)), meta }] {
            let bytes = encode_snapshot(&s);
            assert_eq!(decode_snapshot(&bytes).unwrap(), s);
            assert!(decode_snapshot(&bytes[..bytes.len() - 1]).is_err());
            assert!(decode_snapshot(&encode(&dense, &serde_json::Value::Null, Precision::F32)).is_err());
        }
    }
}
