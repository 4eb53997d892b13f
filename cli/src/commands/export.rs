//! `export`: every agreement as a readable document (Markdown, to print or bring to a
//! counselling session) or as the same data in JSON.

use super::{names, status_words, Ctx};
use crate::cli::{ExportArgs, ExportFormat};
use crate::duration::describe_cadence;
use crate::error::{CliError, CliResult};
use crate::output::{plural, Names, Report};
use accord_core::{AgreementDetails, AgreementId, Kind, ListFilter, PartnerId, Status, Strength};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

/// The exported document.
#[derive(Debug, Serialize)]
pub struct Export {
    /// When it was exported.
    pub exported_at: DateTime<Utc>,
    /// The partners, by name.
    pub partners: Vec<ExportPartner>,
    /// Every agreement, retired ones included, by category then title.
    pub agreements: Vec<ExportAgreement>,
}

/// A partner.
#[derive(Debug, Serialize)]
pub struct ExportPartner {
    /// Id.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Time zone.
    pub time_zone: String,
}

/// One agreement.
#[derive(Debug, Serialize)]
pub struct ExportAgreement {
    /// Id.
    pub id: AgreementId,
    /// Its words.
    pub title: String,
    /// Category (label).
    pub category: String,
    /// Kind.
    pub kind: Kind,
    /// Commitment strength.
    pub strength: Strength,
    /// Who it concerns: "both" or a partner's name.
    pub concerns: String,
    /// Status.
    pub status: Status,
    /// Details.
    pub details: String,
    /// Who accepted, and whether these exact words.
    pub acceptances: Vec<ExportAcceptance>,
    /// Review cadence in words ("1 month").
    pub review_every: Option<String>,
    /// Next review date.
    pub next_review: Option<NaiveDate>,
    /// Whether someone asked to renegotiate it.
    pub renegotiation_requested: bool,
    /// Who wrote it.
    pub written_by: String,
    /// When it was written.
    pub written_at: DateTime<Utc>,
    /// Retirement, if retired.
    pub retirement: Option<ExportRetirement>,
}

/// An acceptance.
#[derive(Debug, Serialize)]
pub struct ExportAcceptance {
    /// The partner's name.
    pub partner: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether it is an acceptance of the current words (else of an earlier version).
    pub current: bool,
}

/// A retirement.
#[derive(Debug, Serialize)]
pub struct ExportRetirement {
    /// The partner's name.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

fn agreement(d: AgreementDetails, names: &Names) -> ExportAgreement {
    let s = d.summary;
    ExportAgreement {
        id: s.id,
        title: s.title,
        category: s.category.label().to_owned(),
        kind: s.kind,
        strength: s.strength,
        concerns: names.concerns(&s.concerns),
        status: s.status,
        details: d.details,
        acceptances: d
            .acceptances
            .iter()
            .map(|a| ExportAcceptance {
                partner: names.plain(&a.partner),
                at: a.at,
                current: a.current,
            })
            .collect(),
        review_every: d.review_every.as_ref().map(describe_cadence),
        next_review: s.next_review,
        renegotiation_requested: d.renegotiation_requested,
        written_by: names.plain(&d.created_by),
        written_at: s.created_at,
        retirement: d.retirement.map(|r| ExportRetirement {
            by: names.plain(&r.partner),
            reason: r.reason,
            at: r.at,
        }),
    }
}

/// Builds the export of the space.
fn build(ctx: &Ctx) -> CliResult<(Export, Names)> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let mut agreements = Vec::new();
    for s in space.list(&ListFilter::default())? {
        agreements.push(agreement(space.agreement(&s.id)?, &names));
    }
    let partners = names
        .info()
        .partners
        .iter()
        .map(|p| ExportPartner {
            id: p.id.clone(),
            name: p.name.clone(),
            time_zone: p.time_zone.clone(),
        })
        .collect();
    Ok((
        Export {
            exported_at: ctx.now,
            partners,
            agreements,
        },
        names,
    ))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn markdown_agreement(a: &ExportAgreement, names: &Names, out: &mut String) {
    out.push_str(&format!("### {}\n\n", one_line(&a.title)));
    out.push_str(&format!("- **Status:** {}\n", status_words(a.status)));
    out.push_str(&format!(
        "- **Kind:** {} · **Strength:** {} · **Concerns:** {}\n",
        a.kind.label(),
        a.strength.label(),
        a.concerns
    ));
    let current: Vec<String> = a
        .acceptances
        .iter()
        .filter(|x| x.current)
        .map(|x| {
            format!(
                "{} ({})",
                x.partner,
                x.at.with_timezone(&names.tz()).date_naive()
            )
        })
        .collect();
    out.push_str(&format!(
        "- **Accepted by:** {}\n",
        if current.is_empty() {
            "nobody yet".to_owned()
        } else {
            current.join(", ")
        }
    ));
    for x in a.acceptances.iter().filter(|x| !x.current) {
        out.push_str(&format!(
            "- {} accepted an earlier version ({}), not these words\n",
            x.partner,
            x.at.with_timezone(&names.tz()).date_naive()
        ));
    }
    match (&a.review_every, &a.next_review) {
        (Some(c), Some(d)) => out.push_str(&format!("- **Review:** every {c}, next on {d}\n")),
        (Some(c), None) => out.push_str(&format!("- **Review:** every {c}\n")),
        (None, Some(d)) => out.push_str(&format!("- **Review:** on {d}\n")),
        (None, None) => {}
    }
    if a.renegotiation_requested {
        out.push_str("- **Renegotiation requested**\n");
    }
    out.push_str(&format!(
        "- **Written by:** {} ({})\n",
        a.written_by,
        a.written_at.with_timezone(&names.tz()).date_naive()
    ));
    if let Some(r) = &a.retirement {
        out.push_str(&format!(
            "- **Retired** by {} on {}: {}\n",
            r.by,
            r.at.with_timezone(&names.tz()).date_naive(),
            one_line(&r.reason)
        ));
    }
    if !a.details.trim().is_empty() {
        out.push('\n');
        for line in a.details.trim().lines() {
            out.push_str(&format!("> {line}\n"));
        }
    }
    out.push('\n');
}

/// The export as a Markdown document.
pub fn markdown(e: &Export, names: &Names) -> String {
    let mut out = String::from("# Our agreements\n\n");
    let who: Vec<&str> = e.partners.iter().map(|p| p.name.as_str()).collect();
    out.push_str(&format!(
        "{} · exported {} · {}\n\n",
        if who.is_empty() {
            "Accord".to_owned()
        } else {
            who.join(" and ")
        },
        e.exported_at.with_timezone(&names.tz()).date_naive(),
        plural(e.agreements.len(), "agreement")
    ));
    if e.agreements.is_empty() {
        out.push_str("No agreements yet.\n");
        return out;
    }
    let (retired, current): (Vec<&ExportAgreement>, Vec<&ExportAgreement>) = e
        .agreements
        .iter()
        .partition(|a| a.status == Status::Retired);
    let mut category = None;
    for a in current {
        if category != Some(&a.category) {
            out.push_str(&format!("## {}\n\n", capitalise(&a.category)));
            category = Some(&a.category);
        }
        markdown_agreement(a, names, &mut out);
    }
    if !retired.is_empty() {
        out.push_str("## Retired agreements\n\n");
        for a in retired {
            markdown_agreement(a, names, &mut out);
        }
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn export(ctx: &Ctx, a: &ExportArgs) -> CliResult<Report> {
    let (doc, names) = build(ctx)?;
    let (format, content) = match a.format {
        ExportFormat::Markdown => ("markdown", markdown(&doc, &names)),
        ExportFormat::Json => (
            "json",
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
        ),
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, &content).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(Report::new(
                json!({ "written": path, "format": format, "agreements": doc.agreements.len() }),
                format!(
                    "Wrote {} to {} ({format}).\n",
                    plural(doc.agreements.len(), "agreement"),
                    path.display()
                ),
            ))
        }
        None => {
            let json = match a.format {
                ExportFormat::Json => serde_json::to_value(&doc).unwrap_or_default(),
                ExportFormat::Markdown => json!({ "format": "markdown", "content": content }),
            };
            Ok(Report {
                json,
                text: content,
                note: None,
            })
        }
    }
}
