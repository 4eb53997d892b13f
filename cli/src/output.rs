//! What a command prints: a JSON value for `--json`, readable text otherwise, and errors in
//! either form. Also the small helpers every command uses to show things: tables, times in a
//! partner's zone, names for ids.

use crate::error::CliError;
use accord_core::{PartnerId, SpaceInfo};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::io::Write;

/// The result of a command, in both forms.
pub struct Report {
    /// Printed on stdout with `--json`.
    pub json: serde_json::Value,
    /// Printed on stdout without `--json`.
    pub text: String,
    /// Printed on stderr without `--json` (a remark beside output meant for scripts).
    pub note: Option<String>,
}

impl Report {
    /// A report from a serialisable value and its text.
    pub fn new(json: impl Serialize, text: impl Into<String>) -> Report {
        Report {
            json: serde_json::to_value(json).unwrap_or(serde_json::Value::Null),
            text: text.into(),
            note: None,
        }
    }

    /// Adds a remark for people, printed on stderr.
    pub fn with_note(mut self, note: impl Into<String>) -> Report {
        self.note = Some(note.into());
        self
    }

    /// The report as it is printed: (stdout, stderr).
    pub fn render(&self, json: bool) -> (String, String) {
        if json {
            let text = serde_json::to_string_pretty(&self.json).unwrap_or_else(|_| "null".into());
            return (format!("{text}\n"), String::new());
        }
        let note = self
            .note
            .as_ref()
            .map(|n| format!("{n}\n"))
            .unwrap_or_default();
        if self.text.is_empty() || self.text.ends_with('\n') {
            (self.text.clone(), note)
        } else {
            (format!("{}\n", self.text), note)
        }
    }

    /// Prints the report. A closed pipe (`accord list | head`) is not an error.
    pub fn print(&self, json: bool) {
        let (stdout, stderr) = self.render(json);
        if !stderr.is_empty() {
            eprint!("{stderr}");
        }
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{stdout}").and_then(|_| out.flush());
    }
}

/// An error as it is printed on stderr.
pub fn render_error(error: &CliError, json: bool) -> String {
    if json {
        let value =
            serde_json::json!({ "error": { "kind": error.kind(), "message": error.to_string() } });
        format!("{value}\n")
    } else {
        format!("error: {error}\n")
    }
}

/// Prints an error on stderr, as JSON (`{"error": {"kind", "message"}}`) or as text.
pub fn print_error(error: &CliError, json: bool) {
    print_error_parts(error.kind(), &error.to_string(), json);
}

/// Prints an error given by kind and message.
pub fn print_error_parts(kind: &str, message: &str, json: bool) {
    if json {
        let value = serde_json::json!({ "error": { "kind": kind, "message": message } });
        eprintln!("{value}");
    } else {
        eprintln!("error: {message}");
    }
}

/// A plain text table: a header row, columns padded to their widest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (cells beyond the header are dropped, missing ones are blank).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, ending in a newline.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let cell = |row: &Vec<String>, i: usize| -> String {
            // One line per cell: newlines in user text would break the columns.
            row.get(i)
                .map(|c| c.replace(['\n', '\t'], " "))
                .unwrap_or_default()
        };
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<String>| {
            let mut text = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == n {
                    text.push_str(c);
                } else {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    text.push_str(c);
                    text.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(self.header.clone());
        line(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<String>>(),
        );
        for row in &self.rows {
            line((0..n).map(|i| cell(row, i)).collect());
        }
        out
    }
}

/// Names of partners and the zone to show times in, from the space's members.
pub struct Names {
    info: SpaceInfo,
    tz: chrono_tz::Tz,
}

impl Names {
    /// From the space's info; times are shown in this device's partner's zone.
    pub fn new(info: SpaceInfo) -> Names {
        let tz = info
            .partners
            .iter()
            .find(|p| p.id == info.me)
            .and_then(|p| p.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        Names { info, tz }
    }

    /// The space's info.
    pub fn info(&self) -> &SpaceInfo {
        &self.info
    }

    /// This device's partner's time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// A partner's display name (with "(you)" for this device's partner).
    pub fn partner(&self, id: &PartnerId) -> String {
        let name = self
            .info
            .partners
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("partner {}", short(id.as_str())));
        if id == &self.info.me {
            format!("{name} (you)")
        } else {
            name
        }
    }

    /// A partner's display name, without "(you)".
    pub fn plain(&self, id: &PartnerId) -> String {
        self.info
            .partners
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("partner {}", short(id.as_str())))
    }

    /// Who an agreement concerns, in words.
    pub fn concerns(&self, c: &accord_core::Concerns) -> String {
        match c {
            accord_core::Concerns::Both => "both".into(),
            accord_core::Concerns::Partner(p) => self.plain(p),
        }
    }

    /// A stored field value in words (`partner:<id>` becomes a name, `try_my_best` a label).
    pub fn field_value(&self, field: accord_core::Field, stored: &str) -> String {
        use accord_core::{Category, Concerns, Field, Kind, ReviewCadence, Strength};
        match field {
            Field::Concerns => Concerns::from_stored(stored)
                .map(|c| self.concerns(&c))
                .unwrap_or_else(|| stored.to_owned()),
            Field::Kind => Kind::parse(stored)
                .map(|k| k.label().to_owned())
                .unwrap_or_else(|| stored.to_owned()),
            Field::Strength => Strength::parse(stored)
                .map(|s| s.label().to_owned())
                .unwrap_or_else(|| stored.to_owned()),
            Field::Category => Category::from_stored(stored)
                .map(|c| c.label().to_owned())
                .unwrap_or_else(|| stored.to_owned()),
            Field::ReviewEvery => ReviewCadence::from_stored(stored)
                .map(|c| c.describe())
                .unwrap_or_else(|| stored.to_owned()),
            Field::Title | Field::Details | Field::NextReview => stored.to_owned(),
        }
    }

    /// A time as RFC 3339 in this partner's zone, e.g. `2027-03-05T19:00:00+01:00`.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        time_in(t, self.tz)
    }
}

/// A time as RFC 3339 in `tz` (seconds precision; `Z` for UTC).
pub fn time_in(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The first characters of an id, enough to type back (ids may be abbreviated).
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// For each id, its shortest prefix of at least 8 characters that no other id in `all` shares.
pub fn unique_prefixes<S: AsRef<str>>(all: impl IntoIterator<Item = S>) -> impl Fn(&str) -> String {
    let ids: Vec<String> = all.into_iter().map(|s| s.as_ref().to_owned()).collect();
    move |id: &str| {
        let mut len = 8.min(id.len());
        while len < id.len()
            && ids
                .iter()
                .any(|other| other != id && other.starts_with(&id[..len]))
        {
            len += 1;
        }
        id[..len].to_owned()
    }
}

/// "1 agreement", "2 agreements".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let mut t = Table::new(&["id", "title"]);
        t.row(vec!["abc".into(), "Date night".into()]);
        t.row(vec!["a".into(), "Two\nlines".into()]);
        assert_eq!(
            t.render(),
            "id   title\n---  ----------\nabc  Date night\na    Two lines\n"
        );
    }

    #[test]
    fn prefixes_are_unique() {
        let ids = ["abcdef0011", "abcdef0022", "12345678ff"];
        let p = unique_prefixes(ids);
        assert_eq!(p("abcdef0011"), "abcdef001");
        assert_eq!(p("12345678ff"), "12345678");
    }

    #[test]
    fn times_in_a_zone() {
        let t = DateTime::parse_from_rfc3339("2027-03-05T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            time_in(t, chrono_tz::Europe::Berlin),
            "2027-03-05T19:00:00+01:00"
        );
        assert_eq!(time_in(t, chrono_tz::UTC), "2027-03-05T18:00:00Z");
    }
}
