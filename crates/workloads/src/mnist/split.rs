//! The fixed, seeded division of the digits into training, validation and test sets.
//!
//! Hyperband compares configurations by validation loss, so the validation digits must never
//! be trained on, and the test digits must not even be looked at while choosing: they give an
//! honest error for the configuration finally picked. The assignment depends only on the seed,
//! so every trial of a study (and every worker) sees the same three sets.

use super::dataset::Dataset;
use super::rng::{shuffle, stream, Purpose};

/// How many digits go to each set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitSizes {
    pub train: usize,
    pub val: usize,
    pub test: usize,
}

/// Sizes for the 10,000 bundled digits. Training gets 8,000 because test error on this task
/// is limited mainly by the amount of training data; 1,000 validation digits still estimate a
/// cross-entropy of about 0.15 to within a few per cent, and 1,000 test digits measure an
/// error rate near 4% to about +-0.6 points (one standard error).
pub const BUNDLED_SPLIT: SplitSizes = SplitSizes {
    train: 8_000,
    val: 1_000,
    test: 1_000,
};

/// Digits held out of the 60,000 full-MNIST training digits for validation; the full files'
/// own 10,000 test digits are the test set.
pub const FULL_MNIST_VAL: usize = 5_000;

/// Training, validation and test digits.
#[derive(Clone, Debug)]
pub struct MnistSplits {
    pub train: Dataset,
    pub val: Dataset,
    pub test: Dataset,
}

/// Shuffles `all` with the seed and cuts it into consecutive pieces of the given sizes.
/// Returns `None` when `all` has fewer digits than the sizes add up to.
pub fn split(all: &Dataset, sizes: SplitSizes, seed: u64) -> Option<MnistSplits> {
    if sizes.train + sizes.val + sizes.test > all.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    shuffle(&mut stream(seed, Purpose::Split), &mut order);
    let (train, rest) = order.split_at(sizes.train);
    let (val, rest) = rest.split_at(sizes.val);
    Some(MnistSplits {
        train: all.select(train),
        val: all.select(val),
        test: all.select(&rest[..sizes.test]),
    })
}

/// Cuts a validation set of `val` digits out of `train` (seeded) and keeps `test` whole.
pub fn split_with_test(
    train: &Dataset,
    test: Dataset,
    val: usize,
    seed: u64,
) -> Option<MnistSplits> {
    let sizes = SplitSizes {
        train: train.len().checked_sub(val)?,
        val,
        test: 0,
    };
    let s = split(train, sizes, seed)?;
    Some(MnistSplits {
        train: s.train,
        val: s.val,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::idx::PIXELS;

    fn numbered(n: usize) -> Dataset {
        // Digit i's first pixel encodes i, so the sets can be checked for overlap.
        let mut images = vec![0.0; n * PIXELS];
        for i in 0..n {
            images[i * PIXELS] = i as f32;
        }
        Dataset::new(images, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
    }

    fn ids(d: &Dataset) -> Vec<usize> {
        (0..d.len()).map(|i| d.image(i)[0] as usize).collect()
    }

    #[test]
    fn split_is_disjoint_seeded_and_sized() {
        let all = numbered(100);
        let sizes = SplitSizes {
            train: 70,
            val: 15,
            test: 15,
        };
        let a = split(&all, sizes, 1).unwrap();
        let b = split(&all, sizes, 1).unwrap();
        let c = split(&all, sizes, 2).unwrap();
        assert_eq!((a.train.len(), a.val.len(), a.test.len()), (70, 15, 15));
        assert_eq!(ids(&a.val), ids(&b.val));
        assert_ne!(ids(&a.val), ids(&c.val));
        let mut seen: Vec<usize> = [ids(&a.train), ids(&a.val), ids(&a.test)].concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(split(
            &all,
            SplitSizes {
                train: 90,
                val: 10,
                test: 1
            },
            1
        )
        .is_none());
    }

    #[test]
    fn split_with_test_keeps_the_test_set_whole() {
        let s = split_with_test(&numbered(50), numbered(7), 10, 3).unwrap();
        assert_eq!((s.train.len(), s.val.len()), (40, 10));
        assert_eq!(ids(&s.test), (0..7).collect::<Vec<_>>());
        assert!(split_with_test(&numbered(5), numbered(1), 10, 3).is_none());
    }
}
