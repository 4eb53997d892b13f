//! Helpers for the CLI tests: run the real `accord` binary on a device directory, and set up
//! the second partner's device with the core library (pairing comes with the sync issue).
#![allow(dead_code)]

use accord_core::{DeviceIdentity, Space};
use chrono::Utc;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON error printed on stderr with `--json`: (kind, message).
    pub fn json_error(&self) -> (String, String) {
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr));
        (
            v["error"]["kind"].as_str().expect("error.kind").to_owned(),
            v["error"]["message"]
                .as_str()
                .expect("error.message")
                .to_owned(),
        )
    }
}

/// Runs `accord` with `args` and a clean environment (no TZ, data home in `home`).
pub fn run_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    cmd.args(args)
        .env_remove("TZ")
        .env("XDG_DATA_HOME", home.join("xdg"))
        .env("HOME", home.join("home"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run accord");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One device: a temporary data directory.
pub struct Device {
    pub tmp: TempDir,
}

impl Device {
    /// An empty device directory (no space yet).
    pub fn empty() -> Device {
        Device {
            tmp: TempDir::new().unwrap(),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// Runs `accord --data DIR args...`.
    pub fn run(&self, args: &[&str]) -> Run {
        let dir = self.dir();
        let mut all = vec!["--data", dir.to_str().unwrap()];
        all.extend_from_slice(args);
        run_in(self.tmp.path(), &all, &[])
    }

    /// Runs and expects success; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "accord {args:?} failed: {}{}",
            r.stdout, r.stderr
        );
        r.stdout
    }

    /// Runs with `--json`, expects success, parses stdout.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("accord {args:?}: not JSON ({e}): {out}"))
    }

    /// Runs and expects failure with exit code 1; returns the run.
    #[track_caller]
    pub fn fail(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code, 1,
            "accord {args:?} should fail: {}{}",
            r.stdout, r.stderr
        );
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "nothing on stdout on failure: {}",
            r.stdout
        );
        r
    }

    /// Runs with `--json`, expects failure; returns (kind, message) of the JSON error.
    #[track_caller]
    pub fn fail_json(&self, args: &[&str]) -> (String, String) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_ne!(r.code, 0, "accord {args:?} should fail: {}", r.stdout);
        assert!(
            r.stdout.is_empty(),
            "nothing on stdout on failure: {}",
            r.stdout
        );
        r.json_error()
    }

    /// Adds an agreement and returns its id.
    #[track_caller]
    pub fn add(&self, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["add", "--title", title];
        args.extend_from_slice(extra);
        let id = self.ok(&args).trim().to_owned();
        // The order in base 36, then the writing device's whole id (64 hex digits).
        assert!((65..=80).contains(&id.len()), "add prints the id: {id}");
        id
    }

    /// Opens the space with the core (no CLI process may run meanwhile).
    pub fn space(&self) -> Space {
        Space::open(&self.dir()).unwrap()
    }
}

/// Alex's device, set up with `accord init`.
pub fn alex() -> Device {
    let d = Device::empty();
    d.ok(&[
        "init",
        "--name",
        "Alex",
        "--tz",
        "Europe/Berlin",
        "--device-name",
        "Alex's laptop",
    ]);
    d
}

/// Alex (via `accord init`) and Sam, enrolled by Alex's device and joined with the core.
pub fn couple() -> (Device, Device) {
    let alex = alex();
    let sam = Device::empty();
    let identity = DeviceIdentity::load_or_create(&sam.dir()).unwrap();
    let doc = {
        let mut space = alex.space();
        space
            .add_partner(
                "Sam",
                "America/New_York",
                &identity.device_id(),
                "Sam's phone",
                Utc::now(),
            )
            .unwrap();
        space.export_document().unwrap()
    };
    Space::join(&sam.dir(), &doc).unwrap();
    (alex, sam)
}

/// Exchanges changes between two devices' directories, both ways, with the core.
pub fn sync(a: &Device, b: &Device) {
    let mut x = a.space();
    let mut y = b.space();
    let to_y = x.changes_since(&y.heads().unwrap()).unwrap();
    y.apply_changes(&to_y).unwrap();
    let to_x = y.changes_since(&x.heads().unwrap()).unwrap();
    x.apply_changes(&to_x).unwrap();
}

/// Today's date in UTC, shifted by `days`.
pub fn utc_date(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days))
        .date_naive()
        .to_string()
}

/// An agreement Alex writes and Sam accepts (so it is active on both devices).
#[track_caller]
pub fn active(alex: &Device, sam: &Device, title: &str, extra: &[&str]) -> String {
    let id = alex.add(title, extra);
    sync(alex, sam);
    sam.ok(&["accept", &id]);
    sync(alex, sam);
    id
}
