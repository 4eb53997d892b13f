//! Agreements and their vocabulary: categories, kinds, commitment strengths, who they concern,
//! review cadences, statuses, and the input limits.

use crate::error::{Error, Result};
use crate::ids::{AgreementId, DeviceId, PartnerId};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest accepted details text, in characters.
pub const MAX_DETAILS_CHARS: usize = 5_000;
/// Longest accepted free text (notes, reasons, concern texts, log texts), in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest accepted display name or custom category, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// Trims `value` and checks it against `max` characters; `required` refuses an empty value.
pub(crate) fn clean_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(Error::invalid(
            field,
            format!("is {chars} characters long; at most {max} are allowed"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "contains control characters"));
    }
    Ok(trimmed.to_owned())
}

macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:expr, $label:expr;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// The stable text stored in the document (snake case).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
            /// Human-readable label.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }
            /// Parses the stored text or the label (case-insensitive; spaces, dashes and underscores alike).
            pub fn parse(text: &str) -> Option<Self> {
                let norm = normalize(text);
                $name::ALL.iter().copied().find(|v| normalize(v.as_str()) == norm || normalize(v.label()) == norm)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.label()) }
        }
    };
}

fn normalize(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

str_enum!(
    /// What sort of commitment an entry is.
    Kind {
        /// A joint rule both partners keep.
        Agreement => "agreement", "agreement";
        /// A limit of one partner that the other respects.
        Boundary => "boundary", "boundary";
        /// What one partner hopes for; a step toward an agreement.
        Expectation => "expectation", "expectation";
        /// "I'll try my best."
        Intention => "intention", "intention";
    }
);

str_enum!(
    /// How strongly a partner commits.
    Strength {
        /// "I promise."
        Promise => "promise", "I promise";
        /// "I'll try my best."
        TryMyBest => "try_my_best", "I'll try my best";
        /// A trial with a review date.
        Experiment => "experiment", "experiment";
    }
);

str_enum!(
    /// The fixed categories of DOMAIN.md (custom ones are [`Category::Custom`]).
    StandardCategory {
        /// Communication.
        Communication => "communication", "communication";
        /// Time together.
        TimeTogether => "time_together", "time together";
        /// Personal space.
        PersonalSpace => "personal_space", "personal space";
        /// Finances.
        Finances => "finances", "finances";
        /// Household.
        Household => "household", "household";
        /// Intimacy and fidelity.
        IntimacyAndFidelity => "intimacy_and_fidelity", "intimacy and fidelity";
        /// Digital life.
        DigitalLife => "digital_life", "digital life";
        /// Family and friends.
        FamilyAndFriends => "family_and_friends", "family and friends";
        /// Conflict rules.
        ConflictRules => "conflict_rules", "conflict rules";
        /// Repair.
        Repair => "repair", "repair";
        /// Check-ins.
        CheckIns => "check_ins", "check-ins";
        /// Values and goals.
        ValuesAndGoals => "values_and_goals", "values and goals";
    }
);

/// An agreement's category: one of the standard ones or a custom name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Category {
    /// One of DOMAIN.md's categories.
    Standard(StandardCategory),
    /// A category the couple named themselves.
    Custom(String),
}

impl Category {
    /// Parses a standard category by name or label, `custom:NAME` (the stored form) as a custom
    /// category; anything else becomes a custom category too.
    pub fn parse(text: &str) -> Result<Self> {
        if let Some(name) = text.trim().strip_prefix("custom:") {
            return Ok(Category::Custom(clean_text(
                "category",
                name,
                MAX_NAME_CHARS,
                true,
            )?));
        }
        if let Some(standard) = StandardCategory::parse(text) {
            return Ok(Category::Standard(standard));
        }
        Ok(Category::Custom(clean_text(
            "category",
            text,
            MAX_NAME_CHARS,
            true,
        )?))
    }

    /// The stable text stored in the document.
    pub fn to_stored(&self) -> String {
        match self {
            Category::Standard(c) => c.as_str().to_owned(),
            Category::Custom(name) => format!("custom:{name}"),
        }
    }

    /// Reads the stored text; `None` if it is not a valid category.
    pub fn from_stored(text: &str) -> Option<Self> {
        if let Some(name) = text.strip_prefix("custom:") {
            return (!name.is_empty()).then(|| Category::Custom(name.to_owned()));
        }
        StandardCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .map(Category::Standard)
    }

    /// Human-readable label.
    pub fn label(&self) -> &str {
        match self {
            Category::Standard(c) => c.label(),
            Category::Custom(name) => name,
        }
    }
}

/// Who an agreement concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Concerns {
    /// Both partners.
    Both,
    /// One partner only (e.g. that partner's boundary or intention).
    Partner(PartnerId),
}

impl Concerns {
    /// The stable text stored in the document.
    pub fn to_stored(&self) -> String {
        match self {
            Concerns::Both => "both".to_owned(),
            Concerns::Partner(p) => format!("partner:{p}"),
        }
    }

    /// Reads the stored text; `None` if it is not valid.
    pub fn from_stored(text: &str) -> Option<Self> {
        if text == "both" {
            return Some(Concerns::Both);
        }
        text.strip_prefix("partner:")
            .filter(|p| !p.is_empty())
            .map(|p| Concerns::Partner(PartnerId(p.to_owned())))
    }

    /// Whether this concerns `partner`.
    pub fn includes(&self, partner: &PartnerId) -> bool {
        match self {
            Concerns::Both => true,
            Concerns::Partner(p) => p == partner,
        }
    }
}

/// Unit of a review cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CadenceUnit {
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Calendar months.
    Months,
}

/// How often an agreement is reviewed, e.g. every 3 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReviewCadence {
    /// How many units between reviews (1..=120).
    pub every: u32,
    /// The unit.
    pub unit: CadenceUnit,
}

impl ReviewCadence {
    /// A validated cadence.
    pub fn new(every: u32, unit: CadenceUnit) -> Result<Self> {
        if every == 0 || every > 120 {
            return Err(Error::invalid(
                "review cadence",
                format!("{every} is out of range: use 1 to 120"),
            ));
        }
        Ok(ReviewCadence { every, unit })
    }

    /// Parses text like `2 weeks`, `1 month`, `3m`, `10d`, `quarterly`, `monthly`, `weekly`.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim().to_lowercase();
        let named = match t.as_str() {
            "daily" => Some((1, CadenceUnit::Days)),
            "weekly" => Some((1, CadenceUnit::Weeks)),
            "monthly" => Some((1, CadenceUnit::Months)),
            "quarterly" => Some((3, CadenceUnit::Months)),
            "yearly" | "annually" => Some((12, CadenceUnit::Months)),
            _ => None,
        };
        if let Some((every, unit)) = named {
            return ReviewCadence::new(every, unit);
        }
        let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
        let rest = t[digits.len()..].trim();
        let every: u32 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| {
                Error::invalid("review cadence", format!("'{text}' has an invalid number"))
            })?
        };
        let unit = match rest {
            "d" | "day" | "days" => CadenceUnit::Days,
            "w" | "week" | "weeks" => CadenceUnit::Weeks,
            "m" | "mo" | "month" | "months" => CadenceUnit::Months,
            "y" | "year" | "years" => {
                return ReviewCadence::new(every.saturating_mul(12), CadenceUnit::Months)
            }
            _ => {
                return Err(Error::invalid(
                    "review cadence",
                    format!(
                        "'{text}' is not understood: write e.g. '2 weeks', '1 month' or '3 months'"
                    ),
                ))
            }
        };
        ReviewCadence::new(every, unit)
    }

    /// The cadence in words, e.g. `1 month` or `3 months`.
    pub fn describe(&self) -> String {
        let unit = match self.unit {
            CadenceUnit::Days => "day",
            CadenceUnit::Weeks => "week",
            CadenceUnit::Months => "month",
        };
        if self.every == 1 {
            format!("1 {unit}")
        } else {
            format!("{} {unit}s", self.every)
        }
    }

    /// The stable text stored in the document, e.g. `3 months`.
    pub fn to_stored(&self) -> String {
        let unit = match self.unit {
            CadenceUnit::Days => "days",
            CadenceUnit::Weeks => "weeks",
            CadenceUnit::Months => "months",
        };
        format!("{} {unit}", self.every)
    }

    /// Reads the stored text; `None` if it is not valid.
    pub fn from_stored(text: &str) -> Option<Self> {
        let (n, unit) = text.split_once(' ')?;
        let every: u32 = n.parse().ok()?;
        let unit = match unit {
            "days" => CadenceUnit::Days,
            "weeks" => CadenceUnit::Weeks,
            "months" => CadenceUnit::Months,
            _ => return None,
        };
        ReviewCadence::new(every, unit).ok()
    }

    /// The date one cadence after `from` (month steps clamp to the month's last day).
    pub fn after(&self, from: NaiveDate) -> NaiveDate {
        let next = match self.unit {
            CadenceUnit::Days => from.checked_add_days(chrono::Days::new(self.every.into())),
            CadenceUnit::Weeks => {
                from.checked_add_days(chrono::Days::new(u64::from(self.every) * 7))
            }
            CadenceUnit::Months => from.checked_add_months(Months::new(self.every)),
        };
        next.unwrap_or(NaiveDate::MAX)
    }
}

/// The wording partners consent to: any change here needs both partners to accept again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Content {
    /// Short title.
    pub title: String,
    /// Details; measurable wording where possible.
    pub details: String,
    /// Kind of commitment.
    pub kind: Kind,
    /// Commitment strength.
    pub strength: Strength,
    /// Who it concerns.
    pub concerns: Concerns,
}

impl Content {
    /// The fingerprint of these exact words (hex SHA-256 of a canonical encoding).
    pub fn hash(&self) -> String {
        hex::encode(self.hash_bytes())
    }

    /// [`Content::hash`] as bytes.
    pub(crate) fn hash_bytes(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in [
            "accord-content-v1",
            &self.title,
            &self.details,
            self.kind.as_str(),
            self.strength.as_str(),
            &self.concerns.to_stored(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().into()
    }
}

/// What a partner fills in to write a new agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewAgreement {
    /// Short title (required).
    pub title: String,
    /// Details (may be empty).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub details: String,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: Kind,
    /// Strength.
    pub strength: Strength,
    /// Who it concerns.
    pub concerns: Concerns,
    /// How often to review it, if at all.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub review_every: Option<ReviewCadence>,
    /// When `true`, it stays a draft: the author has not accepted it yet.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub draft: bool,
}

impl NewAgreement {
    /// A proposal with the given title and defaults: communication, agreement, "try my best",
    /// concerns both, no review cadence.
    pub fn titled(title: impl Into<String>) -> Self {
        NewAgreement {
            title: title.into(),
            details: String::new(),
            category: Category::Standard(StandardCategory::Communication),
            kind: Kind::Agreement,
            strength: Strength::TryMyBest,
            concerns: Concerns::Both,
            review_every: None,
            draft: false,
        }
    }
}

/// A change to some fields of an agreement; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgreementEdit {
    /// New title.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub title: Option<String>,
    /// New details.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub details: Option<String>,
    /// New category.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub category: Option<Category>,
    /// New kind.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub kind: Option<Kind>,
    /// New strength.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub strength: Option<Strength>,
    /// New "who it concerns".
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub concerns: Option<Concerns>,
    /// A new review cadence, or its removal.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_even_if_null"
    )]
    pub review_every: Option<CadenceChange>,
    /// New next review date.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub next_review: Option<NaiveDate>,
}

/// A change of an agreement's review cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CadenceChange {
    /// Review it at this cadence from now on.
    Set {
        /// The new cadence.
        cadence: ReviewCadence,
    },
    /// Stop reviewing it on a schedule.
    Remove,
}

impl CadenceChange {
    /// The cadence after the change (`None` once removed).
    pub fn cadence(self) -> Option<ReviewCadence> {
        match self {
            CadenceChange::Set { cadence } => Some(cadence),
            CadenceChange::Remove => None,
        }
    }
}

// Stored (in the intent log) as the cadence, or `null` for a removal.
impl Serialize for CadenceChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.cadence().serialize(serializer)
    }
}

/// Reads a cadence change that is present, even when its value is `null` (a removal); an
/// absent field is `None`, "leave it".
fn present_even_if_null<'de, D>(deserializer: D) -> Result<Option<CadenceChange>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let cadence = Option::<ReviewCadence>::deserialize(deserializer)?;
    Ok(Some(match cadence {
        Some(cadence) => CadenceChange::Set { cadence },
        None => CadenceChange::Remove,
    }))
}

impl AgreementEdit {
    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == AgreementEdit::default()
    }
}

/// A field of an agreement that partners edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Field {
    /// Title (wording).
    Title,
    /// Details (wording).
    Details,
    /// Kind (wording).
    Kind,
    /// Strength (wording).
    Strength,
    /// Who it concerns (wording).
    Concerns,
    /// Category.
    Category,
    /// Review cadence.
    ReviewEvery,
    /// Next review date.
    NextReview,
}

impl Field {
    /// Every editable field.
    pub const ALL: [Field; 8] = [
        Field::Title,
        Field::Details,
        Field::Kind,
        Field::Strength,
        Field::Concerns,
        Field::Category,
        Field::ReviewEvery,
        Field::NextReview,
    ];

    /// The key of the field in the document and in the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Details => "details",
            Field::Kind => "kind",
            Field::Strength => "strength",
            Field::Concerns => "concerns",
            Field::Category => "category",
            Field::ReviewEvery => "review_every",
            Field::NextReview => "next_review",
        }
    }

    /// Parses a field key (`title`, `details`, ...).
    pub fn parse(text: &str) -> Result<Self> {
        let norm = normalize(text);
        Field::ALL
            .iter()
            .copied()
            .find(|f| normalize(f.key()) == norm)
            .ok_or_else(|| {
                Error::invalid(
                    "field",
                    format!("'{text}' is not a field; use one of title, details, kind, strength, concerns, category, review_every, next_review"),
                )
            })
    }

    /// Whether the field is part of the wording partners consent to.
    pub fn is_wording(self) -> bool {
        matches!(
            self,
            Field::Title | Field::Details | Field::Kind | Field::Strength | Field::Concerns
        )
    }
}

/// Where an agreement stands; derived from the data so every replica computes the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Status {
    /// Written, not accepted by anyone yet.
    Draft,
    /// One partner accepted the current wording.
    Proposed,
    /// Both partners accepted the current wording.
    Active,
    /// Was active; someone asked to revisit it, or the wording changed since.
    NeedsRenegotiation,
    /// Two rewrites of the same field met; both versions are kept until resolved.
    Conflicted,
    /// Retired with a reason; kept in history.
    Retired,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Proposed,
        Status::Active,
        Status::NeedsRenegotiation,
        Status::Conflicted,
        Status::Retired,
    ];

    /// Stable text, e.g. `needs_renegotiation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Proposed => "proposed",
            Status::Active => "active",
            Status::NeedsRenegotiation => "needs_renegotiation",
            Status::Conflicted => "conflicted",
            Status::Retired => "retired",
        }
    }

    /// The status in words, e.g. `needs renegotiation`.
    pub fn words(self) -> &'static str {
        match self {
            Status::NeedsRenegotiation => "needs renegotiation",
            other => other.as_str(),
        }
    }

    /// Parses the stable text (dashes, spaces and case ignored).
    pub fn parse(text: &str) -> Result<Self> {
        let norm = normalize(text);
        Status::ALL
            .iter()
            .copied()
            .find(|s| normalize(s.as_str()) == norm)
            .ok_or_else(|| Error::invalid("status", format!("'{text}' is not a status; use draft, proposed, active, needs_renegotiation, conflicted or retired")))
    }
}

/// One candidate value of a field in conflict, with who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Candidate {
    /// The value as text.
    pub value: String,
    /// The partner whose device wrote it, if known.
    pub author: Option<PartnerId>,
    /// The device that wrote it, if known.
    pub device: Option<DeviceId>,
}

/// A field with concurrent values: nothing is lost until a partner resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldConflict {
    /// The field.
    pub field: Field,
    /// Every concurrent value, in a deterministic order.
    pub candidates: Vec<Candidate>,
}

/// A partner's consent to exact words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Acceptance {
    /// The partner who accepted.
    pub partner: PartnerId,
    /// The device that recorded it.
    pub device: DeviceId,
    /// Fingerprint of the accepted content.
    pub content_hash: String,
    /// Whether it matches the current wording.
    pub current: bool,
    /// When, by the accepting device's clock (display only).
    pub at: DateTime<Utc>,
}

/// A value that changed since a partner accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldChange {
    /// The field.
    pub field: Field,
    /// Its value when the partner accepted.
    pub accepted: String,
    /// Its value now (candidates joined with " | " when in conflict).
    pub now: String,
    /// From `accepted` to `now` word by word, for the words and the details (empty for the
    /// other fields, whose values are shown whole).
    pub words: Vec<crate::word_diff::WordRun>,
}

impl FieldChange {
    /// The change of `field` from `accepted` to `now`, with its word diff where it has one.
    pub fn new(field: Field, accepted: String, now: String) -> Self {
        let words = match field {
            Field::Title | Field::Details => crate::word_diff::word_diff(&accepted, &now),
            _ => Vec::new(),
        };
        FieldChange {
            field,
            accepted,
            now,
            words,
        }
    }
}

/// What changed since one partner's latest acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PartnerChanges {
    /// The partner.
    pub partner: PartnerId,
    /// Each field whose value differs from the words they accepted.
    pub changes: Vec<FieldChange>,
}

/// A retirement of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Retirement {
    /// Who retired it.
    pub partner: PartnerId,
    /// Why.
    pub reason: String,
    /// When (display only).
    pub at: DateTime<Utc>,
}

/// The list view of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgreementSummary {
    /// Id.
    pub id: AgreementId,
    /// Title (candidates joined with " | " while in conflict).
    pub title: String,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: Kind,
    /// Strength.
    pub strength: Strength,
    /// Who it concerns.
    pub concerns: Concerns,
    /// Status.
    pub status: Status,
    /// Partners holding an acceptance of the current wording.
    pub accepted_by: Vec<PartnerId>,
    /// Next review date, if any.
    pub next_review: Option<NaiveDate>,
    /// Creation time (display only).
    pub created_at: DateTime<Utc>,
}

/// Everything about one agreement, for its detail screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgreementDetails {
    /// The list view fields.
    pub summary: AgreementSummary,
    /// Details text (candidates joined with " | " while in conflict).
    pub details: String,
    /// The current content fingerprint (`None` while the wording is in conflict).
    pub content_hash: Option<String>,
    /// Review cadence.
    pub review_every: Option<ReviewCadence>,
    /// Who wrote it first.
    pub created_by: PartnerId,
    /// Fields in conflict with every candidate.
    pub conflicts: Vec<FieldConflict>,
    /// Each partner's latest acceptance.
    pub acceptances: Vec<Acceptance>,
    /// For each partner whose latest acceptance is not of the current wording: what changed since.
    pub changes_since_acceptance: Vec<PartnerChanges>,
    /// Retirement, if retired.
    pub retirement: Option<Retirement>,
    /// Whether someone asked to renegotiate and the partners have not both re-accepted.
    pub renegotiation_requested: bool,
}
