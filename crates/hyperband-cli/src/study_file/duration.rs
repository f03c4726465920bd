//! Durations as people write them in a study file or on the command line.

use std::time::Duration;

/// `90s`, `10m`, `2h`, `1h30m`, `500ms`, `1.5d`: how people write durations.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad =
        || format!("expected a duration like \"90s\", \"10m\", \"2h\" or \"1h30m\", got {text:?}");
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s.as_str();
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!("a duration must be positive, got {text:?}"));
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let d = |s| parse_duration(s).unwrap();
        assert_eq!(d("90s"), Duration::from_secs(90));
        assert_eq!(d("10m"), Duration::from_secs(600));
        assert_eq!(d("2h"), Duration::from_secs(7200));
        assert_eq!(d("1h30m"), Duration::from_secs(5400));
        assert_eq!(d("1h 30m 15s"), Duration::from_secs(5415));
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("1.5d"), Duration::from_secs(129600));
        for bad in ["", "10", "m", "10x", "1.2.3s", "-5s", "s10"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
