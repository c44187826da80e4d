//! The `.plab` decoders (model files, dense and sparse; the Lab's state snapshots) on any bytes:
//! an error or a model, never a panic; what decodes encodes back to a file that decodes alike.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prunelab::model::file::{Encoding, Precision, decode, decode_snapshot, encode_as};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(f) = decode(bytes) {
        for encoding in [Encoding::Dense, Encoding::Sparse] {
            let again = decode(&encode_as(&f.weights, &f.meta, Precision::F32, encoding)).expect("a file we wrote decodes");
            assert_eq!(again.weights.num_params(), f.weights.num_params());
            assert_eq!(again.weights.count_nonzero(), f.weights.count_nonzero());
        }
    }
    let _ = decode_snapshot(bytes);
});
