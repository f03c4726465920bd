//! Where the digits come from: the 10,000 that ship inside the binary, or a directory with the
//! full MNIST files.
//!
//! The bundled files are compiled in with `include_bytes!`, so the demo runs offline from any
//! working directory without locating a data folder.

use super::dataset::Dataset;
use super::idx::{parse_images, parse_labels, read_images_file, read_labels_file, IdxError};
use super::split::{split, split_with_test, MnistSplits, BUNDLED_SPLIT, FULL_MNIST_VAL};
use std::path::{Path, PathBuf};

const BUNDLED_IMAGES_NAME: &str = "mnist-10k-images-idx3-ubyte.gz";
const BUNDLED_LABELS_NAME: &str = "mnist-10k-labels-idx1-ubyte.gz";
static BUNDLED_IMAGES: &[u8] = include_bytes!("../../data/mnist-10k-images-idx3-ubyte.gz");
static BUNDLED_LABELS: &[u8] = include_bytes!("../../data/mnist-10k-labels-idx1-ubyte.gz");

/// All 10,000 bundled digits, in file order (see `data/README.md` for their origin).
pub fn bundled() -> Result<Dataset, IdxError> {
    let images_name = format!("bundled {BUNDLED_IMAGES_NAME}");
    let labels_name = format!("bundled {BUNDLED_LABELS_NAME}");
    let images = parse_images(BUNDLED_IMAGES, &images_name)?;
    let labels = parse_labels(BUNDLED_LABELS, &labels_name)?;
    Dataset::from_raw(&images, &images_name, &labels, &labels_name)
}

/// The bundled digits split 8,000 / 1,000 / 1,000 ([`BUNDLED_SPLIT`]) by `seed`.
pub fn bundled_splits(seed: u64) -> Result<MnistSplits, IdxError> {
    Ok(split(&bundled()?, BUNDLED_SPLIT, seed).expect("the bundle holds 10,000 digits"))
}

/// The full MNIST files in `dir`: the 60,000 training digits minus [`FULL_MNIST_VAL`] held out
/// (by `seed`) for validation, and the 10,000 `t10k` digits as the test set. Each file may be
/// gzipped or not, under its distributed name with or without `.gz`.
pub fn splits_from_dir(dir: &Path, seed: u64) -> Result<MnistSplits, IdxError> {
    let train = load_pair(dir, "train")?;
    let test = load_pair(dir, "t10k")?;
    let val = FULL_MNIST_VAL.min(train.len() / 5);
    Ok(split_with_test(&train, test, val, seed).expect("val is at most a fifth of train"))
}

fn load_pair(dir: &Path, prefix: &str) -> Result<Dataset, IdxError> {
    let images_path = find(dir, prefix, "images", "idx3-ubyte")?;
    let labels_path = find(dir, prefix, "labels", "idx1-ubyte")?;
    let images = read_images_file(&images_path)?;
    let labels = read_labels_file(&labels_path)?;
    Dataset::from_raw(
        &images,
        &images_path.display().to_string(),
        &labels,
        &labels_path.display().to_string(),
    )
}

/// Accepts `train-images-idx3-ubyte`, with `.gz`, and the `train-images.idx3-ubyte` spelling
/// some mirrors use.
fn find(dir: &Path, prefix: &str, kind: &'static str, ext: &str) -> Result<PathBuf, IdxError> {
    let names = [
        format!("{prefix}-{kind}-{ext}"),
        format!("{prefix}-{kind}-{ext}.gz"),
        format!("{prefix}-{kind}.{ext}"),
        format!("{prefix}-{kind}.{ext}.gz"),
    ];
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| IdxError::Missing {
            dir: dir.display().to_string(),
            what: kind,
            tried: format!("{} (gzipped or not)", names[0]),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::idx::tests::{gzip, idx_bytes, image_data, TempDir};
    use crate::mnist::idx::{IMAGES_MAGIC, LABELS_MAGIC};

    #[test]
    fn bundled_digits_load_and_look_like_mnist() {
        let all = bundled().unwrap();
        assert_eq!(all.len(), 10_000);
        let mut counts = [0usize; 10];
        for &l in all.labels() {
            counts[l as usize] += 1;
        }
        // Every class present in roughly its MNIST share (each is 9-11% of the digits).
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        // Mostly background: MNIST digits cover about a fifth of the frame.
        let mean =
            all.images().iter().map(|&p| f64::from(p)).sum::<f64>() / all.images().len() as f64;
        assert!((0.1..0.2).contains(&mean), "{mean}");
        let s = bundled_splits(0).unwrap();
        assert_eq!(
            (s.train.len(), s.val.len(), s.test.len()),
            (8_000, 1_000, 1_000)
        );
    }

    #[test]
    fn directory_loader_accepts_plain_and_gzipped_names_and_reports_mismatches() {
        let dir = TempDir::new("dir");
        let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.0.join(name), bytes).unwrap();
        write(
            "train-images-idx3-ubyte.gz",
            gzip(&idx_bytes(IMAGES_MAGIC, &[20, 28, 28], &image_data(20))),
        );
        write(
            "train-labels-idx1-ubyte",
            idx_bytes(LABELS_MAGIC, &[20], &[3; 20]),
        );
        write(
            "t10k-images.idx3-ubyte",
            idx_bytes(IMAGES_MAGIC, &[4, 28, 28], &image_data(4)),
        );
        let err = splits_from_dir(&dir.0, 1).unwrap_err();
        assert!(
            matches!(err, IdxError::Missing { what: "labels", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("t10k-labels-idx1-ubyte"), "{err}");

        write(
            "t10k-labels-idx1-ubyte.gz",
            gzip(&idx_bytes(LABELS_MAGIC, &[5], &[1; 5])),
        );
        let err = splits_from_dir(&dir.0, 1).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::CountMismatch {
                    images: 4,
                    labels: 5,
                    ..
                }
            ),
            "{err:?}"
        );

        write(
            "t10k-labels-idx1-ubyte.gz",
            gzip(&idx_bytes(LABELS_MAGIC, &[4], &[1; 4])),
        );
        let s = splits_from_dir(&dir.0, 1).unwrap();
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (16, 4, 4));
    }
}
