//! The MNIST digits and the one-hidden-layer perceptron the talk tunes.
//!
//! - [`idx`]: reading the IDX files (gzipped or not) with errors that name the file.
//! - [`source`]: the 10,000 digits compiled into the binary, or the full MNIST files in a
//!   directory; [`split`]: the fixed, seeded training / validation / test division.
//! - [`mlp`]: the 784 -> hidden -> 10 network trained by minibatch SGD with an L2 penalty,
//!   budgeted in units of [`ITERATIONS_PER_UNIT`] steps; [`checkpoint`]: save and resume,
//!   bitwise equal to training without interruption.
//!
//! ```no_run
//! use workloads::mnist::{bundled_splits, MlpParams, TrainSettings, Trainer};
//! let data = bundled_splits(0)?;
//! let params = MlpParams { lr: 0.1, l2: 1e-4, hidden: 100 };
//! let mut t = Trainer::new(params, TrainSettings::default())?;
//! t.train_to(&data.train, 9.0)?;
//! let ckpt = t.to_bytes();
//! let mut t = Trainer::from_bytes(&ckpt, params, TrainSettings::default())?;
//! t.train_to(&data.train, 27.0)?; // pays only for units 9..27
//! println!("{:?}", t.evaluate(&data.val));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod dataset;
pub mod idx;
pub mod mlp;
mod order;
mod rng;
pub mod source;
pub mod split;

pub use checkpoint::CheckpointError;
pub use dataset::Dataset;
pub use idx::{IdxError, PIXELS};
pub use mlp::{
    steps_for_budget, Divergence, Eval, MlpParams, TrainError, TrainSettings, Trainer, CLASSES,
    ITERATIONS_PER_UNIT,
};
pub use source::{bundled, bundled_splits, splits_from_dir};
pub use split::{MnistSplits, SplitSizes, BUNDLED_SPLIT};
