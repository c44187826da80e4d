//! Fashion-MNIST from IDX files: parsing, validation, the in-memory `Dataset`, seeded shuffling
//! and batching.
//!
//! This module knows nothing about burn or devices: it turns bytes into validated `u8` images and
//! labels, and batches into host `f32` buffers. The training code moves those onto a device.

use std::io::Read;

use flate2::read::GzDecoder;

/// Side of a Fashion-MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one image (28 × 28).
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of garment classes.
pub const NUM_CLASSES: usize = 10;
/// The ten Fashion-MNIST class names, indexed by label.
pub const CLASS_NAMES: [&str; NUM_CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The four files of the dataset, as the official distribution names them (without `.gz`).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// IDX magic numbers: two zero bytes, the type code 0x08 (unsigned byte), then the rank.
const MAGIC_IMAGES: u32 = 0x0000_0803;
const MAGIC_LABELS: u32 = 0x0000_0801;

/// Refuse headers that claim more than this, so a corrupt header cannot make us allocate wildly.
const MAX_ITEMS: usize = 10_000_000;

/// The most a gzip file may unpack to: Fashion-MNIST's largest file (47 MB) with room to spare,
/// so that a gzip bomb (a megabyte of zeros unpacks to a gigabyte) is refused before it fills
/// memory (in the browser, wasm memory never shrinks back).
pub const MAX_UNZIPPED: u64 = 64 << 20;

/// Why a data file could not be used. Every variant says which file (when known) and what was
/// wrong, so a person can act on it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}: not a valid gzip stream: {message}")]
    Gzip { file: String, message: String },
    #[error("{file}: truncated: expected {expected} bytes, found {actual}")]
    Truncated { file: String, expected: usize, actual: usize },
    #[error("{file}: wrong magic number 0x{found:08x} (expected 0x{expected:08x}); is this the right file?")]
    BadMagic { file: String, found: u32, expected: u32 },
    #[error("{file}: images are {rows}×{cols}, expected 28×28")]
    BadDimensions { file: String, rows: usize, cols: usize },
    #[error("{file}: length mismatch: header promises {expected} bytes of data, file has {actual}")]
    LengthMismatch { file: String, expected: usize, actual: usize },
    #[error("{file}: header claims {count} items, more than the {MAX_ITEMS} allowed")]
    TooLarge { file: String, count: usize },
    #[error("{file}: header dimensions {dims:?} are too large to be a data file")]
    Overflow { file: String, dims: Vec<usize> },
    #[error("{file}: label {label} at index {index} is not a class (0..=9)")]
    BadLabel { file: String, index: usize, label: u8 },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    #[error("the dataset is empty")]
    Empty,
    #[error("{file}: unpacks to more than {} MB, far more than a Fashion-MNIST file", MAX_UNZIPPED >> 20)]
    Unzipped { file: String },
}

impl DataError {
    /// The file the error is about, when it is about one (a JavaScript caller names it).
    pub fn file(&self) -> Option<&str> {
        match self {
            DataError::Io { file, .. }
            | DataError::Gzip { file, .. }
            | DataError::Truncated { file, .. }
            | DataError::BadMagic { file, .. }
            | DataError::BadDimensions { file, .. }
            | DataError::LengthMismatch { file, .. }
            | DataError::TooLarge { file, .. }
            | DataError::Overflow { file, .. }
            | DataError::BadLabel { file, .. }
            | DataError::Unzipped { file } => Some(file),
            DataError::CountMismatch { .. } | DataError::Empty => None,
        }
    }
}

/// Decompresses `bytes` if they start with the gzip signature, else returns them unchanged.
pub fn maybe_gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        GzDecoder::new(bytes)
            .take(MAX_UNZIPPED + 1)
            .read_to_end(&mut out)
            .map_err(|e| DataError::Gzip { file: file.into(), message: e.to_string() })?;
        if out.len() as u64 > MAX_UNZIPPED {
            return Err(DataError::Unzipped { file: file.into() });
        }
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

fn be_u32(file: &str, bytes: &[u8], at: usize) -> Result<u32, DataError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| DataError::Truncated { file: file.into(), expected: at + 4, actual: bytes.len() })
}

/// Checks the header size, magic, item shape (`item`: the dimensions after the count) and body
/// length of an IDX file. Returns the item count.
fn idx_header(file: &str, bytes: &[u8], magic: u32, item: &[usize]) -> Result<usize, DataError> {
    let rank = 1 + item.len();
    let found = be_u32(file, bytes, 0)?;
    if found != magic {
        return Err(DataError::BadMagic { file: file.into(), found, expected: magic });
    }
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(DataError::Truncated { file: file.into(), expected: header_len, actual: bytes.len() });
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| be_u32(file, bytes, 4 + 4 * i).map(|d| d as usize))
        .collect::<Result<_, _>>()?;
    if dims[0] > MAX_ITEMS {
        return Err(DataError::TooLarge { file: file.into(), count: dims[0] });
    }
    if dims[1..] != *item {
        let (rows, cols) = (dims[1], dims.get(2).copied().unwrap_or(1));
        return Err(DataError::BadDimensions { file: file.into(), rows, cols });
    }
    let expected = file_len(header_len, &dims).ok_or_else(|| DataError::Overflow { file: file.into(), dims: dims.clone() })?;
    if bytes.len() < expected {
        return Err(DataError::Truncated { file: file.into(), expected, actual: bytes.len() });
    }
    if bytes.len() > expected {
        return Err(DataError::LengthMismatch {
            file: file.into(),
            expected: expected - header_len,
            actual: bytes.len() - header_len,
        });
    }
    Ok(dims[0])
}

/// Header plus the product of `dims`, or `None` when that does not fit a `usize`: on wasm32 a
/// header claiming 10,000,000 images of 28×28 does not, though it passes the item limit.
pub fn file_len(header: usize, dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?.checked_add(header)
}

/// Parses an IDX3 image file (gzip or raw) into `count × 784` bytes.
pub fn parse_images(file: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let bytes = maybe_gunzip(file, bytes)?;
    idx_header(file, &bytes, MAGIC_IMAGES, &[IMAGE_SIDE, IMAGE_SIDE])?;
    Ok(bytes[16..].to_vec())
}

/// Parses an IDX1 label file (gzip or raw); every label must be a class index.
pub fn parse_labels(file: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let bytes = maybe_gunzip(file, bytes)?;
    idx_header(file, &bytes, MAGIC_LABELS, &[])?;
    let labels = bytes[8..].to_vec();
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= NUM_CLASSES) {
        return Err(DataError::BadLabel { file: file.into(), index, label });
    }
    Ok(labels)
}

/// Images and labels held as bytes: 47 MB for the training set instead of 188 MB as f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    images: Vec<u8>,
    labels: Vec<u8>,
}

impl Dataset {
    /// Builds a dataset from `n × 784` pixel bytes and `n` labels in 0..=9.
    pub fn new(images: Vec<u8>, labels: Vec<u8>) -> Result<Self, DataError> {
        if images.len() != labels.len() * IMAGE_PIXELS {
            return Err(DataError::CountMismatch { images: images.len() / IMAGE_PIXELS, labels: labels.len() });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= NUM_CLASSES) {
            return Err(DataError::BadLabel { file: "labels".into(), index, label });
        }
        Ok(Self { images, labels })
    }

    /// Parses a pair of IDX files (each gzip or raw).
    pub fn from_idx(images_name: &str, images: &[u8], labels_name: &str, labels: &[u8]) -> Result<Self, DataError> {
        let images = parse_images(images_name, images)?;
        let labels = parse_labels(labels_name, labels)?;
        Self::new(images, labels)
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The dataset as raw IDX files (images, labels): the inverse of `from_idx`, used to cut
    /// small real subsets for the browser tests.
    pub fn to_idx(&self) -> (Vec<u8>, Vec<u8>) {
        let n = (self.len() as u32).to_be_bytes();
        let side = (IMAGE_SIDE as u32).to_be_bytes();
        let mut images = Vec::with_capacity(16 + self.images.len());
        for part in [&MAGIC_IMAGES.to_be_bytes()[..], &n, &side, &side, &self.images] {
            images.extend_from_slice(part);
        }
        let mut labels = Vec::with_capacity(8 + self.labels.len());
        for part in [&MAGIC_LABELS.to_be_bytes()[..], &n, &self.labels] {
            labels.extend_from_slice(part);
        }
        (images, labels)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The 784 pixels of image `i`, row-major, 0 = background.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The first `n` items (all of them if `n` is larger).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset { images: self.images[..n * IMAGE_PIXELS].to_vec(), labels: self.labels[..n].to_vec() }
    }

    /// The items `range` (clamped to the set), copied.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Dataset {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        Dataset { images: self.images[start * IMAGE_PIXELS..end * IMAGE_PIXELS].to_vec(), labels: self.labels[start..end].to_vec() }
    }

    /// Splits off the first `n` items, as the report held out the first 5,000 training images
    /// for validation. Returns `(first n, rest)`.
    pub fn split_at(&self, n: usize) -> (Dataset, Dataset) {
        let n = n.min(self.len());
        let (ai, bi) = self.images.split_at(n * IMAGE_PIXELS);
        let (al, bl) = self.labels.split_at(n);
        (
            Dataset { images: ai.to_vec(), labels: al.to_vec() },
            Dataset { images: bi.to_vec(), labels: bl.to_vec() },
        )
    }

    /// The items at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Dataset { images, labels: indices.iter().map(|&i| self.labels[i]).collect() }
    }

    /// Batches in the given order (or in file order when `order` is `None`); the last batch may
    /// be short.
    pub fn batches<'a>(&'a self, batch_size: usize, order: Option<&'a [usize]>) -> Batches<'a> {
        assert!(batch_size > 0, "batch size must be positive");
        Batches { data: self, order, batch_size, next: 0 }
    }
}

/// One batch on the host: pixels scaled to [0, 1] as the models expect, labels as class indices.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `len × 784` floats in [0, 1].
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Scales bytes to [0, 1] floats.
pub fn to_unit_floats(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 * (1.0 / 255.0)).collect()
}

/// Iterator over the batches of a dataset; see [`Dataset::batches`].
pub struct Batches<'a> {
    data: &'a Dataset,
    order: Option<&'a [usize]>,
    batch_size: usize,
    next: usize,
}

impl Batches<'_> {
    /// How many batches this iterator yields in all.
    pub fn count_total(&self) -> usize {
        self.data.len().div_ceil(self.batch_size)
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let n = self.data.len();
        if self.next >= n {
            return None;
        }
        let end = (self.next + self.batch_size).min(n);
        let mut images = Vec::with_capacity((end - self.next) * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(end - self.next);
        for pos in self.next..end {
            let i = self.order.map_or(pos, |o| o[pos]);
            images.extend(self.data.image(i).iter().map(|&p| p as f32 * (1.0 / 255.0)));
            labels.push(self.data.labels[i]);
        }
        self.next = end;
        Some(Batch { images, labels })
    }
}

/// A small, fast, portable PRNG (SplitMix64): the same seed shuffles the same way on every
/// platform, natively and in wasm, which `rand`'s defaults do not promise.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by Lemire's multiply-shift; the tiny bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// `0..n` shuffled by `seed`.
pub fn shuffled_indices(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    order
}

/// The training and test sets together.
#[derive(Clone, Debug)]
pub struct FashionMnist {
    pub train: Dataset,
    pub test: Dataset,
}

impl FashionMnist {
    /// Parses the four files from bytes (each gzip or raw), as the browser receives them.
    pub fn from_bytes(train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<Self, DataError> {
        Ok(Self {
            train: Dataset::from_idx(TRAIN_IMAGES, train_images, TRAIN_LABELS, train_labels)?,
            test: Dataset::from_idx(TEST_IMAGES, test_images, TEST_LABELS, test_labels)?,
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod files {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Where `scripts/setup-data.sh` puts the data and the page serves it from: `PRUNELAB_DATA`
    /// if set, else `project_dir("www/data")`.
    pub fn default_data_dir() -> PathBuf {
        std::env::var_os("PRUNELAB_DATA").map(PathBuf::from).unwrap_or_else(|| project_dir("www/data"))
    }

    /// A folder of the project: under the current directory when it exists there (a binary
    /// may have been built from another checkout), else beside the crate that built this binary.
    pub fn project_dir(relative: &str) -> PathBuf {
        let here = Path::new(relative);
        if here.is_dir() { here.to_path_buf() } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(relative) }
    }

    /// Reads `dir/name.gz`, or `dir/name` when there is no gzipped copy.
    pub fn read_idx_file(dir: &Path, name: &str) -> Result<Vec<u8>, DataError> {
        let gz = dir.join(format!("{name}.gz"));
        let path = if gz.exists() { gz } else { dir.join(name) };
        std::fs::read(&path).map_err(|e| DataError::Io {
            file: path.display().to_string(),
            message: format!("{e} (run `bash scripts/setup-data.sh` to install Fashion-MNIST)"),
        })
    }

    impl FashionMnist {
        /// Loads the four files from `dir`.
        pub fn load_dir(dir: &Path) -> Result<Self, DataError> {
            let read = |name| read_idx_file(dir, name);
            Self::from_bytes(&read(TRAIN_IMAGES)?, &read(TRAIN_LABELS)?, &read(TEST_IMAGES)?, &read(TEST_LABELS)?)
        }
    }

    impl Dataset {
        /// Loads one pair of files (`train` or `t10k`) from `dir`.
        pub fn load_split(dir: &Path, train: bool) -> Result<Self, DataError> {
            let (img, lab) = if train { (TRAIN_IMAGES, TRAIN_LABELS) } else { (TEST_IMAGES, TEST_LABELS) };
            Dataset::from_idx(img, &read_idx_file(dir, img)?, lab, &read_idx_file(dir, lab)?)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use files::{default_data_dir, project_dir, read_idx_file};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// A well-formed raw IDX3 file of `n` images whose pixels are all `fill`.
    fn idx_images(n: usize, fill: u8) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3];
        for d in [n as u32, 28, 28] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend(std::iter::repeat_n(fill, n * IMAGE_PIXELS));
        b
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 1];
        b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        b.extend_from_slice(labels);
        b
    }

    #[test]
    fn to_idx_is_the_inverse_of_from_idx() {
        let (images, labels) = (idx_images(3, 7), idx_labels(&[1, 2, 9]));
        let d = Dataset::from_idx("i", &images, "l", &labels).unwrap();
        assert_eq!(d.to_idx(), (images, labels));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn parses_raw_and_gzip_alike() {
        let raw = idx_images(3, 7);
        assert_eq!(parse_images("x", &raw).unwrap(), parse_images("x", &gzip(&raw)).unwrap());
        assert_eq!(parse_images("x", &raw).unwrap().len(), 3 * IMAGE_PIXELS);
        assert_eq!(parse_labels("y", &idx_labels(&[1, 2, 9])).unwrap(), vec![1, 2, 9]);
    }

    #[test]
    fn truncated_file_is_its_own_error() {
        let raw = idx_images(3, 7);
        let err = parse_images("x", &raw[..raw.len() - 10]).unwrap_err();
        assert!(matches!(err, DataError::Truncated { expected, actual, .. } if expected == raw.len() && actual == raw.len() - 10), "{err}");
        // A header cut short is truncation too, not a panic.
        assert!(matches!(parse_images("x", &raw[..6]).unwrap_err(), DataError::Truncated { .. }));
        // A truncated gzip stream is reported as such.
        let gz = gzip(&raw);
        assert!(matches!(parse_images("x", &gz[..gz.len() / 2]).unwrap_err(), DataError::Gzip { .. }));
    }

    #[test]
    fn wrong_magic_is_its_own_error() {
        let labels = idx_labels(&[1, 2]);
        let err = parse_images("x", &labels).unwrap_err();
        assert!(matches!(err, DataError::BadMagic { found: 0x801, expected: 0x803, .. }), "{err}");
    }

    #[test]
    fn length_mismatch_is_its_own_error() {
        let mut raw = idx_labels(&[1, 2]);
        raw.push(3);
        assert!(matches!(parse_labels("y", &raw).unwrap_err(), DataError::LengthMismatch { expected: 2, actual: 3, .. }));
        let err = Dataset::from_idx("x", &idx_images(2, 0), "y", &idx_labels(&[1, 2, 3])).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { images: 2, labels: 3 }), "{err}");
    }

    #[test]
    fn bad_dimensions_and_labels_are_rejected() {
        let mut raw = idx_images(1, 0);
        raw[11] = 27; // rows = 27
        assert!(matches!(parse_images("x", &raw).unwrap_err(), DataError::BadDimensions { rows: 27, cols: 28, .. }));
        assert!(matches!(parse_labels("y", &idx_labels(&[3, 10])).unwrap_err(), DataError::BadLabel { index: 1, label: 10, .. }));
    }

    #[test]
    fn huge_header_is_rejected_without_allocating() {
        let mut raw = idx_labels(&[1]);
        raw[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse_labels("y", &raw).unwrap_err(), DataError::TooLarge { .. }));
        // Within the item limit, the length is still checked before anything is allocated.
        let mut raw = idx_images(1, 0);
        raw[4..8].copy_from_slice(&10_000_000u32.to_be_bytes());
        let err = parse_images("x", &raw).unwrap_err();
        assert!(matches!(err, DataError::Truncated { expected: 7_840_000_016, .. }) || matches!(err, DataError::Overflow { .. }), "{err}");
    }

    #[test]
    fn a_gzip_bomb_is_refused_after_the_limit() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_UNZIPPED >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        assert!(matches!(maybe_gunzip("bomb.gz", &bomb), Err(DataError::Unzipped { .. })));
    }

    #[test]
    fn lengths_that_overflow_are_none() {
        assert_eq!(file_len(16, &[10, 28, 28]), Some(7856));
        assert_eq!(file_len(16, &[usize::MAX / 2, 28, 28]), None);
        assert_eq!(file_len(usize::MAX, &[1]), None);
        // What wasm32 meets: 10,000,000 × 784 > u32::MAX.
        assert!(10_000_000u64 * 784 > u32::MAX as u64);
    }

    #[test]
    fn batches_scale_and_follow_order() {
        let mut images = idx_images(5, 0)[16..].to_vec();
        for i in 0..5 {
            images[i * IMAGE_PIXELS] = (i * 50) as u8;
        }
        let ds = Dataset::new(images, vec![0, 1, 2, 3, 4]).unwrap();
        let order = [4, 3, 2, 1, 0];
        let batches: Vec<Batch> = ds.batches(2, Some(&order)).collect();
        assert_eq!(batches.iter().map(Batch::len).collect::<Vec<_>>(), vec![2, 2, 1]);
        assert_eq!(batches[0].labels, vec![4, 3]);
        assert!((batches[0].images[0] - 200.0 / 255.0).abs() < 1e-6);
        assert_eq!(ds.batches(2, None).count_total(), 3);
    }

    #[test]
    fn shuffling_is_seeded_and_a_permutation() {
        let a = shuffled_indices(1000, 7);
        assert_eq!(a, shuffled_indices(1000, 7));
        assert_ne!(a, shuffled_indices(1000, 8));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn split_holds_out_the_first_items() {
        let ds = Dataset::new(vec![0; 4 * IMAGE_PIXELS], vec![0, 1, 2, 3]).unwrap();
        let (val, train) = ds.split_at(1);
        assert_eq!(val.labels(), &[0]);
        assert_eq!(train.labels(), &[1, 2, 3]);
        assert_eq!(ds.select(&[3, 0]).labels(), &[3, 0]);
        // A slice is clamped to the set.
        assert_eq!(ds.slice(1..3).labels(), &[1, 2]);
        assert_eq!(ds.slice(2..10).labels(), &[2, 3]);
        assert!(ds.slice(5..9).is_empty());
    }
}
