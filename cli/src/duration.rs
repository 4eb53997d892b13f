//! Durations as people write them: `10m`, `2h`, `3 days`, `2 weeks`, `3 months`.
//!
//! Months are calendar months (added to a date, clamped to the month's last day), so a
//! duration is kept as an amount and a unit rather than a fixed number of seconds.

use crate::error::{CliError, CliResult};
use accord_core::{CadenceUnit, ReviewCadence};
use chrono::{DateTime, Duration, Months, Utc};

/// The unit of a [`Span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Minutes (`m`, `min`, `minutes`).
    Minutes,
    /// Hours (`h`, `hr`, `hours`).
    Hours,
    /// Days (`d`, `days`).
    Days,
    /// Weeks (`w`, `wk`, `weeks`).
    Weeks,
    /// Calendar months (`mo`, `months`).
    Months,
}

/// A parsed duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// How many units (at least 1).
    pub amount: u32,
    /// The unit.
    pub unit: Unit,
}

const EXAMPLES: &str = "write a number and a unit, e.g. 10m, 2h, 3 days, 2 weeks or 3 months";

fn unit_of(word: &str) -> Option<Unit> {
    Some(match word {
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minutes,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hours,
        "d" | "day" | "days" => Unit::Days,
        "w" | "wk" | "wks" | "week" | "weeks" => Unit::Weeks,
        "mo" | "mos" | "month" | "months" => Unit::Months,
        _ => return None,
    })
}

/// Parses a duration; `what` names the option in errors (e.g. `--for`).
pub fn parse(what: &str, text: &str) -> CliResult<Span> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return Err(CliError::input(
            what,
            format!("the duration is empty: {EXAMPLES}"),
        ));
    }
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = t[digits.len()..].trim();
    let amount: u32 = if digits.is_empty() {
        // "day", "a week", "an hour" mean one.
        1
    } else {
        digits.parse().map_err(|_| {
            CliError::input(what, format!("'{text}' has a number that is too large"))
        })?
    };
    let rest = if digits.is_empty() {
        rest.strip_prefix("an ")
            .or_else(|| rest.strip_prefix("a "))
            .unwrap_or(rest)
            .trim()
    } else {
        rest
    };
    let unit = unit_of(rest).ok_or_else(|| {
        if rest.is_empty() {
            CliError::input(what, format!("'{text}' has no unit: {EXAMPLES}"))
        } else {
            CliError::input(what, format!("'{text}' is not a duration: {EXAMPLES}"))
        }
    })?;
    if amount == 0 {
        return Err(CliError::input(
            what,
            format!(
                "'{text}' is zero: a duration must be at least 1 {}",
                unit_name(unit)
            ),
        ));
    }
    Ok(Span { amount, unit })
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Minutes => "minute",
        Unit::Hours => "hour",
        Unit::Days => "day",
        Unit::Weeks => "week",
        Unit::Months => "month",
    }
}

impl Span {
    /// `start` plus this duration (months on the calendar), or an error if that is out of
    /// range.
    pub fn after(&self, what: &str, start: DateTime<Utc>) -> CliResult<DateTime<Utc>> {
        let n = i64::from(self.amount);
        let end = match self.unit {
            Unit::Minutes => Duration::try_minutes(n).and_then(|d| start.checked_add_signed(d)),
            Unit::Hours => Duration::try_hours(n).and_then(|d| start.checked_add_signed(d)),
            Unit::Days => Duration::try_days(n).and_then(|d| start.checked_add_signed(d)),
            Unit::Weeks => Duration::try_weeks(n).and_then(|d| start.checked_add_signed(d)),
            Unit::Months => start.checked_add_months(Months::new(self.amount)),
        };
        end.ok_or_else(|| CliError::input(what, "is too far in the future; use a shorter one"))
    }

    /// As a review cadence (days, weeks or months only).
    pub fn to_cadence(self, what: &str) -> CliResult<ReviewCadence> {
        let unit = match self.unit {
            Unit::Days => CadenceUnit::Days,
            Unit::Weeks => CadenceUnit::Weeks,
            Unit::Months => CadenceUnit::Months,
            Unit::Minutes | Unit::Hours => {
                return Err(CliError::input(
                    what,
                    "a review cadence is counted in days, weeks or months; write e.g. '2 weeks' or '3 months'",
                ))
            }
        };
        Ok(ReviewCadence::new(self.amount, unit)?)
    }
}

/// Parses a review cadence: a duration in days, weeks or months, or a word the core knows
/// (`weekly`, `monthly`, `quarterly`, `yearly`).
pub fn parse_cadence(what: &str, text: &str) -> CliResult<ReviewCadence> {
    let word = text.trim().to_lowercase();
    if matches!(
        word.as_str(),
        "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually"
    ) {
        return Ok(ReviewCadence::parse(&word)?);
    }
    if let Some(years) = word
        .strip_suffix("years")
        .or_else(|| word.strip_suffix("year"))
        .or_else(|| word.strip_suffix('y'))
    {
        let years = years.trim();
        if years.is_empty() || years.chars().all(|c| c.is_ascii_digit()) {
            return Ok(ReviewCadence::parse(&word)?);
        }
    }
    parse(what, text)?.to_cadence(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn span(text: &str) -> Span {
        parse("--for", text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_the_usual_forms() {
        assert_eq!(
            span("10m"),
            Span {
                amount: 10,
                unit: Unit::Minutes
            }
        );
        assert_eq!(
            span("2h"),
            Span {
                amount: 2,
                unit: Unit::Hours
            }
        );
        assert_eq!(
            span("3 days"),
            Span {
                amount: 3,
                unit: Unit::Days
            }
        );
        assert_eq!(
            span("2 weeks"),
            Span {
                amount: 2,
                unit: Unit::Weeks
            }
        );
        assert_eq!(
            span("3 months"),
            Span {
                amount: 3,
                unit: Unit::Months
            }
        );
        assert_eq!(
            span(" 1 Day "),
            Span {
                amount: 1,
                unit: Unit::Days
            }
        );
        assert_eq!(
            span("45 min"),
            Span {
                amount: 45,
                unit: Unit::Minutes
            }
        );
        assert_eq!(
            span("1w"),
            Span {
                amount: 1,
                unit: Unit::Weeks
            }
        );
        assert_eq!(
            span("6mo"),
            Span {
                amount: 6,
                unit: Unit::Months
            }
        );
        assert_eq!(
            span("an hour"),
            Span {
                amount: 1,
                unit: Unit::Hours
            }
        );
        assert_eq!(
            span("week"),
            Span {
                amount: 1,
                unit: Unit::Weeks
            }
        );
    }

    #[test]
    fn rejects_with_a_hint() {
        for bad in [
            "",
            "3",
            "soon",
            "3 fortnights",
            "-2h",
            "2.5h",
            "99999999999 days",
        ] {
            let err = parse("--for", bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid --for: "), "{bad}: {err}");
        }
        assert!(parse("--for", "soon")
            .unwrap_err()
            .to_string()
            .contains("e.g. 10m"));
        assert!(parse("--for", "0h")
            .unwrap_err()
            .to_string()
            .contains("at least 1 hour"));
    }

    #[test]
    fn adds_calendar_months_and_fixed_units() {
        let t = Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0).unwrap();
        assert_eq!(
            span("1 month").after("x", t).unwrap(),
            Utc.with_ymd_and_hms(2027, 2, 28, 12, 0, 0).unwrap()
        );
        assert_eq!(
            span("90m").after("x", t).unwrap(),
            Utc.with_ymd_and_hms(2027, 1, 31, 13, 30, 0).unwrap()
        );
        assert_eq!(
            span("2 weeks").after("x", t).unwrap(),
            Utc.with_ymd_and_hms(2027, 2, 14, 12, 0, 0).unwrap()
        );
        assert!(span("4000000000 minutes").after("x", t).is_ok());
        assert!(span("4000000000 weeks").after("x", t).is_err());
    }

    #[test]
    fn cadences() {
        let c = parse_cadence("--review-every", "3 months").unwrap();
        assert_eq!((c.every, c.unit), (3, CadenceUnit::Months));
        let c = parse_cadence("--review-every", "2w").unwrap();
        assert_eq!((c.every, c.unit), (2, CadenceUnit::Weeks));
        let c = parse_cadence("--review-every", "quarterly").unwrap();
        assert_eq!((c.every, c.unit), (3, CadenceUnit::Months));
        let c = parse_cadence("--review-every", "1 year").unwrap();
        assert_eq!((c.every, c.unit), (12, CadenceUnit::Months));
        // "10m" is ten minutes, never ten months.
        let err = parse_cadence("--review-every", "10m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("days, weeks or months"), "{err}");
        assert!(parse_cadence("--review-every", "500 days").is_err());
        assert_eq!(
            ReviewCadence::new(1, CadenceUnit::Months)
                .unwrap()
                .describe(),
            "1 month"
        );
        assert_eq!(
            ReviewCadence::new(2, CadenceUnit::Weeks)
                .unwrap()
                .describe(),
            "2 weeks"
        );
    }
}
