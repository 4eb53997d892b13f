//! Repeat specs as people write them, turned into the core's [`Frequency`]:
//!
//! | spec | meaning |
//! | --- | --- |
//! | `day`, `daily`, `2 days` | every day, every other day |
//! | `friday`, `monday,thursday`, `weekdays`, `weekend` | every week on those days |
//! | `week on friday`, `2 weeks on sunday`, `weekly on mon, thu` | every n weeks on those days |
//! | `month on day 15`, `month on the 15th` | every month on a day (29-31 fall on the last day of shorter months) |
//! | `month on first saturday`, `3 months on last friday` | every n months on the n-th weekday |
//!
//! A leading `every` is allowed (`every 2 weeks on sunday`). Case and extra spaces do not
//! matter; weekdays may be abbreviated (`mon`, `tue`, ...) or plural (`fridays`).

use crate::error::{CliError, CliResult};
use accord_core::reminders::recurrence::{Frequency, WeekOfMonth, Weekday, MAX_INTERVAL};

const EXAMPLES: &str =
    "write e.g. 'day', '2 days', 'friday', 'monday,thursday', '2 weeks on sunday', 'month on day 15' or 'month on first saturday'";

/// Parses a repeat spec; `what` names the option in errors (e.g. `--every`).
pub fn parse(what: &str, text: &str) -> CliResult<Frequency> {
    let err = |message: String| CliError::input(what, message);
    let lower = text.trim().to_lowercase();
    let spaced = lower.replace(',', " , ");
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    if words.first() == Some(&"every") {
        words.remove(0);
    }
    if words.is_empty() {
        return Err(err(format!("the repeat spec is empty: {EXAMPLES}")));
    }

    // An optional interval.
    let (interval, rest) = match words[0].parse::<u64>() {
        Ok(n) => (Some(n), &words[1..]),
        Err(_)
            if words[0]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '.') =>
        {
            return Err(err(format!(
                "'{}' is not a whole number of repeats: {EXAMPLES}",
                words[0]
            )))
        }
        Err(_) => (None, &words[..]),
    };
    let interval = match interval {
        None => 1,
        Some(0) => return Err(err("the interval is 0: repeat at least every 1".into())),
        Some(n) if n > u64::from(MAX_INTERVAL) => {
            return Err(err(format!(
                "the interval {n} is too large: use at most {MAX_INTERVAL}"
            )))
        }
        Some(n) => n as u32,
    };
    let Some((&unit, tail)) = rest.split_first() else {
        return Err(err(format!(
            "'{}' says how often but not what: add a unit, e.g. '{} days' or '{} weeks on friday'",
            text.trim(),
            interval,
            interval
        )));
    };
    let on = |tail: &[&str]| -> CliResult<Vec<String>> {
        match tail.split_first() {
            Some((&"on", rest)) if !rest.is_empty() => {
                Ok(rest.iter().map(|w| (*w).to_owned()).collect())
            }
            Some((&"on", _)) => Err(err(format!(
                "'{}' ends after 'on': {EXAMPLES}",
                text.trim()
            ))),
            Some((w, _)) => Err(err(format!(
                "expected 'on' after '{unit}', found '{w}': {EXAMPLES}"
            ))),
            None => Ok(Vec::new()),
        }
    };

    match unit {
        "day" | "days" | "daily" => {
            if let Some(extra) = tail.first() {
                return Err(err(format!(
                    "'{extra}' after '{unit}' is not understood: a daily spec is just 'day' or '{interval} days'"
                )));
            }
            Ok(Frequency::Daily { interval })
        }
        "week" | "weeks" | "weekly" => {
            let days = on(tail)?;
            if days.is_empty() {
                return Err(err(format!(
                    "say on which days, e.g. '{}on friday' or '{}on monday,thursday'",
                    prefix(interval, "week"),
                    prefix(interval, "week")
                )));
            }
            Ok(Frequency::Weekly {
                interval,
                weekdays: weekday_list(what, &days)?,
            })
        }
        "month" | "months" | "monthly" => {
            let day = on(tail)?;
            if day.is_empty() {
                return Err(err(format!(
                    "say on which day, e.g. '{}on day 15' or '{}on first saturday'",
                    prefix(interval, "month"),
                    prefix(interval, "month")
                )));
            }
            monthly(what, interval, &day)
        }
        "year" | "years" | "yearly" => Err(err(
            "yearly repeats are not supported: use '12 months on day N' or '12 months on first saturday'".into(),
        )),
        "hour" | "hours" | "minute" | "minutes" => Err(err(
            "reminders repeat at most daily: use 'day' and the time with --at".into(),
        )),
        _ => {
            // A bare list of weekdays: every week on those days.
            if interval != 1 {
                return Err(err(format!(
                    "'{unit}' is not a unit: write e.g. '{interval} days' or '{interval} weeks on {unit}'"
                )));
            }
            let days: Vec<String> = rest.iter().map(|w| (*w).to_owned()).collect();
            Ok(Frequency::Weekly {
                interval: 1,
                weekdays: weekday_list(what, &days)?,
            })
        }
    }
}

fn prefix(interval: u32, unit: &str) -> String {
    if interval == 1 {
        format!("{unit} ")
    } else {
        format!("{interval} {unit}s ")
    }
}

fn weekday(word: &str) -> Option<Vec<Weekday>> {
    let w = word
        .strip_suffix('s')
        .filter(|w| w.len() > 2)
        .unwrap_or(word);
    let day = match w {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        "weekday" => {
            return Some(vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ])
        }
        "weekend" => return Some(vec![Weekday::Saturday, Weekday::Sunday]),
        _ => return None,
    };
    Some(vec![day])
}

fn weekday_list(what: &str, words: &[String]) -> CliResult<Vec<Weekday>> {
    let mut out: Vec<Weekday> = Vec::new();
    for word in words {
        if word == "," || word == "and" {
            continue;
        }
        let days = weekday(word).ok_or_else(|| {
            CliError::input(
                what,
                format!(
                    "'{word}' is not a weekday: use monday ... sunday (or mon ... sun), weekdays or weekend"
                ),
            )
        })?;
        for d in days {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    if out.is_empty() {
        return Err(CliError::input(
            what,
            format!("no weekday given: {EXAMPLES}"),
        ));
    }
    out.sort();
    Ok(out)
}

fn ordinal(word: &str) -> Option<WeekOfMonth> {
    Some(match word {
        "first" | "1st" => WeekOfMonth::First,
        "second" | "2nd" => WeekOfMonth::Second,
        "third" | "3rd" => WeekOfMonth::Third,
        "fourth" | "4th" => WeekOfMonth::Fourth,
        "last" => WeekOfMonth::Last,
        _ => return None,
    })
}

/// `15`, `15th`, `1st`, `22nd`, `3rd` as a day of the month.
fn day_number(word: &str) -> Option<u64> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn monthly(what: &str, interval: u32, words: &[String]) -> CliResult<Frequency> {
    let err = |message: String| CliError::input(what, message);
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "the")
        .collect();
    let check_day = |n: u64| -> CliResult<u32> {
        if (1..=31).contains(&n) {
            Ok(n as u32)
        } else {
            Err(err(format!(
                "day {n} is out of range: use a day from 1 to 31"
            )))
        }
    };
    match words.as_slice() {
        ["day", n] => {
            let n = day_number(n).ok_or_else(|| {
                err(format!("'{n}' is not a day of the month: use a number from 1 to 31"))
            })?;
            Ok(Frequency::MonthlyOnDay {
                interval,
                day: check_day(n)?,
            })
        }
        [n] if day_number(n).is_some() => Ok(Frequency::MonthlyOnDay {
            interval,
            day: check_day(day_number(n).unwrap_or_default())?,
        }),
        [ord, day] if ordinal(ord).is_some() => {
            let week = ordinal(ord).unwrap_or(WeekOfMonth::First);
            let days = weekday(day).filter(|d| d.len() == 1).ok_or_else(|| {
                err(format!(
                    "'{day}' is not a weekday: write e.g. 'month on {ord} saturday'"
                ))
            })?;
            Ok(Frequency::MonthlyOnWeekday {
                interval,
                week,
                weekday: days[0],
            })
        }
        [ord, ..] if ordinal(ord).is_none() && weekday(ord).is_some() => Err(err(format!(
            "say which {ord} of the month: first, second, third, fourth or last (e.g. 'month on first {ord}')"
        ))),
        _ => Err(err(format!(
            "'on {}' is not understood for a monthly repeat: write 'day 15' or e.g. 'first saturday' or 'last friday'",
            words.join(" ")
        ))),
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

fn ordinal_name(w: WeekOfMonth) -> &'static str {
    match w {
        WeekOfMonth::First => "first",
        WeekOfMonth::Second => "second",
        WeekOfMonth::Third => "third",
        WeekOfMonth::Fourth => "fourth",
        WeekOfMonth::Last => "last",
    }
}

/// A frequency as a spec that [`parse`] reads back, e.g. `2 weeks on monday,thursday`.
pub fn describe(f: &Frequency) -> String {
    let every = |n: u32, unit: &str| {
        if n == 1 {
            unit.to_owned()
        } else {
            format!("{n} {unit}s")
        }
    };
    match f {
        Frequency::Daily { interval } => every(*interval, "day"),
        Frequency::Weekly { interval, weekdays } => {
            let days: Vec<&str> = weekdays.iter().map(|d| weekday_name(*d)).collect();
            format!("{} on {}", every(*interval, "week"), days.join(","))
        }
        Frequency::MonthlyOnDay { interval, day } => {
            format!("{} on day {day}", every(*interval, "month"))
        }
        Frequency::MonthlyOnWeekday {
            interval,
            week,
            weekday,
        } => format!(
            "{} on {} {}",
            every(*interval, "month"),
            ordinal_name(*week),
            weekday_name(*weekday)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    fn ok(text: &str) -> Frequency {
        parse("--every", text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn bad(text: &str) -> String {
        match parse("--every", text) {
            Ok(f) => panic!("{text} parsed as {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn daily() {
        assert_eq!(ok("day"), Frequency::Daily { interval: 1 });
        assert_eq!(ok("daily"), Frequency::Daily { interval: 1 });
        assert_eq!(ok("2 days"), Frequency::Daily { interval: 2 });
        assert_eq!(ok("every 3 days"), Frequency::Daily { interval: 3 });
        assert_eq!(ok("  Every   DAY "), Frequency::Daily { interval: 1 });
        assert_eq!(ok("1 day"), Frequency::Daily { interval: 1 });
    }

    #[test]
    fn bare_weekdays() {
        let weekly = |weekdays: Vec<Weekday>| Frequency::Weekly {
            interval: 1,
            weekdays,
        };
        assert_eq!(ok("friday"), weekly(vec![Friday]));
        assert_eq!(ok("Fridays"), weekly(vec![Friday]));
        assert_eq!(ok("monday,thursday"), weekly(vec![Monday, Thursday]));
        assert_eq!(ok("thursday, monday"), weekly(vec![Monday, Thursday]));
        assert_eq!(ok("mon and thu"), weekly(vec![Monday, Thursday]));
        assert_eq!(ok("tue wed"), weekly(vec![Tuesday, Wednesday]));
        assert_eq!(ok("sun,sun"), weekly(vec![Sunday]));
        assert_eq!(
            ok("weekdays"),
            weekly(vec![Monday, Tuesday, Wednesday, Thursday, Friday])
        );
        assert_eq!(ok("weekend"), weekly(vec![Saturday, Sunday]));
        assert_eq!(ok("every saturday"), weekly(vec![Saturday]));
    }

    #[test]
    fn weekly() {
        assert_eq!(
            ok("week on friday"),
            Frequency::Weekly {
                interval: 1,
                weekdays: vec![Friday]
            }
        );
        assert_eq!(
            ok("2 weeks on sunday"),
            Frequency::Weekly {
                interval: 2,
                weekdays: vec![Sunday]
            }
        );
        assert_eq!(
            ok("weekly on mon, thu"),
            Frequency::Weekly {
                interval: 1,
                weekdays: vec![Monday, Thursday]
            }
        );
        assert_eq!(
            ok("every 3 weeks on tuesday,friday"),
            Frequency::Weekly {
                interval: 3,
                weekdays: vec![Tuesday, Friday]
            }
        );
    }

    #[test]
    fn monthly() {
        assert_eq!(
            ok("month on day 15"),
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 15
            }
        );
        assert_eq!(
            ok("month on the 31st"),
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 31
            }
        );
        assert_eq!(
            ok("2 months on day 1"),
            Frequency::MonthlyOnDay {
                interval: 2,
                day: 1
            }
        );
        assert_eq!(
            ok("month on first saturday"),
            Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::First,
                weekday: Saturday
            }
        );
        assert_eq!(
            ok("monthly on the last friday"),
            Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::Last,
                weekday: Friday
            }
        );
        assert_eq!(
            ok("3 months on last friday"),
            Frequency::MonthlyOnWeekday {
                interval: 3,
                week: WeekOfMonth::Last,
                weekday: Friday
            }
        );
        assert_eq!(
            ok("month on 2nd tue"),
            Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::Second,
                weekday: Tuesday
            }
        );
    }

    #[test]
    fn errors_say_what_to_write() {
        assert!(bad("").contains("empty"));
        assert!(bad("every").contains("empty"));
        assert!(bad("fridya").contains("'fridya' is not a weekday"));
        assert!(bad("monday,fridya").contains("'fridya' is not a weekday"));
        assert!(bad("2 weeks").contains("say on which days"));
        assert!(bad("2 weeks").contains("'2 weeks on friday'"));
        assert!(bad("week friday").contains("expected 'on'"));
        assert!(bad("week on").contains("ends after 'on'"));
        assert!(bad("month").contains("say on which day"));
        assert!(bad("month on day 32").contains("day 32 is out of range"));
        assert!(bad("month on day 0").contains("out of range"));
        assert!(bad("month on day x").contains("not a day of the month"));
        assert!(bad("month on saturday").contains("first, second, third, fourth or last"));
        assert!(bad("month on first funday").contains("'funday' is not a weekday"));
        assert!(bad("month on first weekend").contains("is not a weekday"));
        assert!(bad("month on sometime").contains("not understood"));
        assert!(bad("0 days").contains("interval is 0"));
        assert!(bad("1001 days").contains("at most 1000"));
        assert!(bad("2.5 days").contains("whole number"));
        assert!(bad("-1 days").contains("whole number"));
        assert!(bad("3").contains("add a unit"));
        assert!(bad("2 fridays").contains("is not a unit"));
        assert!(bad("year").contains("12 months"));
        assert!(bad("hour").contains("at most daily"));
        assert!(bad("day on monday").contains("is not understood"));
        for text in ["", "fridya", "2 weeks", "month on day 32"] {
            assert!(bad(text).starts_with("invalid --every: "));
        }
    }

    #[test]
    fn describe_reads_back() {
        for text in [
            "day",
            "5 days",
            "friday",
            "monday,thursday",
            "2 weeks on sunday",
            "weekdays",
            "month on day 15",
            "6 months on day 31",
            "month on first saturday",
            "3 months on last friday",
            "month on fourth wednesday",
        ] {
            let f = ok(text);
            assert_eq!(ok(&describe(&f)), f, "{text} -> {}", describe(&f));
        }
        assert_eq!(describe(&ok("2 weeks on sun")), "2 weeks on sunday");
        assert_eq!(
            describe(&ok("month on first sat")),
            "month on first saturday"
        );
    }
}
