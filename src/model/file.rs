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
//! We use our own format rather than burn's recorder because it is readable from any language,
//! records the architecture (so a compacted model loads without knowing its sizes in advance),
//! and halves in size as `f16` for the default model the page ships.

use serde::{Deserialize, Serialize};

use super::{Arch, HostTensor, Layer, LayerKind, ModelError, Weights, check_shapes};

const MAGIC: &[u8; 8] = b"PRUNELAB";
const VERSION: u32 = 1;
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

#[derive(Serialize, Deserialize)]
struct Header {
    arch: Arch,
    precision: Precision,
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

/// Serialises weights and metadata.
pub fn encode(weights: &Weights, meta: &serde_json::Value, precision: Precision) -> Vec<u8> {
    let header = Header {
        arch: weights.arch.clone(),
        precision,
        layers: weights
            .layers
            .iter()
            .map(|l| LayerHeader { name: l.name.clone(), kind: l.kind, weight: l.weight.shape.clone(), bias: l.bias.len() })
            .collect(),
        meta: meta.clone(),
    };
    let json = serde_json::to_vec(&header).expect("header is plain data");
    let width = if precision == Precision::F16 { 2 } else { 4 };
    let mut out = Vec::with_capacity(16 + json.len() + weights.num_params() * width);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    for v in weights.layers.iter().flat_map(|l| l.weight.values.iter().chain(&l.bias.values)) {
        match precision {
            Precision::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Precision::F16 => out.extend_from_slice(&half::f16::from_f32(*v).to_le_bytes()),
        }
    }
    out
}

/// Checks the magic and version of a file of ours, and splits it into its JSON header and the
/// bytes after it.
fn split<'a>(bytes: &'a [u8], magic: &[u8; 8], bad: impl Fn(&str) -> ModelError) -> Result<(&'a [u8], &'a [u8]), ModelError> {
    if bytes.len() < 16 || &bytes[..8] != magic {
        return Err(bad(&format!("it does not start with {}", String::from_utf8_lossy(magic))));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != VERSION {
        return Err(ModelError::Version { found: version, supported: VERSION });
    }
    let hlen = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    if hlen > MAX_HEADER || 16 + hlen > bytes.len() {
        return Err(bad("the header length points past the end of the file"));
    }
    Ok(bytes[16..].split_at(hlen))
}

/// Parses and validates a model file: magic, version, header, every shape against the
/// architecture, exact length, finite values.
pub fn decode(bytes: &[u8]) -> Result<ModelFile, ModelError> {
    let bad = |m: &str| ModelError::BadFile(m.to_string());
    let (header, body) = split(bytes, MAGIC, bad)?;
    let header: Header = serde_json::from_slice(header).map_err(|e| bad(&format!("header: {e}")))?;
    let width = if header.precision == Precision::F16 { 2 } else { 4 };
    // Checked: a corrupt header can claim shapes whose size overflows usize (easily on wasm32).
    let count = header
        .layers
        .iter()
        .try_fold(0usize, |sum, l| crate::data::file_len(l.bias, &l.weight).and_then(|n| sum.checked_add(n)))
        .filter(|n| n.checked_mul(width).is_some())
        .ok_or_else(|| bad("the header claims layers too large to be a model"))?;
    if body.len() != count * width {
        return Err(ModelError::BadFile(format!(
            "the header describes {count} values ({} bytes) but {} bytes follow it",
            count * width,
            body.len()
        )));
    }
    let mut values = body.chunks_exact(width).map(|c| match header.precision {
        Precision::F32 => f32::from_le_bytes(c.try_into().unwrap()),
        Precision::F16 => half::f16::from_le_bytes(c.try_into().unwrap()).to_f32(),
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
    let mut out = Vec::new();
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&dense);
    out.extend_from_slice(&pruned);
    if let Some((_, mask)) = &s.pruned {
        let bits: Vec<bool> = mask.layers.iter().flat_map(|l| l.weight.iter().chain(&l.bias).copied()).collect();
        out.extend(bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &k)| b | ((k as u8) << i))));
    }
    out
}

/// Parses a snapshot, checking every part as [`decode`] checks a model file.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, ModelError> {
    let bad = |m: &str| ModelError::BadFile(format!("lab snapshot: {m}"));
    let (header, rest) = split(bytes, SNAPSHOT_MAGIC, bad)?;
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
    pub fn save(&self, path: &std::path::Path, precision: Precision) -> Result<(), ModelError> {
        let io = |e: std::io::Error| ModelError::Io { path: path.display().to_string(), message: e.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, encode(&self.weights, &self.meta, precision)).map_err(io)?;
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
        let mut v2 = good.clone();
        v2[8] = 2;
        assert!(matches!(decode(&v2), Err(ModelError::Version { found: 2, .. })));
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
