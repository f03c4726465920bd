//! Saving a trainer and resuming it, so that a configuration Hyperband promotes pays only for
//! its new iterations.
//!
//! The file holds everything training depends on besides the data: hyperparameters, batch
//! size, seed, step count, a fingerprint of the training set and the weights as raw
//! little-endian `f32`. Since the minibatch order is a function of (seed, step) alone, a loaded
//! trainer continues exactly where the saved one stopped. Layout (all little-endian):
//!
//! ```text
//! "HBMLPCK\0"  u32 version  f64 lr  f64 l2  u64 hidden  u64 batch  u64 seed  u64 step
//! u8 has_data  u64 data_fingerprint  f32 w1[h*784] b1[h] w2[10*h] b2[10]  u64 fnv1a(all before)
//! ```
//!
//! with the weight matrices row-major as output x input (PyTorch's `nn.Linear` layout).

use super::idx::PIXELS;
use super::mlp::{MlpParams, TrainSettings, Trainer, Weights, CLASSES};
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"HBMLPCK\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 * 6 + 1 + 8;

/// Why a checkpoint could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not an MLP checkpoint (bad magic)")]
    BadMagic,
    #[error("checkpoint version {0} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion(u32),
    #[error("checkpoint truncated: {expected} bytes expected, {found} present")]
    Truncated { expected: usize, found: usize },
    #[error("checkpoint corrupt: checksum mismatch")]
    Corrupt,
    /// The checkpoint belongs to a different configuration than the one being resumed.
    #[error("checkpoint is for {field} = {in_file}, not {expected}")]
    Mismatch {
        field: &'static str,
        in_file: String,
        expected: String,
    },
}

impl Trainer {
    /// The checkpoint as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let w = &self.weights;
        let floats = w.w1.len() + w.b1.len() + w.w2.len() + w.b2.len();
        let mut out = Vec::with_capacity(HEADER_LEN + 4 * floats + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.params.lr.to_le_bytes());
        out.extend_from_slice(&self.params.l2.to_le_bytes());
        out.extend_from_slice(&(self.params.hidden as u64).to_le_bytes());
        out.extend_from_slice(&(self.settings.batch_size as u64).to_le_bytes());
        out.extend_from_slice(&self.settings.seed.to_le_bytes());
        out.extend_from_slice(&self.step.to_le_bytes());
        out.push(u8::from(self.data.is_some()));
        out.extend_from_slice(&self.data.unwrap_or(0).to_le_bytes());
        for v in [&w.w1, &w.b1, &w.w2, &w.b2] {
            for x in v.iter() {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Writes the checkpoint to `w`.
    pub fn save(&self, mut w: impl Write) -> std::io::Result<()> {
        w.write_all(&self.to_bytes())
    }

    /// Writes the checkpoint to `path` via a temporary file and a rename, so that a crash
    /// mid-write leaves the previous checkpoint intact rather than a truncated one.
    pub fn save_file(&self, path: &Path) -> Result<(), CheckpointError> {
        let io = |source| CheckpointError::Io {
            file: path.display().to_string(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&self.to_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a checkpoint and checks that it belongs to `params` and `settings` (all but
    /// `threads`, which may differ between workers; bitwise reproducibility holds for equal
    /// thread counts).
    pub fn load(
        mut r: impl Read,
        params: MlpParams,
        settings: TrainSettings,
    ) -> Result<Self, CheckpointError> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes)
            .map_err(|source| CheckpointError::Io {
                file: "(reader)".into(),
                source,
            })?;
        Self::from_bytes(&bytes, params, settings)
    }

    /// [`Trainer::load`] from a file.
    pub fn load_file(
        path: &Path,
        params: MlpParams,
        settings: TrainSettings,
    ) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            file: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes, params, settings)
    }

    /// [`Trainer::load`] from bytes.
    pub fn from_bytes(
        bytes: &[u8],
        params: MlpParams,
        settings: TrainSettings,
    ) -> Result<Self, CheckpointError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::BadMagic);
        }
        if bytes.len() < HEADER_LEN {
            return Err(CheckpointError::Truncated {
                expected: HEADER_LEN,
                found: bytes.len(),
            });
        }
        let mut rd = Cursor { bytes, pos: 8 };
        let version = u32::from_le_bytes(rd.take());
        if version != VERSION {
            return Err(CheckpointError::UnsupportedVersion(version));
        }
        let lr = f64::from_le_bytes(rd.take());
        let l2 = f64::from_le_bytes(rd.take());
        let hidden = u64::from_le_bytes(rd.take());
        let batch = u64::from_le_bytes(rd.take());
        let seed = u64::from_le_bytes(rd.take());
        let step = u64::from_le_bytes(rd.take());
        let has_data = rd.take::<1>()[0] != 0;
        let fingerprint = u64::from_le_bytes(rd.take());

        let expected_len = usize::try_from(hidden)
            .ok()
            .and_then(|h| h.checked_mul(PIXELS + 1 + CLASSES))
            .and_then(|n| n.checked_add(CLASSES))
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(HEADER_LEN + 8))
            .unwrap_or(usize::MAX);
        if bytes.len() < expected_len {
            return Err(CheckpointError::Truncated {
                expected: expected_len,
                found: bytes.len(),
            });
        }
        let body = &bytes[..expected_len - 8];
        let sum = u64::from_le_bytes(bytes[expected_len - 8..expected_len].try_into().unwrap());
        if bytes.len() != expected_len || fnv1a(body) != sum {
            return Err(CheckpointError::Corrupt);
        }
        check("lr", lr.to_bits() == params.lr.to_bits(), lr, params.lr)?;
        check("l2", l2.to_bits() == params.l2.to_bits(), l2, params.l2)?;
        check(
            "hidden",
            hidden == params.hidden as u64,
            hidden,
            params.hidden,
        )?;
        let b = settings.batch_size;
        check("batch_size", batch == b as u64, batch, b)?;
        check("seed", seed == settings.seed, seed, settings.seed)?;

        let h = params.hidden;
        let mut floats =
            |n: usize| -> Vec<f32> { (0..n).map(|_| f32::from_le_bytes(rd.take())).collect() };
        let weights = Weights {
            w1: floats(PIXELS * h),
            b1: floats(h),
            w2: floats(h * CLASSES),
            b2: floats(CLASSES),
        };
        let data = has_data.then_some(fingerprint);
        Ok(Trainer::from_parts(params, settings, weights, step, data))
    }
}

fn check(
    field: &'static str,
    ok: bool,
    in_file: impl std::fmt::Display,
    expected: impl std::fmt::Display,
) -> Result<(), CheckpointError> {
    if ok {
        Ok(())
    } else {
        Err(CheckpointError::Mismatch {
            field,
            in_file: in_file.to_string(),
            expected: expected.to_string(),
        })
    }
}

/// Reads fixed-size fields; callers have checked the length beforehand.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let out = self.bytes[self.pos..self.pos + N].try_into().unwrap();
        self.pos += N;
        out
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::dataset::Dataset;
    use crate::mnist::idx::tests::TempDir;
    use crate::mnist::source::bundled_splits;

    const PARAMS: MlpParams = MlpParams {
        lr: 0.05,
        l2: 1e-3,
        hidden: 24,
    };

    /// 1,000 training digits, so that an epoch is 10 steps and the runs below cross several
    /// epoch boundaries, one of them between save and resume.
    fn small_train() -> Dataset {
        let data = bundled_splits(3).unwrap();
        data.train.select(&(0..1000).collect::<Vec<_>>())
    }

    #[test]
    fn resumed_training_is_bitwise_equal_to_uninterrupted_training() {
        let data = small_train();
        let dir = TempDir::new("ckpt");
        for threads in [1, 2] {
            let settings = TrainSettings {
                batch_size: 100,
                seed: 11,
                threads,
            };
            let mut straight = Trainer::new(PARAMS, settings).unwrap();
            straight.train_to_step(&data, 53).unwrap();

            let mut first = Trainer::new(PARAMS, settings).unwrap();
            first.train_to_step(&data, 17).unwrap();
            let path = dir.0.join(format!("t{threads}.ckpt"));
            first.save_file(&path).unwrap();
            drop(first);
            let mut resumed = Trainer::load_file(&path, PARAMS, settings).unwrap();
            assert_eq!(resumed.steps(), 17);
            resumed.train_to_step(&data, 40).unwrap();
            // And once more through the in-memory path.
            let mut resumed = Trainer::from_bytes(&resumed.to_bytes(), PARAMS, settings).unwrap();
            resumed.train_to_step(&data, 53).unwrap();

            assert_eq!(resumed.steps(), 53);
            assert!(resumed.weights == straight.weights, "threads = {threads}");
            assert_eq!(resumed.to_bytes(), straight.to_bytes());
            // The comparison has teeth: one step more is a different network.
            straight.train_to_step(&data, 54).unwrap();
            assert!(resumed.weights != straight.weights);
        }
    }

    #[test]
    fn load_rejects_other_configs_corruption_and_foreign_files() {
        let data = small_train();
        let settings = TrainSettings::default();
        let mut t = Trainer::new(PARAMS, settings).unwrap();
        t.train_to_step(&data, 3).unwrap();
        let bytes = t.to_bytes();
        let mut saved = Vec::new();
        t.save(&mut saved).unwrap();
        assert_eq!(saved, bytes);

        let other = MlpParams { lr: 0.06, ..PARAMS };
        let err = Trainer::from_bytes(&bytes, other, settings).unwrap_err();
        assert!(
            matches!(err, CheckpointError::Mismatch { field: "lr", .. }),
            "{err:?}"
        );
        let other = TrainSettings {
            seed: 9,
            ..settings
        };
        let err = Trainer::load(&bytes[..], PARAMS, other).unwrap_err();
        assert!(
            matches!(err, CheckpointError::Mismatch { field: "seed", .. }),
            "{err:?}"
        );
        // Threads may differ: a checkpoint moves between workers.
        let two = TrainSettings {
            threads: 2,
            ..settings
        };
        assert!(Trainer::from_bytes(&bytes, PARAMS, two).is_ok());

        let mut flipped = bytes.clone();
        flipped[HEADER_LEN + 100] ^= 1;
        let err = Trainer::from_bytes(&flipped, PARAMS, settings).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt), "{err:?}");
        let err = Trainer::from_bytes(&bytes[..bytes.len() - 5], PARAMS, settings).unwrap_err();
        assert!(matches!(err, CheckpointError::Truncated { .. }), "{err:?}");
        let err = Trainer::from_bytes(b"PK\x03\x04 not ours", PARAMS, settings).unwrap_err();
        assert!(matches!(err, CheckpointError::BadMagic), "{err:?}");
        let err = Trainer::load_file(Path::new("/nonexistent/x.ckpt"), PARAMS, settings);
        assert!(err.unwrap_err().to_string().contains("/nonexistent/x.ckpt"));
    }

    #[test]
    fn a_resumed_trainer_still_refuses_other_training_data() {
        let data = small_train();
        let settings = TrainSettings::default();
        let mut t = Trainer::new(PARAMS, settings).unwrap();
        t.train_to_step(&data, 2).unwrap();
        let mut t = Trainer::from_bytes(&t.to_bytes(), PARAMS, settings).unwrap();
        let other = data.select(&(0..500).collect::<Vec<_>>());
        assert_eq!(
            t.train_to_step(&other, 4),
            Err(crate::mnist::TrainError::DataChanged)
        );
    }
}
