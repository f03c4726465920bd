//! Named output formats: what the common training frameworks print, so that most users
//! write `metric = { format = "keras", name = "val_loss" }` instead of a regex. Each format
//! is a value pattern for the named metric and a pattern for the lines that announce the
//! budget (an epoch or a boosting round), as the libraries print them (samples from real
//! runs are in `tests/fixtures/output/`, and each format's documentation quotes one).

/// A number as Python, C and Rust print one, with `nan` and `inf`.
const NUM: &str =
    r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|NaN|inf|Inf|infinity|Infinity))";

/// A named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Keras `fit(verbose=1 | 2)`: `Epoch 3/10` on a line of its own, then the epoch's
    /// summary `... - loss: 0.3121 - val_loss: 0.2873` (on a redrawn progress bar at
    /// verbose=1 under a terminal).
    Keras,
    /// The structure of pytorch/examples `mnist/main.py`: `Train Epoch: 3 [0/60000 (0%)]`
    /// lines while training, then `Test set: Average loss: 0.0412, Accuracy: 9871/10000
    /// (99%)`. Names: `loss` (the default) and `accuracy` (the percentage, maximized).
    PytorchExamples,
    /// PyTorch Lightning's progress bar: `Epoch 2: 100%|...| 10/10 [..., val_loss=0.412]`,
    /// epochs counted from 0 (so `Epoch 2` ends budget 3), metrics logged with
    /// `self.log(name, value, prog_bar=True)`.
    Lightning,
    /// The Hugging Face `Trainer`'s log lines: `{'eval_loss': 0.41, ..., 'epoch': 2.0}`.
    HfTrainer,
    /// XGBoost's evaluation log: `[12]\tvalidation_0-logloss:0.31`, rounds counted from 0
    /// (so `[12]` ends budget 13, thirteen trees).
    Xgboost,
    /// LightGBM's `log_evaluation`: `[12]\tvalid_0's l2: 0.31`, rounds counted from 1.
    Lightgbm,
    /// One JSON object a line: `{"epoch": 3, "val_loss": 0.41}`.
    JsonLines,
    /// `name=value` pairs anywhere on a line: `epoch=3 val_loss=0.41` (tqdm's postfix too).
    KeyValue,
}

/// What a format means for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatRules {
    /// The value's pattern, one capture group.
    pub value: String,
    /// The pattern of a line announcing the budget, one capture group.
    pub budget: String,
    /// Added to the captured budget (frameworks that count from 0).
    pub offset: f64,
    /// The budget and value share a line that is redrawn while the epoch runs, showing
    /// the last epoch's value until the next validation: the last value shown before the
    /// budget changes is the epoch's, not the first.
    pub redrawn: bool,
}

impl Format {
    /// Every format by its study-file name.
    pub const ALL: &'static [(&'static str, Format)] = &[
        ("keras", Format::Keras),
        ("pytorch-examples", Format::PytorchExamples),
        ("lightning", Format::Lightning),
        ("hf-trainer", Format::HfTrainer),
        ("xgboost", Format::Xgboost),
        ("lightgbm", Format::Lightgbm),
        ("json-lines", Format::JsonLines),
        ("key=value", Format::KeyValue),
    ];

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == text)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown format `{text}`; expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// The metric read when the study file names none; `None` where there is no usual one.
    pub fn default_name(self) -> Option<&'static str> {
        match self {
            Format::Keras | Format::Lightning => Some("val_loss"),
            Format::PytorchExamples => Some("loss"),
            Format::HfTrainer => Some("eval_loss"),
            Format::Xgboost | Format::Lightgbm | Format::JsonLines | Format::KeyValue => None,
        }
    }

    /// Whether `budget_key` (the key that carries the epoch) means anything here.
    pub fn takes_budget_key(self) -> bool {
        matches!(
            self,
            Format::HfTrainer | Format::JsonLines | Format::KeyValue
        )
    }

    /// The patterns for metric `name`; `budget_key` names the epoch's key where the format
    /// has keys (`epoch` unless given).
    pub fn rules(self, name: &str, budget_key: Option<&str>) -> Result<FormatRules, String> {
        if name.trim().is_empty() {
            return Err("the metric name is empty".to_string());
        }
        let n = regex::escape(name);
        let key = regex::escape(budget_key.unwrap_or("epoch"));
        let (value, budget, offset) = match self {
            Format::Keras => (
                format!(r"(?:^|\s){n}: {NUM}"),
                r"^\s*Epoch (\d+)/\d+".to_string(),
                0.0,
            ),
            Format::PytorchExamples => {
                let value = match name {
                    "loss" => format!(r"Test set: Average loss: {NUM}"),
                    "accuracy" => r"Test set: .*Accuracy: \d+/\d+ \(([0-9.]+)%\)".to_string(),
                    _ => {
                        return Err(format!(
                            "the pytorch-examples format prints `loss` and `accuracy`, not `{name}`"
                        ))
                    }
                };
                (value, r"Train Epoch: (\d+)".to_string(), 0.0)
            }
            // tqdm's bar (`val_loss=0.412`) and Rich's (`Epoch 3/3 ... val_loss: 0.203`).
            Format::Lightning => (
                format!(r"(?:^|[\s,]){n}(?:=|: +){NUM}"),
                r"\bEpoch (\d+)(?::|/\d+)".to_string(),
                1.0,
            ),
            Format::HfTrainer => (
                format!(r"'{n}': '?{NUM}'?"),
                format!(r"'{key}': '?{NUM}'?"),
                0.0,
            ),
            Format::Xgboost => (format!(r"\t{n}:{NUM}"), r"^\[(\d+)\]".to_string(), 1.0),
            Format::Lightgbm => (format!(r"\t{n}: {NUM}"), r"^\[(\d+)\]".to_string(), 0.0),
            Format::JsonLines => (
                format!(r#""{n}"\s*:\s*{NUM}"#),
                format!(r#""{key}"\s*:\s*{NUM}"#),
                0.0,
            ),
            Format::KeyValue => (
                format!(r"(?:^|[^\w.-]){n}\s*=\s*{NUM}"),
                format!(r"(?:^|[^\w.-]){key}\s*=\s*{NUM}"),
                0.0,
            ),
        };
        Ok(FormatRules {
            value,
            budget,
            offset,
            redrawn: self == Format::Lightning,
        })
    }
}

/// Whether a metric called `name` is one to maximize (an accuracy, an AUC, an F1 score...),
/// so that `format = "keras", name = "val_accuracy"` needs no `maximize = true`. Decided on
/// the name's words (`val_acc`, `validation_0-auc`, `eval_f1`), never on substrings: `mape`
/// is an error.
pub fn maximized_by_name(name: &str) -> bool {
    const HIGHER_IS_BETTER: &[&str] = &[
        "auc",
        "aucpr",
        "f1",
        "r2",
        "map",
        "ndcg",
        "iou",
        "miou",
        "dice",
        "bleu",
        "rouge",
        "precision",
        "recall",
        "top1",
        "top5",
    ];
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w.starts_with("acc") || HIGHER_IS_BETTER.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_which_way_is_better() {
        for name in [
            "val_accuracy",
            "val_acc",
            "accuracy",
            "validation_0-auc",
            "eval_f1",
            "valid_0's auc",
            "map@5",
            "test_top5",
        ] {
            assert!(maximized_by_name(name), "{name}");
        }
        for name in [
            "val_loss",
            "eval_loss",
            "mape",
            "validation_0-logloss",
            "l2",
            "rmse",
        ] {
            assert!(!maximized_by_name(name), "{name}");
        }
    }

    #[test]
    fn every_format_parses_by_its_name_and_unknown_ones_list_them() {
        for (name, format) in Format::ALL {
            assert_eq!(Format::parse(name), Ok(*format));
        }
        let err = Format::parse("keras2").unwrap_err();
        assert!(err.contains("keras, pytorch-examples, lightning"), "{err}");
    }

    #[test]
    fn names_are_literal_text_not_patterns() {
        let r = Format::Lightgbm.rules("valid_0's l2", None).unwrap();
        let value = regex::Regex::new(&r.value).unwrap();
        assert!(value.is_match("[3]\tvalid_0's l2: 0.5"));
        let r = Format::KeyValue.rules("a.b", None).unwrap();
        let value = regex::Regex::new(&r.value).unwrap();
        assert!(!value.is_match("aXb=1"));
        assert!(Format::PytorchExamples.rules("val_loss", None).is_err());
    }
}
