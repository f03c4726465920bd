//! What a running objective tells a stopping rule, and hears back: the program reports
//! each value of its learning curve as it goes, and is told whether to go on.

/// The answer to a reported value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    /// Stop training now: the trial will not be continued (whatever the objective returns
    /// after this is not recorded).
    Stop,
}

/// Receives a running job's intermediate values (`mode = "stop"`).
pub trait Monitor {
    /// The objective has trained to `budget` (of the job's budget), where its loss is
    /// `loss`.
    fn report(&mut self, budget: f64, loss: f64) -> Verdict;

    /// The budget at which the next decision is due (the running rung's), if any: an
    /// objective that sees its program go well past it without a value can stop it.
    fn awaiting(&self) -> Option<f64> {
        None
    }

    /// The objective has trained to at least `budget`, value or not (a program announced
    /// its epoch, or ran to its end): what a failing job is charged.
    fn reached(&mut self, _budget: f64) {}
}
