//! The couple's agreements as one readable document: Markdown to print or bring to a
//! counselling session, or the same data as JSON. The CLI's `export` and the apps'
//! "export" both come from here.

use crate::agreement::{AgreementDetails, Concerns, Kind, Status, Strength};
use crate::ids::{AgreementId, PartnerId};
use crate::space::{ListFilter, Space, SpaceInfo};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The exported document.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// When it was exported.
    pub exported_at: DateTime<Utc>,
    /// The time zone of the partner who exported it; dates are shown in it.
    pub time_zone: String,
    /// The partners, by name.
    pub partners: Vec<ExportPartner>,
    /// Every agreement, retired ones included, in the space's order.
    pub agreements: Vec<ExportAgreement>,
}

/// A partner.
#[derive(Debug, Clone, Serialize)]
pub struct ExportPartner {
    /// Id.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Time zone.
    pub time_zone: String,
}

/// One agreement.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct ExportAcceptance {
    /// The partner's name.
    pub partner: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether it is an acceptance of the current words (else of an earlier version).
    pub current: bool,
}

/// A retirement.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRetirement {
    /// The partner's name.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Space {
    /// Every agreement of the space as an [`Export`] made at `now`.
    pub fn export(&mut self, now: DateTime<Utc>) -> Result<Export> {
        let info = self.info()?;
        let mut agreements = Vec::new();
        for s in self.list(&ListFilter::default())? {
            agreements.push(agreement(self.agreement(&s.id)?, &info));
        }
        let time_zone = info
            .partners
            .iter()
            .find(|p| p.id == info.me)
            .map(|p| p.time_zone.clone())
            .unwrap_or_else(|| "UTC".into());
        Ok(Export {
            exported_at: now,
            time_zone,
            partners: info
                .partners
                .iter()
                .map(|p| ExportPartner {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    time_zone: p.time_zone.clone(),
                })
                .collect(),
            agreements,
        })
    }
}

fn name(info: &SpaceInfo, id: &PartnerId) -> String {
    info.partners
        .iter()
        .find(|p| &p.id == id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| {
            format!(
                "partner {}",
                id.as_str().chars().take(8).collect::<String>()
            )
        })
}

fn agreement(d: AgreementDetails, info: &SpaceInfo) -> ExportAgreement {
    let s = d.summary;
    ExportAgreement {
        id: s.id,
        title: s.title,
        category: s.category.label().to_owned(),
        kind: s.kind,
        strength: s.strength,
        concerns: match &s.concerns {
            Concerns::Both => "both".into(),
            Concerns::Partner(p) => name(info, p),
        },
        status: s.status,
        details: d.details,
        acceptances: d
            .acceptances
            .iter()
            .map(|a| ExportAcceptance {
                partner: name(info, &a.partner),
                at: a.at,
                current: a.current,
            })
            .collect(),
        review_every: d.review_every.as_ref().map(|c| c.describe()),
        next_review: s.next_review,
        renegotiation_requested: d.renegotiation_requested,
        written_by: name(info, &d.created_by),
        written_at: s.created_at,
        retirement: d.retirement.map(|r| ExportRetirement {
            by: name(info, &r.partner),
            reason: r.reason,
            at: r.at,
        }),
    }
}

impl Export {
    /// The export as a Markdown document, dates in the exporting partner's time zone.
    pub fn to_markdown(&self) -> String {
        let tz: chrono_tz::Tz = self.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let day = |at: &DateTime<Utc>| at.with_timezone(&tz).date_naive();
        let mut out = String::from("# Our agreements\n\n");
        let who: Vec<&str> = self.partners.iter().map(|p| p.name.as_str()).collect();
        let count = match self.agreements.len() {
            1 => "1 agreement".to_owned(),
            n => format!("{n} agreements"),
        };
        out.push_str(&format!(
            "{} · exported {} · {count}\n\n",
            if who.is_empty() {
                "Accord".to_owned()
            } else {
                who.join(" and ")
            },
            day(&self.exported_at),
        ));
        if self.agreements.is_empty() {
            out.push_str("No agreements yet.\n");
            return out;
        }
        let (retired, current): (Vec<&ExportAgreement>, Vec<&ExportAgreement>) = self
            .agreements
            .iter()
            .partition(|a| a.status == Status::Retired);
        let mut category = None;
        for a in current {
            if category != Some(&a.category) {
                out.push_str(&format!("## {}\n\n", capitalise(&a.category)));
                category = Some(&a.category);
            }
            a.markdown(&day, &mut out);
        }
        if !retired.is_empty() {
            out.push_str("## Retired agreements\n\n");
            for a in retired {
                a.markdown(&day, &mut out);
            }
        }
        out
    }
}

impl ExportAgreement {
    fn markdown(&self, day: &dyn Fn(&DateTime<Utc>) -> NaiveDate, out: &mut String) {
        out.push_str(&format!("### {}\n\n", one_line(&self.title)));
        out.push_str(&format!("- **Status:** {}\n", self.status.words()));
        out.push_str(&format!(
            "- **Kind:** {} · **Strength:** {} · **Concerns:** {}\n",
            self.kind.label(),
            self.strength.label(),
            self.concerns
        ));
        let current: Vec<String> = self
            .acceptances
            .iter()
            .filter(|x| x.current)
            .map(|x| format!("{} ({})", x.partner, day(&x.at)))
            .collect();
        out.push_str(&format!(
            "- **Accepted by:** {}\n",
            if current.is_empty() {
                "nobody yet".to_owned()
            } else {
                current.join(", ")
            }
        ));
        for x in self.acceptances.iter().filter(|x| !x.current) {
            out.push_str(&format!(
                "- {} accepted an earlier version ({}), not these words\n",
                x.partner,
                day(&x.at)
            ));
        }
        match (&self.review_every, &self.next_review) {
            (Some(c), Some(d)) => out.push_str(&format!("- **Review:** every {c}, next on {d}\n")),
            (Some(c), None) => out.push_str(&format!("- **Review:** every {c}\n")),
            (None, Some(d)) => out.push_str(&format!("- **Review:** on {d}\n")),
            (None, None) => {}
        }
        if self.renegotiation_requested {
            out.push_str("- **Renegotiation requested**\n");
        }
        out.push_str(&format!(
            "- **Written by:** {} ({})\n",
            self.written_by,
            day(&self.written_at)
        ));
        if let Some(r) = &self.retirement {
            out.push_str(&format!(
                "- **Retired** by {} on {}: {}\n",
                r.by,
                day(&r.at),
                one_line(&r.reason)
            ));
        }
        if !self.details.trim().is_empty() {
            out.push('\n');
            for line in self.details.trim().lines() {
                out.push_str(&format!("> {line}\n"));
            }
        }
        out.push('\n');
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
