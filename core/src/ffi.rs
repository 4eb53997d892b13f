//! How the core's values cross into Kotlin and Swift (the `uniffi` feature): uniffi custom
//! types for the chrono values the public types hold. Ids are custom types beside their
//! definition ([`crate::ids`]); records and enums derive uniffi's traits where they are defined.
//!
//! A value from Kotlin or Swift that does not convert (a malformed date, an instant out of
//! range) fails as [`Error::InvalidInput`]: uniffi turns a lift error that is the function's
//! own error type into that error, so the app sees `AccordException.InvalidInput`, not an
//! internal error.

use crate::error::Error;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// An instant: milliseconds since the Unix epoch (UTC) across the boundary
/// (`java.time.Instant` in Kotlin, `Date` in Swift).
pub type Timestamp = DateTime<Utc>;
/// A calendar date, `"YYYY-MM-DD"` across the boundary.
pub type CalendarDate = NaiveDate;
/// A local time of day, `"HH:MM"` across the boundary (`"HH:MM:SS"` is accepted too).
pub type TimeOfDay = NaiveTime;
/// A local date and time in a named time zone, `"YYYY-MM-DDTHH:MM:SS"` across the boundary.
pub type LocalDateTime = NaiveDateTime;

/// Turns an instant from the foreign side into a [`Timestamp`].
fn timestamp_from_ms(ms: i64) -> uniffi::Result<Timestamp> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        Error::invalid(
            "instant",
            format!("{ms} ms since 1970 is outside the supported range of dates"),
        )
        .into()
    })
}

/// Parses a `"YYYY-MM-DD"` date from the foreign side.
fn date_from_text(text: String) -> uniffi::Result<CalendarDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|e| {
        Error::invalid("date", format!("{text:?} is not a YYYY-MM-DD date ({e})")).into()
    })
}

/// Parses an `"HH:MM"` (or `"HH:MM:SS"`) time of day from the foreign side.
fn time_from_text(text: String) -> uniffi::Result<TimeOfDay> {
    let t = text.trim();
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_err(|e| Error::invalid("time of day", format!("{text:?} is not HH:MM ({e})")).into())
}

/// Parses a `"YYYY-MM-DDTHH:MM:SS"` local date and time from the foreign side.
fn local_date_time_from_text(text: String) -> uniffi::Result<LocalDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S").map_err(|e| {
        Error::invalid(
            "local date and time",
            format!("{text:?} is not YYYY-MM-DDTHH:MM:SS ({e})"),
        )
        .into()
    })
}

uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.timestamp_millis(),
    try_lift: |ms| timestamp_from_ms(ms),
});

uniffi::custom_type!(CalendarDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |text| date_from_text(text),
});

uniffi::custom_type!(TimeOfDay, String, {
    remote,
    lower: |t| t.format("%H:%M").to_string(),
    try_lift: |text| time_from_text(text),
});

uniffi::custom_type!(LocalDateTime, String, {
    remote,
    lower: |t| t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    try_lift: |text| local_date_time_from_text(text),
});

/// The human-readable label of a category (the custom name, or e.g. "time together").
#[uniffi::export]
pub fn category_label(category: crate::agreement::Category) -> String {
    category.label().to_owned()
}

/// Every standard category, in display order (for a category picker).
#[uniffi::export]
pub fn standard_categories() -> Vec<crate::agreement::StandardCategory> {
    crate::agreement::StandardCategory::ALL.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_values_from_the_apps_are_invalid_input_errors() {
        let err = date_from_text("2026-02-30".into()).unwrap_err();
        let err = err.downcast::<Error>().expect("an accord error");
        assert!(
            matches!(err, Error::InvalidInput { field: "date", .. }),
            "{err}"
        );
        assert!(time_from_text("25:00".into())
            .unwrap_err()
            .downcast::<Error>()
            .is_ok());
        assert!(timestamp_from_ms(i64::MAX)
            .unwrap_err()
            .downcast::<Error>()
            .is_ok());
        assert!(local_date_time_from_text("yesterday".into()).is_err());
        assert_eq!(
            time_from_text(" 07:30 ".into()).unwrap(),
            NaiveTime::from_hms_opt(7, 30, 0).unwrap()
        );
    }
}
