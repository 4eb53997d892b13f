//! Recurrence rules for reminders of commitments.
//!
//! A [`RecurrenceRule`] describes when a reminder repeats, e.g. "date night every
//! Friday 19:00", "money talk on the first Saturday of each month" or "every
//! 2 weeks on Sunday". [`RecurrenceRule::occurrences_from`] turns a rule into a
//! lazy, ordered stream of concrete [`Occurrence`]s.
//!
//! # Time rules
//!
//! * Occurrences are computed on the calendar of the rule's IANA time zone, at the
//!   rule's nominal local wall-clock time (minute precision; seconds are ignored).
//! * DST gap (the local time does not exist, clocks jump forward): the occurrence
//!   fires at the first valid local minute after the gap, e.g. Europe/Berlin
//!   2027-03-28 02:30 fires at 03:00 CEST (01:00 UTC).
//! * DST overlap (the local time exists twice, clocks fall back): the occurrence
//!   fires once, at the first (earlier) instant.
//! * Monthly on day 29–31 falls on the last day of shorter months
//!   (Feb 28/29, Apr 30, ...).
//! * `start` and `until` are inclusive local dates. Weekly intervals count weeks
//!   from the Monday of the week containing `start`; monthly intervals count
//!   months from the month containing `start`.
//! * An occurrence is identified by its local date and nominal local time, even
//!   when a DST gap moves the actual firing instant.

use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The largest allowed `interval` of a [`Frequency`].
pub const MAX_INTERVAL: u32 = 1000;

/// How far (in minutes) a time inside a DST gap is moved forward at most.
const MAX_GAP_SEARCH_MINUTES: u32 = 24 * 60;

/// Days before the local date of `from` at which the occurrence search starts;
/// covers occurrences that DST handling moved into a later local day.
const SEARCH_MARGIN_DAYS: i64 = 2;

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Days since Monday (Monday = 0, ..., Sunday = 6).
    pub fn days_from_monday(self) -> u32 {
        match self {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        }
    }
}

impl From<Weekday> for chrono::Weekday {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Monday => chrono::Weekday::Mon,
            Weekday::Tuesday => chrono::Weekday::Tue,
            Weekday::Wednesday => chrono::Weekday::Wed,
            Weekday::Thursday => chrono::Weekday::Thu,
            Weekday::Friday => chrono::Weekday::Fri,
            Weekday::Saturday => chrono::Weekday::Sat,
            Weekday::Sunday => chrono::Weekday::Sun,
        }
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Weekday::Monday,
            chrono::Weekday::Tue => Weekday::Tuesday,
            chrono::Weekday::Wed => Weekday::Wednesday,
            chrono::Weekday::Thu => Weekday::Thursday,
            chrono::Weekday::Fri => Weekday::Friday,
            chrono::Weekday::Sat => Weekday::Saturday,
            chrono::Weekday::Sun => Weekday::Sunday,
        }
    }
}

/// Which occurrence of a weekday within a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum WeekOfMonth {
    /// The first such weekday of the month (day 1–7).
    First,
    /// The second such weekday of the month (day 8–14).
    Second,
    /// The third such weekday of the month (day 15–21).
    Third,
    /// The fourth such weekday of the month (day 22–28).
    Fourth,
    /// The last such weekday of the month.
    Last,
}

/// How often a rule repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Frequency {
    /// Every `interval` days, counted from the start date.
    Daily {
        /// Number of days between occurrences (1..=1000).
        interval: u32,
    },
    /// Every `interval` weeks on each of `weekdays` (weeks counted from the week
    /// (Monday-based) containing the start date).
    Weekly {
        /// Number of weeks between active weeks (1..=1000).
        interval: u32,
        /// Days of an active week on which the rule fires (at least one; duplicates are ignored).
        weekdays: Vec<Weekday>,
    },
    /// Every `interval` months on a day of the month (1..=31); on shorter months it
    /// falls on the month's last day. Months are counted from the start date's month.
    MonthlyOnDay {
        /// Number of months between occurrences (1..=1000).
        interval: u32,
        /// Day of the month (1..=31).
        day: u32,
    },
    /// Every `interval` months on the n-th weekday of the month, e.g. the first
    /// Saturday or the last Friday. Months are counted from the start date's month.
    MonthlyOnWeekday {
        /// Number of months between occurrences (1..=1000).
        interval: u32,
        /// Which occurrence of the weekday in the month.
        week: WeekOfMonth,
        /// The weekday.
        weekday: Weekday,
    },
}

impl Frequency {
    /// The repeat interval of this frequency.
    pub fn interval(&self) -> u32 {
        match self {
            Frequency::Daily { interval }
            | Frequency::Weekly { interval, .. }
            | Frequency::MonthlyOnDay { interval, .. }
            | Frequency::MonthlyOnWeekday { interval, .. } => *interval,
        }
    }
}

/// A rule describing when a reminder repeats, evaluated in an IANA time zone.
///
/// See the module documentation for the time rules (DST gaps and overlaps,
/// short months, inclusive `start`/`until`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RecurrenceRule {
    /// How often the rule repeats.
    pub frequency: Frequency,
    /// Local wall-clock time of each occurrence (minute precision; seconds are ignored).
    pub time: NaiveTime,
    /// IANA time zone name, e.g. "Europe/Berlin".
    pub time_zone: String,
    /// First possible local date (inclusive).
    pub start: NaiveDate,
    /// Last possible local date (inclusive); `None` repeats forever.
    pub until: Option<NaiveDate>,
}

/// Why a [`RecurrenceRule`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum RuleError {
    /// The interval is 0.
    #[error("the repeat interval is 0; use an interval of at least 1")]
    ZeroInterval,
    /// The interval is larger than [`MAX_INTERVAL`].
    #[error("the repeat interval {0} is too large; use an interval of at most {MAX_INTERVAL}")]
    IntervalTooLarge(u32),
    /// The time zone name is not a known IANA time zone.
    #[error("unknown time zone \"{0}\"; use an IANA time zone name such as \"Europe/Berlin\"")]
    UnknownTimeZone(String),
    /// `until` lies before `start`.
    #[error(
        "the end date {until} is before the start date {start}; choose an end date on or after the start date"
    )]
    EndBeforeStart {
        /// The rule's start date.
        start: NaiveDate,
        /// The rule's end date.
        until: NaiveDate,
    },
    /// A weekly rule has no weekdays.
    #[error("a weekly rule has no weekdays; select at least one weekday")]
    NoWeekdays,
    /// The day of the month is not in 1..=31.
    #[error("day of month {0} is out of range; use a day from 1 to 31")]
    DayOfMonthOutOfRange(u32),
}

/// One concrete occurrence of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Local date of the occurrence in the rule's time zone.
    pub local_date: NaiveDate,
    /// The rule's nominal local time (unchanged even if a DST gap moved the firing instant).
    pub local_time: NaiveTime,
    /// The instant at which the reminder fires.
    pub fires_at: DateTime<Utc>,
}

impl RecurrenceRule {
    /// Parses the rule's IANA time zone name.
    pub fn time_zone(&self) -> Result<Tz, RuleError> {
        Tz::from_str(&self.time_zone)
            .map_err(|_| RuleError::UnknownTimeZone(self.time_zone.clone()))
    }

    /// Checks the rule: interval in 1..=[`MAX_INTERVAL`], at least one weekday for
    /// weekly rules, day of month in 1..=31, a known time zone and `until` not before `start`.
    pub fn validate(&self) -> Result<(), RuleError> {
        let interval = self.frequency.interval();
        if interval == 0 {
            return Err(RuleError::ZeroInterval);
        }
        if interval > MAX_INTERVAL {
            return Err(RuleError::IntervalTooLarge(interval));
        }
        match &self.frequency {
            Frequency::Weekly { weekdays, .. } if weekdays.is_empty() => {
                return Err(RuleError::NoWeekdays);
            }
            Frequency::MonthlyOnDay { day, .. } if !(1..=31).contains(day) => {
                return Err(RuleError::DayOfMonthOutOfRange(*day));
            }
            _ => {}
        }
        self.time_zone()?;
        match self.until {
            Some(until) if until < self.start => Err(RuleError::EndBeforeStart {
                start: self.start,
                until,
            }),
            _ => Ok(()),
        }
    }

    /// All occurrences with `fires_at >= from`, in order, computed lazily.
    ///
    /// The iterator ends after `until` (or never, if there is no `until`). It jumps
    /// directly to the period containing `from`, so the cost does not depend on how
    /// long ago the rule started. Fails if the rule is invalid (see [`Self::validate`]).
    pub fn occurrences_from(&self, from: DateTime<Utc>) -> Result<Occurrences, RuleError> {
        self.validate()?;
        let tz = self.time_zone()?;
        let from_utc = from.naive_utc();
        let from_local = from_utc
            .checked_add_offset(tz.offset_from_utc_datetime(&from_utc).fix())
            .unwrap_or(from_utc)
            .date();
        let margin = from_local
            .checked_sub_signed(TimeDelta::try_days(SEARCH_MARGIN_DAYS).unwrap_or_default())
            .unwrap_or(NaiveDate::MIN);
        let lower = margin.max(self.start);
        let interval = i64::from(self.frequency.interval());
        let start_days = i64::from(self.start.num_days_from_ce());
        let lower_days = i64::from(lower.num_days_from_ce());
        let start_month = month_index(self.start);
        let lower_month = month_index(lower);

        let (plan, period) = match &self.frequency {
            Frequency::Daily { .. } => {
                let diff = lower_days - start_days;
                (
                    Plan::Daily {
                        interval,
                        start_days,
                    },
                    (diff + interval - 1).div_euclid(interval),
                )
            }
            Frequency::Weekly { weekdays, .. } => {
                let anchor_days =
                    start_days - i64::from(self.start.weekday().num_days_from_monday());
                let mut offsets: Vec<i64> = weekdays
                    .iter()
                    .map(|d| i64::from(d.days_from_monday()))
                    .collect();
                offsets.sort_unstable();
                offsets.dedup();
                let period = (lower_days - anchor_days).div_euclid(7 * interval);
                (
                    Plan::Weekly {
                        interval,
                        anchor_days,
                        offsets,
                    },
                    period,
                )
            }
            Frequency::MonthlyOnDay { day, .. } => {
                let period = (lower_month - start_month).div_euclid(interval);
                (
                    Plan::MonthlyOnDay {
                        interval,
                        start_month,
                        day: *day,
                    },
                    period,
                )
            }
            Frequency::MonthlyOnWeekday { week, weekday, .. } => {
                let period = (lower_month - start_month).div_euclid(interval);
                let plan = Plan::MonthlyOnWeekday {
                    interval,
                    start_month,
                    week: *week,
                    weekday: *weekday,
                };
                (plan, period)
            }
        };

        Ok(Occurrences {
            tz,
            time: truncate_to_minute(self.time),
            lower,
            until: self.until,
            from,
            plan,
            period,
            buffer: Vec::with_capacity(7),
            index: 0,
            done: false,
        })
    }

    /// The first occurrence with `fires_at >= from`, or `None` if the rule has ended.
    pub fn next_occurrence(&self, from: DateTime<Utc>) -> Result<Option<Occurrence>, RuleError> {
        Ok(self.occurrences_from(from)?.next())
    }
}

/// How dates of one period are generated.
#[derive(Debug, Clone)]
enum Plan {
    /// Period k is the day `start_days + k * interval` (days from CE).
    Daily { interval: i64, start_days: i64 },
    /// Period k is the week starting Monday `anchor_days + 7 * k * interval`;
    /// `offsets` are sorted, deduplicated days from Monday.
    Weekly {
        interval: i64,
        anchor_days: i64,
        offsets: Vec<i64>,
    },
    /// Period k is the month `start_month + k * interval` (see `month_index`).
    MonthlyOnDay {
        interval: i64,
        start_month: i64,
        day: u32,
    },
    /// Period k is the month `start_month + k * interval` (see `month_index`).
    MonthlyOnWeekday {
        interval: i64,
        start_month: i64,
        week: WeekOfMonth,
        weekday: Weekday,
    },
}

/// Lazy, ordered iterator over a rule's occurrences; created by
/// [`RecurrenceRule::occurrences_from`].
#[derive(Debug, Clone)]
pub struct Occurrences {
    tz: Tz,
    time: NaiveTime,
    lower: NaiveDate,
    until: Option<NaiveDate>,
    from: DateTime<Utc>,
    plan: Plan,
    period: i64,
    buffer: Vec<NaiveDate>,
    index: usize,
    done: bool,
}

impl Occurrences {
    /// Fills the buffer with the (sorted) dates of the current period and advances
    /// the period. Returns `false` when the dates leave chrono's supported range.
    fn refill(&mut self) -> bool {
        self.buffer.clear();
        self.index = 0;
        let k = self.period;
        let filled = match &self.plan {
            Plan::Daily {
                interval,
                start_days,
            } => k
                .checked_mul(*interval)
                .and_then(|n| n.checked_add(*start_days))
                .and_then(date_from_days)
                .map(|d| self.buffer.push(d))
                .is_some(),
            Plan::Weekly {
                interval,
                anchor_days,
                offsets,
            } => {
                let week_start = k
                    .checked_mul(*interval)
                    .and_then(|n| n.checked_mul(7))
                    .and_then(|n| n.checked_add(*anchor_days));
                match week_start {
                    Some(week_start) => {
                        for offset in offsets {
                            match week_start.checked_add(*offset).and_then(date_from_days) {
                                Some(d) => self.buffer.push(d),
                                None => break,
                            }
                        }
                        !self.buffer.is_empty()
                    }
                    None => false,
                }
            }
            Plan::MonthlyOnDay {
                interval,
                start_month,
                day,
            } => k
                .checked_mul(*interval)
                .and_then(|n| n.checked_add(*start_month))
                .and_then(|m| day_of_month_clamped(m, *day))
                .map(|d| self.buffer.push(d))
                .is_some(),
            Plan::MonthlyOnWeekday {
                interval,
                start_month,
                week,
                weekday,
            } => k
                .checked_mul(*interval)
                .and_then(|n| n.checked_add(*start_month))
                .and_then(|m| nth_weekday_of_month(m, *week, *weekday))
                .map(|d| self.buffer.push(d))
                .is_some(),
        };
        match k.checked_add(1) {
            Some(next) => self.period = next,
            None => self.done = true,
        }
        filled
    }
}

impl Iterator for Occurrences {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        loop {
            if let Some(&date) = self.buffer.get(self.index) {
                self.index += 1;
                if date < self.lower {
                    continue;
                }
                if self.until.is_some_and(|until| date > until) {
                    self.done = true;
                    self.buffer.clear();
                    return None;
                }
                let fires_at = local_to_utc(self.tz, date, self.time);
                if fires_at < self.from {
                    continue;
                }
                return Some(Occurrence {
                    local_date: date,
                    local_time: self.time,
                    fires_at,
                });
            }
            if self.done || !self.refill() {
                self.done = true;
                self.buffer.clear();
                return None;
            }
        }
    }
}

/// Converts a local date and wall-clock time in `tz` to a UTC instant.
///
/// Seconds are ignored (minute precision). DST policy: a time inside a gap fires
/// at the first valid local minute after the gap (searched minute by minute, up
/// to 24 hours); an ambiguous time (overlap) resolves to the earlier instant.
pub fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(truncate_to_minute(time));
    if let Some(instant) = resolve_local(tz, local) {
        return instant;
    }
    let mut candidate = local;
    for _ in 0..MAX_GAP_SEARCH_MINUTES {
        candidate = match TimeDelta::try_minutes(1).and_then(|m| candidate.checked_add_signed(m)) {
            Some(next) => next,
            None => break,
        };
        if let Some(instant) = resolve_local(tz, candidate) {
            return instant;
        }
    }
    // Not reachable with real time zone data; use the offset in effect around that time.
    let offset = tz.offset_from_utc_datetime(&local).fix();
    local.checked_sub_offset(offset).unwrap_or(local).and_utc()
}

/// Adds `months` to `date`, clamping the day to the last day of the target month
/// (e.g. Jan 31 + 1 month = Feb 28/29). Returns `None` outside chrono's date range.
pub fn add_months_clamped(date: NaiveDate, months: i32) -> Option<NaiveDate> {
    let month = month_index(date).checked_add(i64::from(months))?;
    day_of_month_clamped(month, date.day())
}

/// Maps a local date-time to UTC; earlier instant on overlaps, `None` in gaps.
fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => Some(dt.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// Drops seconds and fractions of a second.
fn truncate_to_minute(time: NaiveTime) -> NaiveTime {
    NaiveTime::from_hms_opt(time.hour(), time.minute(), 0).unwrap_or(time)
}

/// Months since year 0 (year * 12 + month - 1).
fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Splits a month index into (year, month 1..=12).
fn year_month(month_index: i64) -> Option<(i32, u32)> {
    let year = i32::try_from(month_index.div_euclid(12)).ok()?;
    let month = u32::try_from(month_index.rem_euclid(12)).ok()? + 1;
    Some((year, month))
}

/// Date from days since 0001-01-01 (which is day 1).
fn date_from_days(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)
}

/// Number of days in the given month.
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        _ => 31,
    }
}

/// `day` of the given month, clamped to the month's last day.
fn day_of_month_clamped(month_index: i64, day: u32) -> Option<NaiveDate> {
    let (year, month) = year_month(month_index)?;
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, days_in_month(year, month)))
}

/// The n-th (or last) `weekday` of the given month.
fn nth_weekday_of_month(
    month_index: i64,
    week: WeekOfMonth,
    weekday: Weekday,
) -> Option<NaiveDate> {
    let (year, month) = year_month(month_index)?;
    let target = weekday.days_from_monday();
    match week {
        WeekOfMonth::Last => {
            let last = NaiveDate::from_ymd_opt(year, month, days_in_month(year, month))?;
            let back = (last.weekday().num_days_from_monday() + 7 - target) % 7;
            NaiveDate::from_ymd_opt(year, month, last.day() - back)
        }
        _ => {
            let n = match week {
                WeekOfMonth::First => 0,
                WeekOfMonth::Second => 1,
                WeekOfMonth::Third => 2,
                _ => 3,
            };
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            let forward = (target + 7 - first.weekday().num_days_from_monday()) % 7;
            NaiveDate::from_ymd_opt(year, month, 1 + forward + 7 * n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        date(y, mo, d).and_time(hm(h, mi)).and_utc()
    }

    fn rule(frequency: Frequency, time: NaiveTime, tz: &str, start: NaiveDate) -> RecurrenceRule {
        RecurrenceRule {
            frequency,
            time,
            time_zone: tz.to_string(),
            start,
            until: None,
        }
    }

    fn daily(time: NaiveTime, tz: &str, start: NaiveDate) -> RecurrenceRule {
        rule(Frequency::Daily { interval: 1 }, time, tz, start)
    }

    fn take(rule: &RecurrenceRule, from: DateTime<Utc>, n: usize) -> Vec<Occurrence> {
        rule.occurrences_from(from)
            .expect("valid rule")
            .take(n)
            .collect()
    }

    fn dates(occ: &[Occurrence]) -> Vec<NaiveDate> {
        occ.iter().map(|o| o.local_date).collect()
    }

    fn instants(occ: &[Occurrence]) -> Vec<DateTime<Utc>> {
        occ.iter().map(|o| o.fires_at).collect()
    }

    #[test]
    fn berlin_spring_forward_gap_moves_to_end_of_gap() {
        let r = daily(hm(2, 30), "Europe/Berlin", date(2027, 3, 1));
        let occ = take(&r, utc(2027, 3, 26, 12, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29)]
        );
        assert_eq!(
            instants(&occ),
            vec![
                utc(2027, 3, 27, 1, 30),
                utc(2027, 3, 28, 1, 0),
                utc(2027, 3, 29, 0, 30)
            ]
        );
        assert_eq!(occ[1].local_time, hm(2, 30));
    }

    #[test]
    fn berlin_fall_back_overlap_fires_once_at_first_instant() {
        let r = daily(hm(2, 30), "Europe/Berlin", date(2027, 10, 1));
        let occ = take(&r, utc(2027, 10, 30, 12, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 10, 31), date(2027, 11, 1)]);
        assert_eq!(
            instants(&occ),
            vec![utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)]
        );
        // Starting between the two 02:30s must not produce a second firing for Oct 31.
        let after_first = take(&r, utc(2027, 10, 31, 0, 31), 1);
        assert_eq!(dates(&after_first), vec![date(2027, 11, 1)]);

        let early = daily(hm(1, 30), "Europe/Berlin", date(2027, 10, 1));
        let occ = take(&early, utc(2027, 10, 30, 12, 0), 2);
        assert_eq!(
            instants(&occ),
            vec![utc(2027, 10, 30, 23, 30), utc(2027, 11, 1, 0, 30)]
        );
    }

    #[test]
    fn new_york_spring_forward_gap() {
        let r = daily(hm(2, 30), "America/New_York", date(2027, 1, 1));
        let occ = take(&r, utc(2027, 3, 13, 0, 0), 3);
        assert_eq!(
            instants(&occ),
            vec![
                utc(2027, 3, 13, 7, 30),
                utc(2027, 3, 14, 7, 0),
                utc(2027, 3, 15, 6, 30)
            ]
        );
        assert_eq!(
            local_to_utc(Tz::America__New_York, date(2027, 3, 14), hm(2, 30)),
            utc(2027, 3, 14, 7, 0)
        );
    }

    #[test]
    fn new_york_fall_back_overlap() {
        let early = daily(hm(1, 30), "America/New_York", date(2027, 1, 1));
        let occ = take(&early, utc(2027, 11, 6, 0, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2027, 11, 6), date(2027, 11, 7), date(2027, 11, 8)]
        );
        assert_eq!(
            instants(&occ),
            vec![
                utc(2027, 11, 6, 5, 30),
                utc(2027, 11, 7, 5, 30),
                utc(2027, 11, 8, 6, 30)
            ]
        );
        let after_first = take(&early, utc(2027, 11, 7, 5, 31), 1);
        assert_eq!(instants(&after_first), vec![utc(2027, 11, 8, 6, 30)]);

        let late = daily(hm(2, 30), "America/New_York", date(2027, 1, 1));
        let occ = take(&late, utc(2027, 11, 6, 0, 0), 3);
        assert_eq!(
            instants(&occ),
            vec![
                utc(2027, 11, 6, 6, 30),
                utc(2027, 11, 7, 7, 30),
                utc(2027, 11, 8, 7, 30)
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_shift() {
        // Lord Howe: +10:30 standard, +11:00 summer; 2027 transitions on the first
        // Sunday of April (Apr 4, 02:00 -> 01:30) and of October (Oct 3, 02:00 -> 02:30).
        let tz = Tz::Australia__Lord_Howe;
        assert_eq!(
            local_to_utc(tz, date(2027, 10, 3), hm(2, 15)),
            utc(2027, 10, 2, 15, 30)
        );
        assert_eq!(
            local_to_utc(tz, date(2027, 10, 3), hm(2, 30)),
            utc(2027, 10, 2, 15, 30)
        );
        assert_eq!(
            local_to_utc(tz, date(2027, 10, 3), hm(1, 59)),
            utc(2027, 10, 2, 15, 29)
        );
        // Overlap 01:30-02:00 on Apr 4: first instant is still at +11:00.
        assert_eq!(
            local_to_utc(tz, date(2027, 4, 4), hm(1, 45)),
            utc(2027, 4, 3, 14, 45)
        );
        assert_eq!(
            local_to_utc(tz, date(2027, 4, 4), hm(2, 15)),
            utc(2027, 4, 3, 15, 45)
        );

        let r = daily(hm(2, 15), "Australia/Lord_Howe", date(2027, 1, 1));
        let occ = take(&r, utc(2027, 10, 1, 12, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2027, 10, 2), date(2027, 10, 3), date(2027, 10, 4)]
        );
        assert_eq!(
            instants(&occ),
            vec![
                utc(2027, 10, 1, 15, 45),
                utc(2027, 10, 2, 15, 30),
                utc(2027, 10, 3, 15, 15)
            ]
        );
    }

    #[test]
    fn monthly_day_29_in_leap_and_common_years() {
        let r = rule(
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 29,
            },
            hm(19, 0),
            "UTC",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2027, 1, 29), date(2027, 2, 28), date(2027, 3, 29)]
        );
        let occ = take(&r, utc(2028, 2, 1, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2028, 2, 29), date(2028, 3, 29)]);
        assert_eq!(occ[0].fires_at, utc(2028, 2, 29, 19, 0));
    }

    #[test]
    fn rule_starting_on_leap_day() {
        let monthly = rule(
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 29,
            },
            hm(9, 0),
            "UTC",
            date(2028, 2, 29),
        );
        let occ = take(&monthly, utc(2020, 1, 1, 0, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2028, 2, 29), date(2028, 3, 29), date(2028, 4, 29)]
        );

        let yearly = rule(
            Frequency::MonthlyOnDay {
                interval: 12,
                day: 29,
            },
            hm(9, 0),
            "UTC",
            date(2028, 2, 29),
        );
        let occ = take(&yearly, utc(2028, 1, 1, 0, 0), 5);
        assert_eq!(
            dates(&occ),
            vec![
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29)
            ]
        );
    }

    #[test]
    fn monthly_31st_clamps_to_month_end() {
        let r = rule(
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 31,
            },
            hm(20, 0),
            "Europe/Berlin",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 5);
        assert_eq!(
            dates(&occ),
            vec![
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30),
                date(2027, 5, 31)
            ]
        );
        assert_eq!(occ[3].fires_at, utc(2027, 4, 30, 18, 0));
        assert_eq!(
            add_months_clamped(date(2027, 1, 31), 1),
            Some(date(2027, 2, 28))
        );
        assert_eq!(
            add_months_clamped(date(2028, 1, 31), 1),
            Some(date(2028, 2, 29))
        );
        assert_eq!(
            add_months_clamped(date(2027, 3, 31), -1),
            Some(date(2027, 2, 28))
        );
        assert_eq!(
            add_months_clamped(date(2027, 5, 31), 11),
            Some(date(2028, 4, 30))
        );
    }

    #[test]
    fn monthly_day_before_start_in_first_month_is_skipped() {
        let r = rule(
            Frequency::MonthlyOnDay {
                interval: 1,
                day: 15,
            },
            hm(20, 0),
            "UTC",
            date(2027, 1, 20),
        );
        let occ = take(&r, utc(2020, 1, 1, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 2, 15), date(2027, 3, 15)]);
    }

    #[test]
    fn first_saturday_of_month() {
        let r = rule(
            Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::First,
                weekday: Weekday::Saturday,
            },
            hm(10, 0),
            "Europe/Berlin",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 4);
        assert_eq!(
            dates(&occ),
            vec![
                date(2027, 1, 2),
                date(2027, 2, 6),
                date(2027, 3, 6),
                date(2027, 4, 3)
            ]
        );
        assert_eq!(occ[0].fires_at, utc(2027, 1, 2, 9, 0));
        assert_eq!(occ[3].fires_at, utc(2027, 4, 3, 8, 0));
    }

    #[test]
    fn last_friday_and_other_weeks_of_month() {
        let r = rule(
            Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::Last,
                weekday: Weekday::Friday,
            },
            hm(19, 0),
            "UTC",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 4);
        assert_eq!(
            dates(&occ),
            vec![
                date(2027, 1, 29),
                date(2027, 2, 26),
                date(2027, 3, 26),
                date(2027, 4, 30)
            ]
        );
        let m = month_index(date(2027, 1, 1));
        assert_eq!(
            nth_weekday_of_month(m, WeekOfMonth::Second, Weekday::Friday),
            Some(date(2027, 1, 8))
        );
        assert_eq!(
            nth_weekday_of_month(m, WeekOfMonth::Third, Weekday::Friday),
            Some(date(2027, 1, 15))
        );
        assert_eq!(
            nth_weekday_of_month(m, WeekOfMonth::Fourth, Weekday::Friday),
            Some(date(2027, 1, 22))
        );
        assert_eq!(
            nth_weekday_of_month(m, WeekOfMonth::Last, Weekday::Sunday),
            Some(date(2027, 1, 31))
        );
    }

    #[test]
    fn every_two_weeks_on_sunday() {
        // 2027-01-06 is a Wednesday; its week starts Monday 2027-01-04.
        let r = rule(
            Frequency::Weekly {
                interval: 2,
                weekdays: vec![Weekday::Sunday],
            },
            hm(20, 0),
            "Europe/Berlin",
            date(2027, 1, 6),
        );
        let occ = take(&r, utc(2026, 1, 1, 0, 0), 4);
        assert_eq!(
            dates(&occ),
            vec![
                date(2027, 1, 10),
                date(2027, 1, 24),
                date(2027, 2, 7),
                date(2027, 2, 21)
            ]
        );
        assert_eq!(occ[0].fires_at, utc(2027, 1, 10, 19, 0));
        // Jumping into an inactive week continues with the right phase.
        let occ = take(&r, utc(2027, 1, 25, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 2, 7), date(2027, 2, 21)]);
    }

    #[test]
    fn weekly_monday_and_thursday() {
        let r = rule(
            Frequency::Weekly {
                interval: 1,
                weekdays: vec![Weekday::Thursday, Weekday::Monday, Weekday::Thursday],
            },
            hm(8, 0),
            "UTC",
            date(2027, 1, 6),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 5);
        assert_eq!(
            dates(&occ),
            vec![
                date(2027, 1, 7),
                date(2027, 1, 11),
                date(2027, 1, 14),
                date(2027, 1, 18),
                date(2027, 1, 21)
            ]
        );
        assert_eq!(occ[1].fires_at, utc(2027, 1, 11, 8, 0));
    }

    #[test]
    fn until_is_inclusive_and_iteration_ends() {
        let mut r = daily(hm(8, 0), "UTC", date(2027, 1, 1));
        r.until = Some(date(2027, 1, 3));
        let all: Vec<_> = r
            .occurrences_from(utc(2000, 1, 1, 0, 0))
            .expect("valid")
            .collect();
        assert_eq!(
            dates(&all),
            vec![date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]
        );
        assert_eq!(all[2].fires_at, utc(2027, 1, 3, 8, 0));
        // `from` exactly at an occurrence includes it.
        assert_eq!(
            r.next_occurrence(utc(2027, 1, 3, 8, 0))
                .expect("valid")
                .map(|o| o.local_date),
            Some(date(2027, 1, 3))
        );
        assert_eq!(
            r.next_occurrence(utc(2027, 1, 3, 8, 1)).expect("valid"),
            None
        );
        assert_eq!(
            r.occurrences_from(utc(2030, 1, 1, 0, 0))
                .expect("valid")
                .count(),
            0
        );

        let mut single = daily(hm(8, 0), "UTC", date(2027, 1, 1));
        single.until = Some(date(2027, 1, 1));
        assert_eq!(
            single
                .occurrences_from(utc(2000, 1, 1, 0, 0))
                .expect("valid")
                .count(),
            1
        );
    }

    #[test]
    fn from_in_the_middle_of_long_running_rule() {
        let r = daily(hm(19, 0), "Europe/Berlin", date(2017, 1, 1));
        let started = std::time::Instant::now();
        let next = r.next_occurrence(utc(2027, 6, 15, 12, 0)).expect("valid");
        let elapsed = started.elapsed();
        assert_eq!(
            next,
            Some(Occurrence {
                local_date: date(2027, 6, 15),
                local_time: hm(19, 0),
                fires_at: utc(2027, 6, 15, 17, 0),
            })
        );
        assert!(
            elapsed < std::time::Duration::from_millis(50),
            "took {elapsed:?}"
        );

        // Every 3 days keeps its phase: 2017-01-01 + 3k; 2027-06-15 is day 3817 = 3 * 1272 + 1.
        let every3 = rule(
            Frequency::Daily { interval: 3 },
            hm(19, 0),
            "UTC",
            date(2017, 1, 1),
        );
        let occ = take(&every3, utc(2027, 6, 15, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 6, 17), date(2027, 6, 20)]);

        // Quarterly on day 15, started 2017-02: Feb/May/Aug/Nov.
        let quarterly = rule(
            Frequency::MonthlyOnDay {
                interval: 3,
                day: 15,
            },
            hm(19, 0),
            "UTC",
            date(2017, 2, 1),
        );
        let occ = take(&quarterly, utc(2027, 6, 15, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 8, 15), date(2027, 11, 15)]);

        // A start long ago with a `from` far in the future also works.
        let far = daily(hm(19, 0), "UTC", date(1900, 1, 1));
        assert_eq!(
            far.next_occurrence(utc(2100, 1, 1, 20, 0))
                .expect("valid")
                .map(|o| o.local_date),
            Some(date(2100, 1, 2))
        );
    }

    #[test]
    fn same_local_time_in_two_zones_differs_in_utc() {
        let berlin = daily(hm(19, 0), "Europe/Berlin", date(2027, 6, 1));
        let new_york = daily(hm(19, 0), "America/New_York", date(2027, 6, 1));
        let from = utc(2027, 6, 15, 0, 0);
        let b = berlin
            .next_occurrence(from)
            .expect("valid")
            .map(|o| o.fires_at);
        let n = new_york
            .next_occurrence(from)
            .expect("valid")
            .map(|o| o.fires_at);
        assert_eq!(b, Some(utc(2027, 6, 15, 17, 0)));
        assert_eq!(n, Some(utc(2027, 6, 15, 23, 0)));
    }

    #[test]
    fn seconds_are_ignored() {
        let r = daily(
            NaiveTime::from_hms_opt(19, 0, 45).expect("valid time"),
            "UTC",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2027, 1, 1, 0, 0), 1);
        assert_eq!(occ[0].local_time, hm(19, 0));
        assert_eq!(occ[0].fires_at, utc(2027, 1, 1, 19, 0));
    }

    #[test]
    fn start_is_inclusive_and_from_before_start() {
        let r = rule(
            Frequency::Weekly {
                interval: 1,
                weekdays: vec![Weekday::Friday],
            },
            hm(19, 0),
            "UTC",
            date(2027, 1, 1),
        );
        let occ = take(&r, utc(2020, 1, 1, 0, 0), 2);
        assert_eq!(dates(&occ), vec![date(2027, 1, 1), date(2027, 1, 8)]);
    }

    #[test]
    fn validation_errors() {
        let ok = daily(hm(8, 0), "Europe/Berlin", date(2027, 1, 1));
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(ok.time_zone(), Ok(Tz::Europe__Berlin));

        let mut r = ok.clone();
        r.frequency = Frequency::Daily { interval: 0 };
        assert_eq!(r.validate(), Err(RuleError::ZeroInterval));
        assert!(r.occurrences_from(utc(2027, 1, 1, 0, 0)).is_err());

        r.frequency = Frequency::Weekly {
            interval: MAX_INTERVAL + 1,
            weekdays: vec![Weekday::Monday],
        };
        assert_eq!(
            r.validate(),
            Err(RuleError::IntervalTooLarge(MAX_INTERVAL + 1))
        );
        r.frequency = Frequency::Weekly {
            interval: MAX_INTERVAL,
            weekdays: vec![Weekday::Monday],
        };
        assert_eq!(r.validate(), Ok(()));

        r.frequency = Frequency::Weekly {
            interval: 1,
            weekdays: vec![],
        };
        assert_eq!(r.validate(), Err(RuleError::NoWeekdays));

        r.frequency = Frequency::MonthlyOnDay {
            interval: 1,
            day: 0,
        };
        assert_eq!(r.validate(), Err(RuleError::DayOfMonthOutOfRange(0)));
        r.frequency = Frequency::MonthlyOnDay {
            interval: 1,
            day: 32,
        };
        assert_eq!(r.validate(), Err(RuleError::DayOfMonthOutOfRange(32)));

        let mut r = ok.clone();
        r.time_zone = "Mars/Olympus_Mons".to_string();
        assert_eq!(
            r.validate(),
            Err(RuleError::UnknownTimeZone("Mars/Olympus_Mons".to_string()))
        );
        assert_eq!(
            r.time_zone(),
            Err(RuleError::UnknownTimeZone("Mars/Olympus_Mons".to_string()))
        );

        let mut r = ok.clone();
        r.until = Some(date(2026, 12, 31));
        let err = RuleError::EndBeforeStart {
            start: date(2027, 1, 1),
            until: date(2026, 12, 31),
        };
        assert_eq!(r.validate(), Err(err.clone()));
        assert_eq!(
            err.to_string(),
            "the end date 2026-12-31 is before the start date 2027-01-01; choose an end date on or after the start date"
        );
        assert_eq!(
            RuleError::ZeroInterval.to_string(),
            "the repeat interval is 0; use an interval of at least 1"
        );
    }

    #[test]
    fn serde_json_roundtrip() {
        let r = RecurrenceRule {
            frequency: Frequency::MonthlyOnWeekday {
                interval: 1,
                week: WeekOfMonth::First,
                weekday: Weekday::Saturday,
            },
            time: hm(10, 30),
            time_zone: "Europe/Berlin".to_string(),
            start: date(2027, 1, 1),
            until: Some(date(2027, 12, 31)),
        };
        let json = serde_json::to_string(&r).expect("serialize");
        assert_eq!(
            json,
            r#"{"frequency":{"kind":"monthly_on_weekday","interval":1,"week":"first","weekday":"saturday"},"time":"10:30:00","time_zone":"Europe/Berlin","start":"2027-01-01","until":"2027-12-31"}"#
        );
        let back: RecurrenceRule = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);

        let weekly = rule(
            Frequency::Weekly {
                interval: 2,
                weekdays: vec![Weekday::Sunday],
            },
            hm(20, 0),
            "UTC",
            date(2027, 1, 1),
        );
        let json = serde_json::to_string(&weekly).expect("serialize");
        assert!(
            json.contains(r#"{"kind":"weekly","interval":2,"weekdays":["sunday"]}"#),
            "{json}"
        );
        assert!(json.contains(r#""until":null"#), "{json}");
        let back: RecurrenceRule = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, weekly);
    }

    #[test]
    fn extreme_dates_end_without_panicking() {
        let near_max = NaiveDate::MAX
            .pred_opt()
            .and_then(|d| d.pred_opt())
            .expect("valid date");
        let frequencies = [
            Frequency::Daily { interval: 1000 },
            Frequency::Weekly {
                interval: 1000,
                weekdays: vec![Weekday::Monday, Weekday::Sunday],
            },
            Frequency::MonthlyOnDay {
                interval: 1000,
                day: 31,
            },
            Frequency::MonthlyOnWeekday {
                interval: 1000,
                week: WeekOfMonth::Last,
                weekday: Weekday::Sunday,
            },
        ];
        for frequency in frequencies {
            for start in [near_max, NaiveDate::MIN] {
                let r = rule(frequency.clone(), hm(23, 59), "Pacific/Kiritimati", start);
                assert!(r
                    .occurrences_from(DateTime::<Utc>::MAX_UTC)
                    .expect("valid")
                    .next()
                    .is_none());
                let _ = r
                    .occurrences_from(DateTime::<Utc>::MIN_UTC)
                    .expect("valid")
                    .take(3)
                    .count();
            }
            let r = rule(frequency, hm(0, 0), "UTC", near_max);
            assert!(
                r.occurrences_from(DateTime::<Utc>::MIN_UTC)
                    .expect("valid")
                    .count()
                    <= 3
            );
        }
        let _ = local_to_utc(Tz::Pacific__Apia, NaiveDate::MAX, hm(23, 59));
        let _ = local_to_utc(Tz::Pacific__Apia, NaiveDate::MIN, hm(0, 0));
        assert_eq!(add_months_clamped(NaiveDate::MAX, 1), None);
        assert_eq!(add_months_clamped(NaiveDate::MIN, i32::MIN), None);
    }

    #[test]
    fn samoa_skipped_day_fires_next_local_minute() {
        // Pacific/Apia skipped 2011-12-30 entirely (UTC-10 -> UTC+14).
        let r = daily(hm(19, 0), "Pacific/Apia", date(2011, 12, 28));
        let occ = take(&r, utc(2011, 12, 29, 6, 0), 3);
        assert_eq!(
            dates(&occ),
            vec![date(2011, 12, 29), date(2011, 12, 30), date(2011, 12, 31)]
        );
        assert_eq!(
            instants(&occ),
            vec![
                utc(2011, 12, 30, 5, 0),
                utc(2011, 12, 30, 10, 0),
                utc(2011, 12, 31, 5, 0)
            ]
        );
    }

    #[test]
    fn weekday_conversion_roundtrip() {
        for day in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ] {
            let chrono_day: chrono::Weekday = day.into();
            assert_eq!(Weekday::from(chrono_day), day);
            assert_eq!(chrono_day.num_days_from_monday(), day.days_from_monday());
        }
    }
}
