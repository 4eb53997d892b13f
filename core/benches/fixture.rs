//! The benchmark fixture, shared by `benches/core.rs` and `examples/peak_memory.rs`
//! (included with `#[path]`): Alex's device directory holding a space with 500 agreements
//! built by ~50,000 changes from two partners.
//!
//! It is built once with the real API (on `/dev/shm` when it exists, since every write
//! fsyncs), compacted, closed (which writes the view cache), copied to
//! `<target>/tmp/accord-bench-fixture-v4/` and reused from then on. A marker file written last
//! says the fixture is complete; it also records the fixture's clock and change count.
//!
//! `ACCORD_BENCH_FIXTURE_DIR` overrides where fixtures are kept; `ACCORD_BENCH_CHANGES`
//! builds a fixture of another size (in its own directory).
#![allow(dead_code)]

use accord_core::{
    AgreementEdit, AgreementId, CadenceUnit, Category, ConcernId, Concerns, CreateSpace,
    DeviceIdentity, Kind, LogKind, NewAgreement, NewConcern, PartnerId, ReviewCadence, Space,
    StandardCategory, Strength,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Agreements in the fixture.
pub const AGREEMENTS: usize = 500;
/// Changes in the fixture's document (default).
pub const CHANGES: usize = 50_000;
/// Bumped when the stored caches change format (v11: the write basis in `view.json`, no
/// `edits.json`).
const VERSION: &str = "accord-bench-fixture-v11";
const MARKER: &str = "complete.txt";
/// Writes between two exchanges of changes between the partners.
const BATCH: usize = 200;
/// Agreements created as drafts and left alone (they wait for a partner on the agenda).
const DRAFTS: usize = 10;
/// Agreements retired during the history.
const RETIRED: usize = 15;

/// A finished fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Alex's device directory (open copies of it, never this one).
    pub alex: PathBuf,
    /// Changes in the document.
    pub changes: usize,
    /// The time of the fixture's last write; benches run "now" a day later.
    pub last_write: DateTime<Utc>,
}

impl Fixture {
    /// "Now" for operations on the fixture.
    pub fn now(&self) -> DateTime<Utc> {
        self.last_write + Duration::days(1)
    }
}

fn target_changes() -> usize {
    std::env::var("ACCORD_BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CHANGES)
}

/// Where fixtures and bench copies live: `ACCORD_BENCH_FIXTURE_DIR`, else the cargo target
/// tmp dir (`CARGO_TARGET_TMPDIR` for benches; derived from the executable's path for
/// examples), else the system temp dir.
pub fn base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ACCORD_BENCH_FIXTURE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = option_env!("CARGO_TARGET_TMPDIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/examples/<exe> -> target/tmp
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe.ancestors().nth(3) {
            if target.join("CACHEDIR.TAG").exists() {
                return target.join("tmp");
            }
        }
    }
    std::env::temp_dir()
}

fn fixture_root() -> PathBuf {
    let n = target_changes();
    if n == CHANGES {
        base_dir().join(VERSION)
    } else {
        base_dir().join(format!("{VERSION}-c{n}"))
    }
}

/// Returns the fixture, building it first if no complete one exists.
pub fn ensure() -> Fixture {
    let root = fixture_root();
    if let Some(f) = read_marker(&root) {
        return f;
    }
    eprintln!(
        "building the benchmark fixture ({AGREEMENTS} agreements, {} changes) in {} ...",
        target_changes(),
        root.display()
    );
    let started = Instant::now();
    let parent = root.parent().expect("fixture root has a parent");
    std::fs::create_dir_all(parent).expect("create fixture parent");
    let scratch_parent = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        parent.to_path_buf()
    };
    let scratch = tempfile::Builder::new()
        .prefix("accord-bench-build-")
        .tempdir_in(&scratch_parent)
        .expect("scratch dir");
    let (changes, last_write) = build(scratch.path(), target_changes());
    // Copy the finished directory next to its final place, mark it complete, then rename.
    let staging = tempfile::Builder::new()
        .prefix(&format!("{VERSION}.staging-"))
        .tempdir_in(parent)
        .expect("staging dir");
    copy_dir(&scratch.path().join("alex"), &staging.path().join("alex"));
    let secs = started.elapsed().as_secs_f64();
    std::fs::write(
        staging.path().join(MARKER),
        format!(
            "changes={changes}\nlast_write_ms={}\nbuild_seconds={secs:.1}\n",
            last_write.timestamp_millis()
        ),
    )
    .expect("write marker");
    let staging = staging.keep();
    if std::fs::rename(&staging, &root).is_err() {
        // Someone else finished first: use theirs.
        let _ = std::fs::remove_dir_all(&staging);
    }
    eprintln!("fixture built in {secs:.1} s ({changes} changes)");
    read_marker(&root).expect("fixture marker after build")
}

fn read_marker(root: &Path) -> Option<Fixture> {
    let text = std::fs::read_to_string(root.join(MARKER)).ok()?;
    let field = |name: &str| -> Option<i64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some(Fixture {
        alex: root.join("alex"),
        changes: field("changes")? as usize,
        last_write: Utc.timestamp_millis_opt(field("last_write_ms")?).single()?,
    })
}

/// Copies every file of `from` (recursively) into the new directory `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy dir");
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// A fresh copy of Alex's directory, removed when the returned guard drops. Copies live next
/// to the fixture (on the target dir's disk, so fsync costs are real).
/// The id of the first agreement in the fixture's view cache (without opening the space).
pub fn first_agreement(dir: &Path) -> AgreementId {
    let bytes = std::fs::read(dir.join("view.json")).expect("view cache");
    let view: serde_json::Value = serde_json::from_slice(&bytes).expect("view json");
    let id = view["agreements"][0]["id"]
        .as_str()
        .expect("an agreement id");
    AgreementId(id.to_owned())
}

pub fn fresh_copy(fixture: &Fixture) -> (tempfile::TempDir, PathBuf) {
    let runs = base_dir().join("accord-bench-runs");
    std::fs::create_dir_all(&runs).expect("create runs dir");
    let tmp = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&runs)
        .expect("run dir");
    let dir = tmp.path().join("alex");
    copy_dir(&fixture.alex, &dir);
    (tmp, dir)
}

// ----- building ------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so every build writes the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TITLE_VERBS: &[&str] = &[
    "Check in with each other before",
    "Talk openly about",
    "Share our plans for",
    "Split the work of",
    "Agree ahead of time on",
    "Ask the other first before",
    "Set aside real time for",
    "Keep each other posted about",
    "Take turns organising",
    "Give honest notice about",
];
const TITLE_OBJECTS: &[&str] = &[
    "weekend trips with friends",
    "shared grocery spending",
    "late-night phone use",
    "holiday visits to family",
    "cleaning the kitchen",
    "saving for the new flat",
    "date nights",
    "time alone after work",
    "big purchases",
    "how we argue",
    "meeting new people",
    "the household calendar",
    "looking after the dog",
    "sleep and morning routines",
];
const SENTENCES: &[&str] = &[
    "We both say so out loud when something about this starts to bother us.",
    "If one of us cannot keep to it this week, we say so a day ahead, not after.",
    "We look at how it went at our monthly check-in and adjust the numbers if needed.",
    "Neither of us keeps score; a missed week is a reason to talk, not to blame.",
    "The one who notices first brings it up calmly, at a time that suits both of us.",
    "We write down what we decided so there is no argument later about the details.",
    "Money above 150 euros is discussed before it is spent, except in emergencies.",
    "When we disagree we take a twenty-minute break and then come back to it.",
    "Friends and family hear about our plans only after we have agreed between us.",
    "We try it for a month and then decide together whether to keep it this way.",
];
const LOG_TEXTS: &[&str] = &[
    "Went well this week.",
    "Forgot on Tuesday, made up for it on Wednesday.",
    "Missed it; work ran late and I did not say so in time.",
    "",
    "Talked about it over dinner, felt good.",
];

fn pad_to(mut s: String, min: usize, max: usize, fill: &[&str], mut k: usize) -> String {
    while s.len() < min {
        s.push(' ');
        s.push_str(fill[k % fill.len()]);
        k += 1;
    }
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s = s.trim_end().to_owned();
    }
    s
}

/// A title of about 60 characters.
fn title(i: usize, rev: usize) -> String {
    let base = format!(
        "{} {} (#{i}{})",
        TITLE_VERBS[i % TITLE_VERBS.len()],
        TITLE_OBJECTS[(i / TITLE_VERBS.len()) % TITLE_OBJECTS.len()],
        if rev == 0 {
            String::new()
        } else {
            format!(", v{rev}")
        }
    );
    pad_to(base, 56, 64, &["together", "every week", "without fuss"], i)
}

/// Details of about 300 characters; `rev` varies them per edit.
fn details(i: usize, rev: usize) -> String {
    let mut s = String::new();
    let mut k = i + rev * 3;
    if rev > 0 {
        s.push_str(&format!("Revision {rev}. "));
    }
    while s.len() < 290 {
        s.push_str(SENTENCES[k % SENTENCES.len()]);
        s.push(' ');
        k += 7;
    }
    pad_to(s.trim_end().to_owned(), 290, 320, SENTENCES, k)
}

struct Concern {
    id: ConcernId,
    raised_by: usize,
    /// 0 raised, 1 acknowledged and answered.
    stage: u8,
    /// Left open on purpose (shows on the agenda).
    stays_open: bool,
}

/// Every change of the space, without the devices' checkpoints that travel with them.
fn count_changes(space: &mut Space) -> usize {
    space
        .changes_since(&[])
        .expect("all changes")
        .iter()
        .filter(|item| !item.starts_with(b"ACKP"))
        .count()
}

struct Builder {
    spaces: [Space; 2],
    partners: [PartnerId; 2],
    ids: Vec<AgreementId>,
    cadence: Vec<bool>,
    drafts: BTreeSet<usize>,
    retired: BTreeSet<usize>,
    /// Agreements each partner still has to accept.
    to_accept: [BTreeSet<usize>; 2],
    concerns: Vec<Concern>,
    revisions: Vec<usize>,
    changes: usize,
    clock: DateTime<Utc>,
    rng: Rng,
}

impl Builder {
    fn tick(&mut self) -> DateTime<Utc> {
        // Roughly 50,000 writes over two years.
        self.clock += Duration::minutes(20);
        self.clock
    }

    /// Runs one write on partner `p`'s space and counts the change it made (if any).
    fn write(&mut self, p: usize, f: impl FnOnce(&mut Space, DateTime<Utc>)) {
        let now = self.tick();
        let before = self.spaces[p].heads().expect("heads");
        f(&mut self.spaces[p], now);
        if self.spaces[p].heads().expect("heads") != before {
            self.changes += 1;
        }
    }

    /// Sends partner `from`'s changes to the other partner.
    fn send(&mut self, from: usize) {
        let to = 1 - from;
        let heads = self.spaces[to].heads().expect("heads");
        let changes = self.spaces[from].changes_since(&heads).expect("changes");
        self.spaces[to].apply_changes(&changes).expect("apply");
    }

    fn editable(&mut self) -> usize {
        loop {
            let i = self.rng.below(self.ids.len());
            if !self.drafts.contains(&i) && !self.retired.contains(&i) {
                return i;
            }
        }
    }

    fn wording_edit(&mut self, p: usize, i: usize, edit: AgreementEdit) {
        let id = self.ids[i].clone();
        self.write(p, |s, now| s.edit_agreement(&id, edit, now).expect("edit"));
        self.to_accept[p].remove(&i);
        self.to_accept[1 - p].insert(i);
    }

    /// One of partner `p`'s turns: accept what the other changed, move concerns along, then
    /// a batch of everyday writes.
    fn turn(&mut self, p: usize, target: usize) {
        for i in std::mem::take(&mut self.to_accept[p]) {
            if self.changes >= target {
                return;
            }
            if self.retired.contains(&i) {
                continue;
            }
            let id = self.ids[i].clone();
            self.write(p, |s, now| s.accept(&id, now).expect("accept"));
        }
        let mut concerns = std::mem::take(&mut self.concerns);
        for c in concerns.iter_mut() {
            if self.changes >= target {
                break;
            }
            let id = c.id.clone();
            if c.stage == 0 && c.raised_by != p {
                self.write(p, |s, now| s.acknowledge_concern(&id, now).expect("ack"));
                self.write(p, |s, now| {
                    s.respond_to_concern(
                        &id,
                        "I am sorry; I will tell you earlier next time and we can plan it together.",
                        now,
                    )
                    .expect("respond")
                });
                c.stage = 1;
            } else if c.stage == 1 && c.raised_by == p && !c.stays_open {
                self.write(p, |s, now| s.resolve_concern(&id, now).expect("resolve"));
                c.stage = 2;
            }
        }
        concerns.retain(|c| c.stage < 2);
        self.concerns = concerns;

        for _ in 0..BATCH {
            if self.changes >= target {
                return;
            }
            let roll = self.rng.below(100);
            let i = self.editable();
            let id = self.ids[i].clone();
            match roll {
                // Rewording the details: the other partner must accept again.
                0..=55 => {
                    self.revisions[i] += 1;
                    let d = details(i, self.revisions[i]);
                    self.wording_edit(
                        p,
                        i,
                        AgreementEdit {
                            details: Some(d),
                            ..Default::default()
                        },
                    );
                }
                56..=58 => {
                    self.revisions[i] += 1;
                    let t = title(i, self.revisions[i]);
                    self.wording_edit(
                        p,
                        i,
                        AgreementEdit {
                            title: Some(t),
                            ..Default::default()
                        },
                    );
                }
                // Reviews and other non-wording edits.
                59..=64 => {
                    if self.cadence[i] {
                        self.write(p, |s, now| {
                            s.mark_reviewed(&id, now.date_naive(), now)
                                .expect("mark reviewed")
                        });
                    } else {
                        let category = Category::Standard(
                            StandardCategory::ALL[self.rng.below(StandardCategory::ALL.len())],
                        );
                        self.write(p, |s, now| {
                            s.edit_agreement(
                                &id,
                                AgreementEdit {
                                    category: Some(category),
                                    ..Default::default()
                                },
                                now,
                            )
                            .expect("recategorise")
                        });
                    }
                }
                // Follow-through.
                65..=84 => {
                    let kind = match self.rng.below(10) {
                        0..=6 => LogKind::Kept,
                        7..=8 => LogKind::Missed,
                        _ => LogKind::Note,
                    };
                    let text = LOG_TEXTS[self.rng.below(LOG_TEXTS.len())];
                    self.write(p, |s, now| {
                        s.log_follow_through(&id, kind, text, now).expect("log");
                    });
                }
                85..=86 => {
                    self.write(p, |s, now| {
                        s.request_renegotiation(&id, "This no longer fits our weeks.", now)
                            .expect("renegotiate")
                    });
                    // Both partners must accept again to close the renegotiation.
                    self.to_accept[0].insert(i);
                    self.to_accept[1].insert(i);
                }
                87 => {
                    let mut cid = None;
                    self.write(p, |s, now| {
                        cid = Some(
                            s.raise_concern(
                                NewConcern {
                                    agreement: Some(id.clone()),
                                    what_happened:
                                        "You came home two hours late without a message.".into(),
                                    how_i_felt: "Worried, then ignored.".into(),
                                    what_i_need: "A short message when plans change.".into(),
                                },
                                now,
                            )
                            .expect("concern"),
                        )
                    });
                    let stays_open = self.rng.below(5) == 0;
                    self.concerns.push(Concern {
                        id: cid.expect("raised"),
                        raised_by: p,
                        stage: 0,
                        stays_open,
                    });
                }
                88 => {
                    self.write(p, |s, now| {
                        s.record_checkin(
                            now.date_naive(),
                            "Talked about the week, money and the holidays.",
                            now,
                        )
                        .expect("checkin");
                    });
                }
                _ => {
                    self.revisions[i] += 1;
                    let d = details(i, self.revisions[i]);
                    self.wording_edit(
                        p,
                        i,
                        AgreementEdit {
                            details: Some(d),
                            ..Default::default()
                        },
                    );
                }
            }
        }
    }
}

fn new_agreement(i: usize, partners: &[PartnerId; 2], author: usize) -> NewAgreement {
    let kind = [
        Kind::Agreement,
        Kind::Agreement,
        Kind::Boundary,
        Kind::Intention,
    ][i % 4];
    let concerns = if kind == Kind::Agreement {
        Concerns::Both
    } else {
        Concerns::Partner(partners[author].clone())
    };
    let category = if i % 25 == 24 {
        Category::Custom("Our garden".into())
    } else {
        Category::Standard(StandardCategory::ALL[i % StandardCategory::ALL.len()])
    };
    let review_every = match i % 3 {
        0 => Some(ReviewCadence::new(1, CadenceUnit::Months).expect("cadence")),
        1 => Some(ReviewCadence::new(3, CadenceUnit::Months).expect("cadence")),
        _ => None,
    };
    NewAgreement {
        title: title(i, 0),
        details: details(i, 0),
        category,
        kind,
        strength: [Strength::TryMyBest, Strength::Promise, Strength::Experiment][i % 3],
        concerns,
        review_every,
        draft: i < DRAFTS,
    }
}

/// Builds the fixture under `dir` (`dir/alex`, `dir/sam`); returns the change count and the
/// time of the last write.
fn build(dir: &Path, target: usize) -> (usize, DateTime<Utc>) {
    let start = Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0).unwrap();
    let alex_dir = dir.join("alex");
    let sam_dir = dir.join("sam");
    let mut alex = Space::create(
        &alex_dir,
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "Alex's phone".into(),
        },
        start,
    )
    .expect("create");
    let sam_identity = DeviceIdentity::load_or_create(&sam_dir).expect("sam identity");
    let sam_partner = alex
        .add_partner(
            "Sam",
            "Europe/Berlin",
            &sam_identity.device_id(),
            "Sam's phone",
            start + Duration::minutes(1),
        )
        .expect("add partner");
    let alex_partner = alex.info().expect("info").me;
    let initial = count_changes(&mut alex);
    let doc = alex.export_document().expect("export");
    let sam = Space::join(&sam_dir, &doc).expect("join");
    let mut b = Builder {
        spaces: [alex, sam],
        partners: [alex_partner, sam_partner],
        ids: Vec::with_capacity(AGREEMENTS),
        cadence: Vec::with_capacity(AGREEMENTS),
        drafts: BTreeSet::new(),
        retired: BTreeSet::new(),
        to_accept: [BTreeSet::new(), BTreeSet::new()],
        concerns: Vec::new(),
        revisions: vec![0; AGREEMENTS],
        changes: initial,
        clock: start + Duration::minutes(2),
        rng: Rng(0x9e37_79b9_7f4a_7c15),
    };
    let phase = Instant::now();
    // Each partner writes half of the agreements; the other accepts them.
    for p in 0..2 {
        for i in (p * AGREEMENTS / 2)..((p + 1) * AGREEMENTS / 2) {
            let input = new_agreement(i, &b.partners, p);
            let mut id = None;
            b.write(p, |s, now| {
                id = Some(s.create_agreement(input, now).expect("create"))
            });
            b.ids.push(id.expect("created"));
            b.cadence.push(i % 3 != 2);
            if i < DRAFTS {
                b.drafts.insert(i);
            } else {
                b.to_accept[1 - p].insert(i);
            }
        }
        b.send(p);
    }
    for r in 0..RETIRED {
        let i = DRAFTS + 1 + r * (AGREEMENTS / RETIRED);
        let id = b.ids[i].clone();
        b.write(0, |s, now| {
            s.retire(&id, "We do not need this any more.", now)
                .expect("retire")
        });
        b.retired.insert(i);
    }
    b.send(0);
    eprintln!(
        "  {} agreements written in {:.1} s",
        b.ids.len(),
        phase.elapsed().as_secs_f64()
    );
    let mut turn = 1; // Sam accepts first.
    let mut last_report = Instant::now();
    while b.changes < target {
        let p = turn % 2;
        b.turn(p, target);
        b.send(p);
        turn += 1;
        if last_report.elapsed().as_secs() >= 10 {
            eprintln!(
                "  {} / {target} changes after {:.0} s",
                b.changes,
                phase.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    // Both hold everything; Alex's copy is the fixture.
    b.send(0);
    b.send(1);
    let [mut alex, sam] = b.spaces;
    sam.shutdown();
    let counted = count_changes(&mut alex);
    assert_eq!(counted, b.changes, "every write is one change");
    let listed = alex.list(&Default::default()).expect("list").len();
    assert_eq!(listed, AGREEMENTS, "every agreement is listed");
    alex.compact().expect("compact");
    alex.shutdown(); // writes view.json
    (counted, b.clock)
}
