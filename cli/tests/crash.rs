//! Crash safety of the real binary: one-shot commands that write intents (a follow-through
//! entry, without loading the history) and commands that load the document (listing concerns,
//! which replays the pending intents) are killed with SIGKILL at random moments. Afterwards every write whose
//! command answered is present exactly once, with the id it answered, and nothing is
//! half-applied.

mod common;

use common::{alex, Device};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills per run (`ACCORD_CRASH_KILLS` overrides); they are spread over three times one
/// unkilled run, so about half the runs answer before a kill could come.
const DEFAULT_KILLS: usize = 60;

/// A small deterministic generator (no dependency): the seed is printed, so a failure can be
/// replayed with `ACCORD_CRASH_SEED`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Runs `accord --json --data DIR args`, killing it with SIGKILL after `kill_after` if it is
/// still running; its JSON answer if it finished successfully. The answer is read after the
/// process ends, so it must fit the pipe's buffer: `log` answers are small; a long `show` must
/// not be read this way (the process would block writing it).
fn run_or_kill(device: &Device, args: &[&str], kill_after: Duration) -> Option<Value> {
    let dir = device.dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("--json")
        .arg("--data")
        .arg(&dir)
        .args(args)
        .env_remove("TZ")
        .env("XDG_DATA_HOME", device.tmp.path().join("xdg"))
        .env("HOME", device.tmp.path().join("home"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run accord");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return status
                .success()
                .then(|| serde_json::from_slice(&out.stdout).expect("JSON answer"));
        }
        if started.elapsed() >= kill_after {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_at_any_moment_exactly_once() {
    let kills: usize = std::env::var("ACCORD_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_KILLS);
    let seed = std::env::var("ACCORD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("ACCORD_CRASH_SEED={seed}");
    let mut random = Lcg(seed);
    let alex = alex();
    let id = alex.add("Text at lunch", &[]);
    // How long an unkilled run takes, to spread the kills over it.
    let timed = Instant::now();
    assert!(run_or_kill(
        &alex,
        &["log", &id, "note", "--text", "timing"],
        Duration::from_secs(60)
    )
    .is_some());
    let span = timed.elapsed().as_micros() as u64 * 3;

    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let mut killed = 0;
    let mut attempt = 0;
    while killed < kills {
        attempt += 1;
        let kill_after = Duration::from_micros(random.next(span));
        // Mostly intents; every third run a command that loads the history and replays them.
        let answer = if attempt % 3 == 0 {
            // Listing concerns loads the document (so it replays) and answers briefly (a
            // `show` of this agreement would outgrow the pipe: see `run_or_kill`).
            run_or_kill(&alex, &["concerns"], kill_after)
        } else {
            let text = format!("entry {attempt}");
            let answer = run_or_kill(&alex, &["log", &id, "missed", "--text", &text], kill_after);
            if let Some(v) = &answer {
                acknowledged.insert(v["id"].as_str().expect("id").to_owned(), text);
            }
            answer
        };
        if answer.is_none() {
            killed += 1;
        }
    }

    // Whatever state the kills left, the directory opens and loads (replaying what waits).
    let opened = alex.run(&["--json", "show", &id]);
    assert_eq!(opened.code, 0, "opens after the kills: {}", opened.stderr);
    let show: Value = serde_json::from_str(&opened.stdout).expect("JSON answer");
    let mut space = alex.space();
    let log = space
        .follow_through(Some(&accord_core::AgreementId::from(id.as_str())))
        .unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &log {
        *seen.entry(entry.id.to_string()).or_default() += 1;
        if let Some(text) = acknowledged.get(entry.id.as_str()) {
            assert_eq!(&entry.text, text, "acknowledged write intact");
        }
    }
    for (entry, text) in &acknowledged {
        assert_eq!(
            seen.get(entry),
            Some(&1),
            "{text} ({entry}) present exactly once"
        );
    }
    let mut texts: Vec<&str> = log.iter().map(|e| e.text.as_str()).collect();
    let all = texts.len();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), all, "no write applied twice");
    assert_eq!(space.pending_intents(), 0);
    eprintln!(
        "{killed} kills survived in {attempt} runs; {} acknowledged writes verified, {} entries \
         in all; `show` answered with {} entries",
        acknowledged.len(),
        log.len(),
        show["log"].as_array().map_or(0, Vec::len)
    );
}
