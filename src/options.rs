//! The options the Lab takes from JavaScript (camelCase, as JavaScript callers expect), and what
//! they turn into for the engine. Plain data without burn, so that the fuzz target (fuzz/) parses
//! them as the Lab does; tsify writes each into `pkg/prunelab.d.ts`, where a field with a serde
//! default is optional.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::model::ModelKind;
use crate::spec::{DEFAULT_CALIBRATION, Method, PruneError, PruneSpec, Recipe, Scope, Sparsity, TrainConfig, Variant};

/// MLP training speed on each backend, in samples/s (batch 64), measured on one adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Speeds {
    /// The adapter they were measured with: figures of another GPU are not used.
    pub adapter: String,
    pub webgpu: f64,
    pub cpu: f64,
    /// Measured on an earlier visit (the page passes them back in with this set), not just now.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub cached: bool,
}

/// The backend a caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU when the adapter is a real GPU, else the CPU.
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LabOptions {
    pub backend: BackendChoice,
    /// `auto`'s figures (BackendInfo.speeds), so it need not time again: from an earlier visit
    /// (then with `cached: true`, which the header says), or just timed in the other bundle.
    pub measured: Option<Speeds>,
    /// The CPU's figure for `auto` to compare with WebGPU's, timed by the threaded bundle
    /// (`Lab.cpuSpeed`): the WebGPU bundle's own CPU backend runs on one thread.
    pub cpu_speed: Option<f64>,
}


#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainOptions {
    pub model: ModelKind,
    #[serde(default)]
    pub epochs: Option<usize>,
    #[serde(default)]
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub lr: Option<f64>,
    /// Train on the first N training images only.
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub recipe: Option<Recipe>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Evaluate on the test set afterwards (default true; a benchmark may skip it).
    #[serde(default)]
    pub evaluate: Option<bool>,
    /// Train on augmented images too (mirrored, tilted, silhouettes…), so drawings read right.
    #[serde(default)]
    pub augment: Option<bool>,
    /// Hold out the first N training images and calibrate the model's confidence on them.
    #[serde(default)]
    pub validation: Option<usize>,
}

impl TrainOptions {
    /// The training these options ask for: the recipe's settings (ours by default) with the
    /// caller's in their place. Check it with [`TrainConfig::validate`].
    pub fn config(&self) -> TrainConfig {
        let mut cfg = self.recipe.unwrap_or(Recipe::Default).config(self.model, self.epochs.unwrap_or(1)).with(self.lr, self.batch_size, self.seed);
        cfg.augment = self.augment.unwrap_or(false);
        cfg
    }
}

/// A pruning to preview: the method and its options (the sparsity is an argument).
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewOptions {
    pub method: Method,
    #[serde(default)]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub connected: Option<bool>,
    #[serde(default)]
    pub variant: Option<Variant>,
}

impl PreviewOptions {
    pub fn spec(&self, sparsity: Sparsity) -> PruneSpec {
        PruneOptions { scope: self.scope, connected: self.connected, variant: self.variant, reconstruct: None }.spec(self.method, sparsity)
    }
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PruneOptions {
    /// Weight pruning; `sensitivity` needs `sensitivity()` run first.
    pub scope: Option<Scope>,
    pub connected: Option<bool>,
    pub variant: Option<Variant>,
    /// Reconstruct: choose what to drop and update what is left layer by layer, calibrated on
    /// the first training images: `true` for the engine's default count, or a number. Needs the
    /// data loaded; neuron pruning's full variant.
    #[serde(deserialize_with = "calibration")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "boolean | number"))]
    pub reconstruct: Option<usize>,
}

impl PruneOptions {
    /// The engine's request, with the defaults filled in.
    pub fn spec(&self, method: Method, sparsity: Sparsity) -> PruneSpec {
        PruneSpec { method, sparsity, scope: self.scope.unwrap_or_default(), connected: self.connected.unwrap_or(false), variant: self.variant.unwrap_or_default() }
    }
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SensitivityOptions {
    /// Measure on the first N training images (default 2000).
    pub images: Option<usize>,
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FineTuneOptions {
    pub lr: Option<f64>,
    pub batch_size: Option<usize>,
    /// Fine-tune on the first N training images only.
    pub limit: Option<usize>,
}

#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SweepOptions {
    pub methods: Option<Vec<Method>>,
    /// Percentages; default: the report's ten.
    pub sparsities: Option<Vec<f64>>,
    pub finetune_epochs: Option<usize>,
    /// Each line drawn twice, the second time reconstructed (as `PruneOptions::reconstruct`).
    #[serde(deserialize_with = "calibration")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "boolean | number"))]
    pub reconstruct: Option<usize>,
    /// Weight pruning's scopes, a line each (default: global).
    pub scopes: Option<Vec<Scope>>,
    pub connected: Option<bool>,
    pub variant: Option<Variant>,
}

impl SweepOptions {
    /// The sparsities asked for, each checked; none: the sweep's default.
    pub fn sparsities(&self) -> Result<Option<Vec<Sparsity>>, PruneError> {
        self.sparsities.as_ref().map(|ks| ks.iter().map(|&k| Sparsity::new(k)).collect()).transpose()
    }
}

/// `reconstruct`'s calibration images: `true` is the engine's default ([`DEFAULT_CALIBRATION`]),
/// so that callers need not repeat it; `false` (or null) none; a number that many.
fn calibration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    #[derive(Clone, Copy)]
    struct Images;
    impl Visitor<'_> for Images {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "true (the default {DEFAULT_CALIBRATION} images), false, or a number of training images")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(v.then_some(DEFAULT_CALIBRATION))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            usize::try_from(v).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self)).and_then(|v| self.visit_u64(v))
        }
        // JavaScript's numbers arrive as f64: whole ones only.
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) {
                Ok(Some(v as usize))
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Images)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::spec::TrainError;

    fn parse<T: for<'de> Deserialize<'de>>(seed: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&std::fs::read(format!("{}/fuzz/seeds/options/{seed}", env!("CARGO_MANIFEST_DIR"))).unwrap())
    }

    #[test]
    fn the_fuzz_seeds_parse_into_what_they_ask_for() {
        let train: TrainOptions = parse("train.json").unwrap();
        let cfg = train.config();
        assert_eq!((cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed, cfg.augment, cfg.epsilon), (5, 64, 0.001, 7, true, 1e-7));
        assert!(cfg.validate().is_ok());
        let prune: PruneOptions = parse("prune.json").unwrap();
        let spec = prune.spec(Method::Weight, Sparsity::new(90.0).unwrap());
        assert_eq!((spec.scope, spec.connected, spec.variant, prune.reconstruct), (Scope::Lamp, true, Variant::Report, Some(1024)));
        let sweep: SweepOptions = parse("sweep.json").unwrap();
        assert_eq!(sweep.sparsities().unwrap().unwrap().iter().map(|k| k.percent()).collect::<Vec<_>>(), [0.0, 25.0, 50.0, 99.5]);
        let lab: LabOptions = parse("lab.json").unwrap();
        assert_eq!(lab.measured.map(|m| m.cpu), Some(900.0));
        assert!(parse::<PreviewOptions>("preview.json").is_ok());
        // A field no options type has is refused, not ignored.
        let e = parse::<FineTuneOptions>("finetune.json").err().unwrap().to_string();
        assert!(e.contains("unknown field `images`"), "{e}");
    }

    #[test]
    fn values_out_of_range_parse_and_are_then_refused() {
        let train: TrainOptions = serde_json::from_str(r#"{"model": "cnn", "lr": 0}"#).unwrap();
        assert!(matches!(train.config().validate(), Err(TrainError::BadConfig(m)) if m.contains("learning rate")));
        let sweep: SweepOptions = serde_json::from_str(r#"{"sparsities": [50, 150]}"#).unwrap();
        assert!(matches!(sweep.sparsities(), Err(PruneError::BadSparsity(k)) if k == "150"));
        assert!(serde_json::from_str::<PreviewOptions>(r#"{"method": "magic"}"#).is_err());
    }

    #[test]
    fn reconstruct_takes_true_for_the_default_or_a_count() {
        let images = |json: &str| serde_json::from_str::<PruneOptions>(json).map(|o| o.reconstruct);
        assert_eq!(images(r#"{"reconstruct": true}"#).unwrap(), Some(DEFAULT_CALIBRATION));
        assert_eq!(images(r#"{"reconstruct": false}"#).unwrap(), None);
        assert_eq!(images(r#"{"reconstruct": null}"#).unwrap(), None);
        assert_eq!(images(r#"{}"#).unwrap(), None);
        assert_eq!(images(r#"{"reconstruct": 2048}"#).unwrap(), Some(2048));
        for bad in ["1.5", "-1", "\"yes\""] {
            let e = images(&format!(r#"{{"reconstruct": {bad}}}"#)).err().unwrap().to_string();
            assert!(e.contains("true (the default 1024 images), false, or a number"), "{bad}: {e}");
        }
        let sweep: SweepOptions = serde_json::from_str(r#"{"reconstruct": true}"#).unwrap();
        assert_eq!(sweep.reconstruct, Some(DEFAULT_CALIBRATION));
    }
}
