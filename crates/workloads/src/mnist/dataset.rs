//! A set of digits ready for the network: pixels already scaled to [0, 1] as `f32`, so that
//! training and evaluation can hand rows straight to the matrix multiply.

use super::idx::{IdxError, RawImages, PIXELS};
use std::fmt;

/// Digits as a row-major `n x 784` matrix of `f32` in [0, 1] plus one label 0-9 per row.
#[derive(Clone, PartialEq)]
pub struct Dataset {
    images: Vec<f32>,
    labels: Vec<u8>,
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dataset {{ len: {} }}", self.len())
    }
}

impl Dataset {
    /// Builds a dataset from scaled pixels; `None` when the sizes disagree or a label is not
    /// a digit, since every later index computation relies on both.
    pub fn new(images: Vec<f32>, labels: Vec<u8>) -> Option<Self> {
        (images.len() == labels.len() * PIXELS && labels.iter().all(|&l| l < 10))
            .then_some(Dataset { images, labels })
    }

    /// Pairs raw images with their labels, checking that the two files agree on the count.
    pub fn from_raw(
        images: &RawImages,
        images_file: &str,
        labels: &[u8],
        labels_file: &str,
    ) -> Result<Self, IdxError> {
        if images.count != labels.len() {
            return Err(IdxError::CountMismatch {
                images_file: images_file.to_owned(),
                images: images.count,
                labels_file: labels_file.to_owned(),
                labels: labels.len(),
            });
        }
        let (pixels, labels) = (&images.pixels, labels);
        Ok(Self::from_rows((0..labels.len()).map(|i| {
            (&pixels[i * PIXELS..(i + 1) * PIXELS], labels[i])
        })))
    }

    /// Collects rows of raw grey levels and labels, scaling the pixels by 1/255.
    pub(crate) fn from_rows<'a>(rows: impl Iterator<Item = (&'a [u8], u8)>) -> Self {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (row, label) in rows {
            images.extend(row.iter().map(|&p| f32::from(p) / 255.0));
            labels.push(label);
        }
        Dataset { images, labels }
    }

    /// Picks rows by index, in the given order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut images = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Dataset { images, labels }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All pixels, row-major, [`PIXELS`] per digit.
    pub fn images(&self) -> &[f32] {
        &self.images
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The pixels of digit `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// A cheap fingerprint (length and FNV-1a over the labels) that a checkpoint records, so
    /// that resuming on a different training set is caught instead of silently changing the
    /// data order.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.len() as u64;
        for &l in &self.labels {
            h = (h ^ u64::from(l)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::idx::tests::image_data;

    #[test]
    fn count_mismatch_names_both_files() {
        let raw = RawImages {
            pixels: image_data(3),
            count: 3,
        };
        let err = Dataset::from_raw(&raw, "imgs.gz", &[1, 2], "labs.gz").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::CountMismatch {
                    images: 3,
                    labels: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("imgs.gz") && msg.contains("labs.gz"), "{msg}");
    }

    #[test]
    fn pixels_are_scaled_to_unit_interval_row_by_row() {
        let raw = RawImages {
            pixels: image_data(2),
            count: 2,
        };
        let d = Dataset::from_raw(&raw, "i", &[4, 5], "l").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.labels(), &[4, 5]);
        for (i, &p) in raw.pixels.iter().enumerate() {
            assert_eq!(d.images()[i], f32::from(p) / 255.0);
        }
        assert!(d.images().iter().all(|&x| (0.0..=1.0).contains(&x)));
        let s = d.select(&[1, 0]);
        assert_eq!(s.image(0), d.image(1));
        assert_eq!(s.labels(), &[5, 4]);
        assert_ne!(d.fingerprint(), s.fingerprint());
    }
}
