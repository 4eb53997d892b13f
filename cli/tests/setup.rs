//! `init`, `status`, `unpair`, global options and the errors every command shares.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn init_creates_a_space_and_status_shows_it() {
    let d = Device::empty();
    let out = d.ok(&["init", "--name", "Alex", "--tz", "Europe/Berlin"]);
    assert!(out.contains("Created your couple space"), "{out}");
    assert!(out.contains("Alex (Europe/Berlin)"), "{out}");

    let status = d.ok(&["status"]);
    assert!(
        status.contains("You:      Alex (Europe/Berlin)"),
        "{status}"
    );
    assert!(status.contains("Partner:  not joined yet"), "{status}");
    assert!(
        status.contains("Alex's computer"),
        "default device name: {status}"
    );
    assert!(status.contains("this device"), "{status}");
    assert!(status.contains("Open concerns: 0"), "{status}");
    assert!(status.contains("Problems: none"), "{status}");
    // No presence, no last-seen.
    assert!(!status.to_lowercase().contains("seen"), "{status}");
    assert!(!status.to_lowercase().contains("online"), "{status}");
}

#[test]
fn init_json_and_status_json() {
    let d = Device::empty();
    let v = d.json(&[
        "init",
        "--name",
        "Alex",
        "--tz",
        "Europe/Berlin",
        "--device-name",
        "Laptop",
    ]);
    assert_eq!(v["space"]["partners"][0]["name"], "Alex");
    assert_eq!(v["space"]["devices"][0]["name"], "Laptop");
    let me = v["space"]["me"].as_str().unwrap().to_owned();

    d.add("One", &[]);
    d.add("Two", &["--draft"]);
    let s = d.json(&["status"]);
    assert_eq!(s["me"]["id"], me.as_str());
    assert_eq!(s["me"]["time_zone"], "Europe/Berlin");
    assert!(s["partner"].is_null());
    assert_eq!(s["agreements"]["total"], 2);
    assert_eq!(s["agreements"]["by_status"]["proposed"], 1);
    assert_eq!(s["agreements"]["by_status"]["draft"], 1);
    assert_eq!(s["agreements"]["by_status"]["active"], 0);
    assert_eq!(s["open_concerns"], 0);
    assert_eq!(s["problems"], Value::Array(vec![]));
    assert_eq!(s["devices"][0]["this_device"], true);
    assert_eq!(s["devices"][0]["removed"], false);
}

#[test]
fn a_second_init_is_refused() {
    let d = alex();
    let r = d.fail(&["init", "--name", "Someone"]);
    assert!(
        r.stderr.contains("already holds an Accord space"),
        "{}",
        r.stderr
    );
    let (kind, message) = d.fail_json(&["init", "--name", "Someone"]);
    assert_eq!(kind, "already_initialized");
    assert!(message.contains("use another directory"), "{message}");
    // The space is untouched.
    assert_eq!(d.json(&["status"])["me"]["name"], "Alex");
}

#[test]
fn init_validates_the_time_zone() {
    let d = Device::empty();
    let r = d.fail(&["init", "--name", "Alex", "--tz", "Mars/Olympus"]);
    assert!(
        r.stderr.contains("'Mars/Olympus' is not an IANA time zone"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Europe/Berlin"),
        "says what to write: {}",
        r.stderr
    );
    let (kind, _) = d.fail_json(&["init", "--name", "Alex", "--tz", "Nowhere"]);
    assert_eq!(kind, "invalid_input");
    // Nothing was created.
    let (kind, _) = d.fail_json(&["status"]);
    assert_eq!(kind, "not_initialized");
}

#[test]
fn init_takes_the_zone_from_tz_or_utc() {
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("a");
    let dir = dir.to_str().unwrap();
    let r = run_in(
        tmp.path(),
        &["--data", dir, "init", "--name", "A"],
        &[("TZ", "Asia/Tokyo")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run_in(tmp.path(), &["--json", "--data", dir, "status"], &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["me"]["time_zone"], "Asia/Tokyo");

    let dir = tmp.path().join("b");
    let dir = dir.to_str().unwrap();
    assert_eq!(
        run_in(tmp.path(), &["--data", dir, "init", "--name", "B"], &[]).code,
        0
    );
    let r = run_in(tmp.path(), &["--json", "--data", dir, "status"], &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["me"]["time_zone"], "UTC");

    let dir = tmp.path().join("c");
    let dir = dir.to_str().unwrap();
    let r = run_in(
        tmp.path(),
        &["--data", dir, "init", "--name", "C"],
        &[("TZ", ":/usr/share/zoneinfo/America/Chicago")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run_in(tmp.path(), &["--json", "--data", dir, "status"], &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["me"]["time_zone"], "America/Chicago");

    let dir = tmp.path().join("d");
    let dir = dir.to_str().unwrap();
    let r = run_in(
        tmp.path(),
        &["--data", dir, "init", "--name", "D"],
        &[("TZ", "CEST-2")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("TZ environment variable"), "{}", r.stderr);
    assert!(r.stderr.contains("--tz"), "{}", r.stderr);
}

#[test]
fn init_rejects_an_empty_name() {
    let d = Device::empty();
    let r = d.fail(&["init", "--name", "  "]);
    assert!(
        r.stderr.contains("partner name: must not be empty"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_default_data_dir_is_the_platform_one() {
    let tmp = tempfile::TempDir::new().unwrap();
    let r = run_in(tmp.path(), &["init", "--name", "Alex"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(tmp.path().join("xdg/accord/device.key").exists());
    let r = run_in(tmp.path(), &["--json", "status"], &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["data_dir"].as_str().unwrap(),
        tmp.path().join("xdg/accord").to_str().unwrap()
    );
}

#[test]
fn every_command_on_an_uninitialised_dir_says_to_create_one() {
    let d = Device::empty();
    for args in [
        vec!["status"],
        vec!["list"],
        vec!["add", "--title", "x"],
        vec!["show", "abc"],
        vec!["accept", "abc"],
        vec!["concerns"],
        vec!["positions"],
        vec!["reminders"],
        vec!["checkin"],
        vec!["export"],
        vec!["unpair", "abc"],
    ] {
        let r = d.fail(&args);
        assert!(
            r.stderr
                .contains("holds no Accord space yet: create one or join one first"),
            "{args:?}: {}",
            r.stderr
        );
        let (kind, _) = d.fail_json(&args);
        assert_eq!(kind, "not_initialized", "{args:?}");
    }
}

#[test]
fn a_directory_in_use_is_refused() {
    let d = alex();
    let id = d.add("Lunch text", &[]);
    let held = d.space();
    for args in [vec!["list"], vec!["accept", &id[..6]], vec!["status"]] {
        let r = d.fail(&args);
        assert!(
            r.stderr.contains("is in use by another Accord process"),
            "{args:?}: {}",
            r.stderr
        );
        let (kind, message) = d.fail_json(&args);
        assert_eq!(kind, "in_use");
        assert!(message.contains("close it"), "{message}");
    }
    drop(held);
    d.ok(&["list"]);
}

#[test]
fn usage_errors_exit_2_and_are_json_with_json() {
    let d = alex();
    let r = d.run(&["frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("frobnicate"), "{}", r.stderr);
    let r = d.run(&["--json", "add"]);
    assert_eq!(r.code, 2);
    let (kind, message) = r.json_error();
    assert_eq!(kind, "usage");
    assert!(message.contains("--title"), "{message}");
    // Help is not an error.
    let r = d.run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("checkin-ritual"), "{}", r.stdout);
}

#[test]
fn ending_the_pairing_stops_the_partners_devices_which_keep_their_copies() {
    let (alex, sam) = couple();
    let a = alex.add("Lunch text", &[]);
    sync(&alex, &sam);
    let sam_device = sam.json(&["status"])["this_device"]
        .as_str()
        .unwrap()
        .to_owned();

    // A partner's device is not Alex's to remove; an unknown device is an error.
    let (kind, message) = alex.fail_json(&["unpair", &sam_device[..8]]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("end the pairing"), "{message}");
    let (kind, _) = alex.fail_json(&["unpair", "zzzz"]);
    assert_eq!(kind, "not_found");

    // Ending asks for confirmation, then stops Sam's devices.
    let r = alex.fail(&["end-pairing"]);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    let out = alex.ok(&["end-pairing", "--yes"]);
    assert!(out.contains("Ended the pairing with Sam"), "{out}");
    let s = alex.json(&["status"]);
    let devices = s["devices"].as_array().unwrap();
    let removed: Vec<&Value> = devices.iter().filter(|d| d["removed"] == true).collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], sam_device.as_str());
    assert_eq!(s["ending"]["partner"], s["partner"]["id"]);
    let status = alex.ok(&["status"]);
    assert!(status.contains("Alex ended the pairing"), "{status}");
    let (kind, _) = alex.fail_json(&["end-pairing", "--yes"]);
    assert_eq!(kind, "not_allowed");

    // Sam's device learns of it and keeps its copy: it can still read, not write.
    sync(&alex, &sam);
    let list = sam.json(&["list"]);
    assert_eq!(list[0]["id"], a.as_str());
    assert!(sam.ok(&["show", &a]).contains("Lunch text"));
    let status = sam.ok(&["status"]);
    assert!(status.contains("this device was removed"), "{status}");
    let export = sam.ok(&["export"]);
    assert!(export.contains("Lunch text"), "{export}");
    let (kind, _) = sam.fail_json(&["accept", &a]);
    assert_eq!(kind, "not_a_member");
}

#[test]
fn no_invitation_lets_one_partner_enrol_a_device_as_the_other() {
    let (alex, sam) = couple();
    // A returning-partner invitation lets a device in only with the partner's recovery
    // secret (see the network tests); for a partner who never set one up there is none.
    let r = alex.fail(&["invite", "--role", "returning-partner"]);
    assert!(
        r.stderr.contains("Sam has not set up a recovery secret"),
        "{}",
        r.stderr
    );
    // Alex's device is still Alex's, enrolled and syncing.
    sync(&alex, &sam);
    let status = alex.json(&["status"]);
    assert_eq!(status["me"]["name"], "Alex");
    assert_eq!(status["devices"].as_array().unwrap().len(), 2);
}

/// Runs `accord --data DIR args...` on `device` with `input` on standard input.
fn run_with_input(device: &Device, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["--data", device.dir().to_str().unwrap()])
        .args(args)
        .env_remove("TZ")
        .env("HOME", device.tmp.path().join("home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{input}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn a_backup_restores_with_the_recovery_secret_alone_and_only_for_reading() {
    let alex = Device::empty();
    let created = alex.json(&["init", "--name", "Alex", "--tz", "Europe/Berlin"]);
    let secret = created["recovery_secret"].as_str().unwrap().to_owned();
    // init shows the secret once, as text and as a QR code.
    assert_eq!(secret.len(), 44, "{secret}");
    alex.add("Phones away at dinner", &[]);
    let file = alex.tmp.path().join("accord.backup");
    let out = alex.ok(&["backup", "--out", file.to_str().unwrap()]);
    assert!(
        out.contains("opens only with your recovery secret"),
        "{out}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("Phones away"));

    let new_phone = Device::empty();
    let file = file.to_str().unwrap();
    // A mistyped secret: a clear error, nothing restored.
    let mut typo = secret.clone();
    typo.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
    let out = run_with_input(&new_phone, &["restore", file], &typo);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("typo"));
    let out = run_with_input(&new_phone, &["restore", "/nonexistent"], &secret);
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be read"));
    // The right one: Alex's agreements to read and export; writing says what to do instead.
    let out = run_with_input(&new_phone, &["restore", file], &secret);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Restored your copy"));
    let list = new_phone.json(&["list"]);
    assert_eq!(list[0]["title"], "Phones away at dinner");
    assert!(new_phone.ok(&["export"]).contains("Phones away at dinner"));
    let r = new_phone.fail(&["add", "--title", "New"]);
    assert!(
        r.stderr.contains("restored with your recovery secret"),
        "{}",
        r.stderr
    );
    // A new recovery secret replaces the old one only when asked.
    let r = alex.fail(&["recovery"]);
    assert!(r.stderr.contains("--replace"), "{}", r.stderr);
    let renewed = alex.json(&["recovery", "--replace"]);
    assert_ne!(renewed["recovery_secret"].as_str().unwrap(), secret);
}
