//! Reminders: recurrence rules computed in the rule's time zone (see [`recurrence`]).

pub mod recurrence;
pub mod schedule;
