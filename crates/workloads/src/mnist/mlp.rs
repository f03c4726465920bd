//! The talk's network, 784 -> hidden (ReLU) -> 10 (softmax cross-entropy), and its training by
//! minibatch SGD with an L2 penalty.
//!
//! Training time is what a Hyperband study spends, so the step is written for speed: the two
//! large products (forward through the first layer and its weight gradient) go to faer's f32
//! GEMM, the weight gradient is accumulated straight into the weights (`W += -lr X^T dZ`) with
//! no gradient buffer, and every buffer lives in a workspace allocated once per trainer.

use super::dataset::Dataset;
use super::idx::PIXELS;
use super::order::EpochOrder;
use super::rng::{stream, unit_f32, Purpose};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Number of classes, the width of the output layer.
pub const CLASSES: usize = 10;

/// SGD steps (minibatches) per budget unit.
///
/// With the default minibatch of 10 digits one unit is 1,000 digits (an eighth of an epoch of
/// the 8,000 bundled training digits) and the maximum budget R = 81 is about ten epochs. That
/// is where good configurations have about converged (3-4.5% test error depending on the
/// split seed), while one full Hyperband run (R = 81, eta = 3: 1,581 units of new iterations
/// with resume) takes under a minute of wall time on two workers with one thread each: a unit
/// costs about 25 ms with 300 hidden units. Measurements in `docs/benchmarks-mnist.md`.
pub const ITERATIONS_PER_UNIT: u64 = 100;

/// SGD steps for a budget in units, rounded to the nearest step; negative or NaN budgets
/// train nothing.
pub fn steps_for_budget(units: f64) -> u64 {
    let steps = (units * ITERATIONS_PER_UNIT as f64).round();
    if steps >= 0.0 {
        steps as u64
    } else {
        0
    }
}

/// The three hyperparameters the talk tunes.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MlpParams {
    /// SGD step size (the talk's range: log-uniform 1e-3..1e-1).
    pub lr: f64,
    /// L2 penalty coefficient on the weights, not the biases (log-uniform 1e-6..1e-1).
    pub l2: f64,
    /// Hidden units (log-int 10..1000).
    pub hidden: usize,
}

/// How training runs, as opposed to what is tuned. The same settings (threads aside) are
/// needed to resume a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    /// Digits per minibatch. The default, 10, is small because the learning rate is capped
    /// at 0.1 and plain SGD then learns more per digit from more, smaller steps, enough to
    /// outweigh the less efficient small GEMMs: on the same digits, batches of 10 reached
    /// 3.0-4.2% test error where batches of 25 reached 3.5-5.2%.
    pub batch_size: usize,
    /// Seeds the initial weights and the order of the training digits.
    pub seed: u64,
    /// Threads for the matrix products. One suits running two trials at once on two cores;
    /// two speeds up a single trial with a large hidden layer. Results with the same thread
    /// count are bitwise reproducible.
    pub threads: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            batch_size: 10,
            seed: 0,
            threads: 1,
        }
    }
}

/// Loss and error rate of the network on a set of digits.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Eval {
    /// Mean cross-entropy in nats (without the L2 term): the loss Hyperband minimizes.
    pub loss: f64,
    /// Fraction of digits classified wrongly.
    pub error_rate: f64,
}

/// Why training stopped being meaningful.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Divergence {
    #[error("the minibatch loss became {0} (learning rate too large?)")]
    NonFiniteLoss(f64),
    #[error("the weights became infinite or NaN (learning rate too large?)")]
    NonFiniteWeights,
}

/// Errors from creating or training a [`Trainer`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// A hyperparameter or setting the network cannot use.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Training blew up; the trainer's weights are no longer usable.
    #[error("training diverged at step {step}: {reason}")]
    Diverged { step: u64, reason: Divergence },
    /// `train_to` was given a different training set than the one the run started on.
    #[error("the training data differ from the data this run was trained on so far")]
    DataChanged,
    #[error("the training set is empty")]
    EmptyData,
}

/// The weights in PyTorch's `nn.Linear` layout, output x input row-major: `w1` is hidden x 784
/// and `w2` is 10 x hidden. (In faer's column-major view these are the 784 x hidden and
/// hidden x 10 matrices of the maths, a layout faer's GEMM measured fastest on for both the
/// forward product and the weight-gradient product.)
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Weights {
    pub(crate) w1: Vec<f32>,
    pub(crate) b1: Vec<f32>,
    pub(crate) w2: Vec<f32>,
    pub(crate) b2: Vec<f32>,
}

impl Weights {
    /// PyTorch's default `nn.Linear` initialisation for the weights (uniform within
    /// +-1/sqrt(fan_in)), zero biases.
    fn init(hidden: usize, seed: u64) -> Self {
        let mut rng = stream(seed, Purpose::Init);
        let mut uniform = |len: usize, fan_in: usize| -> Vec<f32> {
            let a = 1.0 / (fan_in as f32).sqrt();
            (0..len)
                .map(|_| (2.0 * unit_f32(&mut rng) - 1.0) * a)
                .collect()
        };
        let w1 = uniform(PIXELS * hidden, PIXELS);
        let w2 = uniform(hidden * CLASSES, hidden);
        Weights {
            w1,
            b1: vec![0.0; hidden],
            w2,
            b2: vec![0.0; CLASSES],
        }
    }

    pub(crate) fn all_finite(&self) -> bool {
        [&self.w1, &self.b1, &self.w2, &self.b2]
            .iter()
            .all(|v| v.iter().all(|x| x.is_finite()))
    }
}

/// Buffers for one minibatch, sized once so that a step allocates nothing.
#[derive(Clone, Debug)]
struct Workspace {
    /// The minibatch's pixels, batch x 784.
    x: Vec<f32>,
    y: Vec<u8>,
    /// Hidden activations after ReLU, batch x hidden, column-major (one hidden unit's
    /// activations over the batch are contiguous).
    a1: Vec<f32>,
    /// Logits, then (in place) the gradient of the loss with respect to them, batch x 10.
    z2: Vec<f32>,
    /// Gradient with respect to the hidden pre-activations, laid out like `a1`.
    d1: Vec<f32>,
    order: EpochOrder,
}

impl Workspace {
    fn new(batch: usize, hidden: usize) -> Self {
        Workspace {
            x: vec![0.0; batch * PIXELS],
            y: vec![0; batch],
            a1: vec![0.0; batch * hidden],
            z2: vec![0.0; batch * CLASSES],
            d1: vec![0.0; batch * hidden],
            order: EpochOrder::default(),
        }
    }
}

/// A network being trained: weights, the number of SGD steps taken, and its workspace.
///
/// Training is deterministic in (params, settings, training data, step count), so a trainer
/// saved after `a` steps and resumed to `b` ends with the same bits as one trained to `b`
/// directly (see the checkpoint module).
#[derive(Clone, Debug)]
pub struct Trainer {
    pub(crate) params: MlpParams,
    pub(crate) settings: TrainSettings,
    pub(crate) weights: Weights,
    pub(crate) step: u64,
    /// Fingerprint of the training set once a step has been taken.
    pub(crate) data: Option<u64>,
    ws: Workspace,
}

impl Trainer {
    /// A network with freshly initialised weights (seeded by `settings.seed`).
    pub fn new(params: MlpParams, settings: TrainSettings) -> Result<Self, TrainError> {
        validate(&params, &settings)?;
        let weights = Weights::init(params.hidden, settings.seed);
        Ok(Self::from_parts(params, settings, weights, 0, None))
    }

    pub(crate) fn from_parts(
        params: MlpParams,
        settings: TrainSettings,
        weights: Weights,
        step: u64,
        data: Option<u64>,
    ) -> Self {
        let ws = Workspace::new(settings.batch_size, params.hidden);
        Trainer {
            params,
            settings,
            weights,
            step,
            data,
            ws,
        }
    }

    pub fn params(&self) -> &MlpParams {
        &self.params
    }

    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Changes the GEMM thread count, e.g. after loading a checkpoint on another worker.
    pub fn set_threads(&mut self, threads: usize) {
        self.settings.threads = threads.max(1);
    }

    /// SGD steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Budget units trained so far.
    pub fn budget_units(&self) -> f64 {
        self.step as f64 / ITERATIONS_PER_UNIT as f64
    }

    /// Trains until the total budget reaches `units` (see [`ITERATIONS_PER_UNIT`]); does
    /// nothing if it already has. Only the new steps are paid for.
    pub fn train_to(&mut self, data: &Dataset, units: f64) -> Result<(), TrainError> {
        self.train_to_step(data, steps_for_budget(units))
    }

    /// Trains until `target` SGD steps in total have been taken.
    pub fn train_to_step(&mut self, data: &Dataset, target: u64) -> Result<(), TrainError> {
        if self.step >= target {
            return Ok(());
        }
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        let fp = data.fingerprint();
        match self.data {
            Some(known) if known != fp => return Err(TrainError::DataChanged),
            _ => self.data = Some(fp),
        }
        while self.step < target {
            let loss = self.sgd_step(data);
            if !loss.is_finite() {
                return Err(TrainError::Diverged {
                    step: self.step,
                    reason: Divergence::NonFiniteLoss(f64::from(loss)),
                });
            }
            self.step += 1;
        }
        // A finite batch loss with non-finite weights is possible only briefly (e.g. a weight
        // no input activates); checking once here keeps the hot loop lean.
        if !self.weights.all_finite() {
            return Err(TrainError::Diverged {
                step: self.step,
                reason: Divergence::NonFiniteWeights,
            });
        }
        Ok(())
    }

    /// Mean cross-entropy and error rate on `data`, in minibatch-sized chunks read in place.
    pub fn evaluate(&mut self, data: &Dataset) -> Eval {
        let batch = self.settings.batch_size;
        let par = self.par();
        let (mut loss, mut wrong) = (0.0f64, 0usize);
        let mut start = 0;
        while start < data.len() {
            let rows = batch.min(data.len() - start);
            let x = &data.images()[start * PIXELS..(start + rows) * PIXELS];
            let labels = &data.labels()[start..start + rows];
            let ws = &mut self.ws;
            forward(
                &self.weights,
                self.params.hidden,
                x,
                rows,
                &mut ws.a1,
                &mut ws.z2,
                par,
            );
            for (r, &label) in labels.iter().enumerate() {
                let z = &self.ws.z2[r * CLASSES..(r + 1) * CLASSES];
                let lse = log_sum_exp(z);
                loss += f64::from(lse - z[label as usize]);
                wrong += usize::from(argmax(z) != label as usize);
            }
            start += rows;
        }
        let n = data.len().max(1) as f64;
        Eval {
            loss: loss / n,
            error_rate: wrong as f64 / n,
        }
    }

    fn par(&self) -> Par {
        if self.settings.threads <= 1 {
            Par::Seq
        } else {
            Par::rayon(self.settings.threads)
        }
    }

    /// One SGD step on the minibatch at `self.step`; returns its mean loss.
    fn sgd_step(&mut self, data: &Dataset) -> f32 {
        let (b, h) = (self.settings.batch_size, self.params.hidden);
        let (lr, l2) = (self.params.lr as f32, self.params.l2 as f32);
        let par = self.par();
        let ws = &mut self.ws;
        let first = self.step * b as u64;
        for i in 0..b {
            let idx = ws
                .order
                .index(self.settings.seed, data.len(), first + i as u64);
            ws.x[i * PIXELS..(i + 1) * PIXELS].copy_from_slice(data.image(idx));
            ws.y[i] = data.labels()[idx];
        }
        let w = &mut self.weights;
        forward(w, h, &ws.x, b, &mut ws.a1, &mut ws.z2, par);

        // Softmax cross-entropy; z2 becomes dLoss/dLogits = (softmax - onehot) / batch.
        let mut loss = 0.0f32;
        let inv_b = 1.0 / b as f32;
        for r in 0..b {
            let z = &mut ws.z2[r * CLASSES..(r + 1) * CLASSES];
            let lse = log_sum_exp(z);
            let y = ws.y[r] as usize;
            loss += lse - z[y];
            for v in z.iter_mut() {
                *v = (*v - lse).exp() * inv_b;
            }
            z[y] -= inv_b;
        }

        // d1 = (dZ2 W2^T) masked by ReLU, computed before W2 changes.
        let dz2 = MatRef::from_row_major_slice(&ws.z2, b, CLASSES);
        matmul(
            MatMut::from_column_major_slice_mut(&mut ws.d1, b, h),
            Accum::Replace,
            dz2,
            MatRef::from_column_major_slice(&w.w2, h, CLASSES).transpose(),
            1.0,
            Par::Seq,
        );
        for (d, &a) in ws.d1.iter_mut().zip(&ws.a1) {
            if a <= 0.0 {
                *d = 0.0;
            }
        }

        // W <- (1 - lr l2) W - lr A^T dZ, biases without the penalty.
        let decay = 1.0 - lr * l2;
        let a1 = MatRef::from_column_major_slice(&ws.a1, b, h);
        scale(&mut w.w2, decay);
        matmul(
            MatMut::from_column_major_slice_mut(&mut w.w2, h, CLASSES),
            Accum::Add,
            a1.transpose(),
            dz2,
            -lr,
            Par::Seq,
        );
        for row in ws.z2.chunks_exact(CLASSES) {
            for (bias, &g) in w.b2.iter_mut().zip(row) {
                *bias -= lr * g;
            }
        }

        let x = MatRef::from_row_major_slice(&ws.x, b, PIXELS);
        scale(&mut w.w1, decay);
        matmul(
            MatMut::from_column_major_slice_mut(&mut w.w1, PIXELS, h),
            Accum::Add,
            x.transpose(),
            MatRef::from_column_major_slice(&ws.d1, b, h),
            -lr,
            par,
        );
        for (bias, unit) in w.b1.iter_mut().zip(ws.d1.chunks_exact(b)) {
            *bias -= lr * unit.iter().sum::<f32>();
        }
        loss * inv_b
    }
}

fn validate(p: &MlpParams, s: &TrainSettings) -> Result<(), TrainError> {
    let bad = |m: String| Err(TrainError::InvalidConfig(m));
    if !(p.lr.is_finite() && p.lr > 0.0) {
        return bad(format!("learning rate {} must be positive", p.lr));
    }
    if !(p.l2.is_finite() && p.l2 >= 0.0) {
        return bad(format!("L2 penalty {} must be non-negative", p.l2));
    }
    if p.hidden == 0 {
        return bad("the hidden layer needs at least one unit".into());
    }
    if s.batch_size == 0 {
        return bad("the batch size must be positive".into());
    }
    if s.threads == 0 {
        return bad("threads must be at least 1".into());
    }
    Ok(())
}

/// Fills `a1` (ReLU activations) and `z2` (logits) for the first `rows` rows of `x`.
fn forward(
    w: &Weights,
    h: usize,
    x: &[f32],
    rows: usize,
    a1: &mut [f32],
    z2: &mut [f32],
    par: Par,
) {
    let a1 = &mut a1[..rows * h];
    matmul(
        MatMut::from_column_major_slice_mut(a1, rows, h),
        Accum::Replace,
        MatRef::from_row_major_slice(x, rows, PIXELS),
        MatRef::from_column_major_slice(&w.w1, PIXELS, h),
        1.0,
        par,
    );
    for (unit, &bias) in a1.chunks_exact_mut(rows).zip(&w.b1) {
        for a in unit {
            *a = (*a + bias).max(0.0);
        }
    }
    let z2 = &mut z2[..rows * CLASSES];
    matmul(
        MatMut::from_row_major_slice_mut(z2, rows, CLASSES),
        Accum::Replace,
        MatRef::from_column_major_slice(a1, rows, h),
        MatRef::from_column_major_slice(&w.w2, h, CLASSES),
        1.0,
        Par::Seq,
    );
    for row in z2.chunks_exact_mut(CLASSES) {
        for (z, &bias) in row.iter_mut().zip(&w.b2) {
            *z += bias;
        }
    }
}

/// `log(sum(exp(z)))`, stable for large logits.
fn log_sum_exp(z: &[f32]) -> f32 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = z.iter().map(|&v| (v - max).exp()).sum();
    max + sum.ln()
}

fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

fn scale(v: &mut [f32], factor: f32) {
    if factor != 1.0 {
        v.iter_mut().for_each(|x| *x *= factor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::source::bundled_splits;

    fn params(lr: f64, hidden: usize) -> MlpParams {
        MlpParams {
            lr,
            l2: 1e-4,
            hidden,
        }
    }

    #[test]
    fn a_reasonable_config_learns_the_digits() {
        let data = bundled_splits(0).unwrap();
        let mut t = Trainer::new(params(0.1, 100), TrainSettings::default()).unwrap();
        let before = t.evaluate(&data.val);
        // Chance level: loss near ln 10, error near 90%.
        assert!((before.loss - 10f64.ln()).abs() < 0.3, "{before:?}");
        assert!(before.error_rate > 0.7, "{before:?}");
        t.train_to(&data.train, 16.0).unwrap();
        assert_eq!(t.steps(), 16 * ITERATIONS_PER_UNIT);
        let after = t.evaluate(&data.val);
        assert!(after.error_rate < 0.10, "{after:?}");
        assert!(after.loss < 0.4, "{after:?}");
        // Training further on the same run keeps improving the training fit.
        let train_fit = t.evaluate(&data.train);
        assert!(
            train_fit.loss <= after.loss + 0.05,
            "{train_fit:?} vs {after:?}"
        );
    }

    #[test]
    fn a_huge_learning_rate_ends_in_a_divergence_error_not_a_panic() {
        let data = bundled_splits(0).unwrap();
        let mut t = Trainer::new(params(1e6, 20), TrainSettings::default()).unwrap();
        let err = t.train_to_step(&data.train, 200).unwrap_err();
        match &err {
            TrainError::Diverged { step, .. } => assert!(*step < 200),
            other => panic!("expected divergence, got {other:?}"),
        }
        assert!(err.to_string().contains("diverged"), "{err}");
        // Evaluating the wrecked network reports a non-finite loss instead of crashing.
        assert!(!t.evaluate(&data.val).loss.is_finite());
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let s = TrainSettings::default();
        for p in [params(f64::NAN, 10), params(-0.1, 10), params(0.1, 0)] {
            assert!(
                matches!(Trainer::new(p, s), Err(TrainError::InvalidConfig(_))),
                "{p:?}"
            );
        }
        let no_batch = TrainSettings { batch_size: 0, ..s };
        assert!(Trainer::new(params(0.1, 10), no_batch).is_err());
    }

    #[test]
    fn training_is_a_function_of_the_seed_and_refuses_other_data() {
        let data = bundled_splits(0).unwrap();
        let train = |seed| {
            let s = TrainSettings {
                seed,
                ..TrainSettings::default()
            };
            let mut t = Trainer::new(params(0.05, 16), s).unwrap();
            t.train_to_step(&data.train, 30).unwrap();
            t
        };
        let (a, b, c) = (train(1), train(1), train(2));
        assert_eq!(a.weights, b.weights);
        assert_ne!(a.weights, c.weights);
        let mut a = a;
        assert_eq!(a.train_to_step(&data.val, 40), Err(TrainError::DataChanged));
        // Asking for a budget already reached is free and changes nothing.
        a.train_to(&data.train, a.budget_units() / 2.0).unwrap();
        assert_eq!(a.weights, b.weights);
        assert_eq!(steps_for_budget(-1.0), 0);
        assert_eq!(steps_for_budget(f64::NAN), 0);
        assert_eq!(steps_for_budget(81.0), 81 * ITERATIONS_PER_UNIT);
    }
}
