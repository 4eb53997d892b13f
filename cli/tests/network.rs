//! Two `accord` binaries with separate data directories pair by ticket and converge over
//! loopback (`--network local`); commands issued while `serve` runs go through it.
mod common;

use common::Device;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(device: &Device) -> Serve {
    let child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "--data",
            device.dir().to_str().unwrap(),
            "--network",
            "local",
            "serve",
        ])
        .env("HOME", device.tmp.path().join("home"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !device.dir().join("accord.sock").exists() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    Serve(child)
}

fn titles(device: &Device) -> Vec<String> {
    let list = device.json(&["list"]);
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_binaries_pair_by_ticket_and_converge_through_serve_and_sync() {
    let alex = Device::empty();
    alex.ok(&["init", "--name", "Alex", "--tz", "Europe/Berlin"]);
    alex.add("Before Sam joined", &[]);
    let _serving = serve(&alex);

    // While serve runs, commands on the same directory go through it instead of "in use".
    let ticket = alex.json(&["invite", "--role", "partner"]);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    assert!(ticket.starts_with("accord1"));

    let sam = Device::empty();
    let joined = sam.json(&[
        "--network",
        "local",
        "join",
        &ticket,
        "--name",
        "Sam",
        "--tz",
        "UTC",
    ]);
    assert_eq!(joined["space"]["partners"].as_array().unwrap().len(), 2);
    assert_eq!(titles(&sam), ["Before Sam joined"]);
    // A ticket works once.
    let other = Device::empty();
    let (kind, message) =
        other.fail_json(&["--network", "local", "join", &ticket, "--name", "Eve"]);
    assert_eq!(kind, "not_allowed", "{message}");
    assert!(message.contains("works once"), "{message}");

    // Sam adds offline, then syncs with Alex's running node.
    sam.add("From Sam", &[]);
    let report = sam.json(&["--network", "local", "sync", "--timeout", "20s"]);
    assert_eq!(report["converged"].as_array().unwrap().len(), 1, "{report}");
    let mut seen = titles(&alex);
    seen.sort();
    assert_eq!(seen, ["Before Sam joined", "From Sam"]);

    // A write through serve reaches Sam at the next sync.
    alex.add("From Alex", &[]);
    sam.json(&["--network", "local", "sync", "--timeout", "20s"]);
    assert!(titles(&sam).contains(&"From Alex".to_owned()));

    // Status says whether each device has all of my changes (no presence, no last seen).
    let status = sam.json(&["status"]);
    assert!(
        status.to_string().contains("has_all_my_changes"),
        "{status}"
    );
}

#[test]
fn sync_without_a_reachable_device_fails_naming_it() {
    let alex = Device::empty();
    alex.ok(&["init", "--name", "Alex"]);
    let sam = Device::empty();
    {
        let _serving = serve(&alex);
        let ticket = alex.json(&["invite", "--role", "partner"])["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        sam.json(&["--network", "local", "join", &ticket, "--name", "Sam"]);
    }
    let (kind, message) = sam.fail_json(&["--network", "local", "sync", "--timeout", "3s"]);
    assert_eq!(kind, "invalid_input", "{message}");
    assert!(message.contains("not converged"), "{message}");
    // Bad tickets and bad options get clear errors.
    let eve = Device::empty();
    let (_, message) = eve.fail_json(&[
        "--network",
        "local",
        "join",
        "accord1garbage",
        "--name",
        "Eve",
    ]);
    assert!(message.contains("not an Accord invitation"), "{message}");
    let (_, message) = sam.fail_json(&["sync", "--timeout", "soon"]);
    assert!(message.contains("not a duration"), "{message}");
    let (_, message) = alex.fail_json(&["invite", "--role", "boss"]);
    assert!(message.contains("not a role"), "{message}");
}

#[test]
fn invite_without_serve_prints_the_ticket_and_waits_until_it_is_used() {
    let alex = Device::empty();
    alex.ok(&["init", "--name", "Alex"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "--data",
            alex.dir().to_str().unwrap(),
            "--network",
            "local",
            "invite",
            "--expires",
            "5m",
        ])
        .env("HOME", alex.tmp.path().join("home"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut ticket = None;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if let Some(t) = line.split_whitespace().find(|w| w.starts_with("accord1")) {
            ticket = Some(t.to_owned());
            break;
        }
        line.clear();
    }
    let ticket = ticket.expect("a ticket is printed");
    let sam = Device::empty();
    sam.json(&["--network", "local", "join", &ticket, "--name", "Sam"]);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(rest.contains("joined"), "{rest}");
}

#[test]
fn the_demo_runs_end_to_end() {
    let tmp = tempfile::TempDir::new().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("demo")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "conflicted",
        "repaired",
        "check-in agenda",
        "Next reminders",
        "Done in",
    ] {
        assert!(text.contains(expected), "missing {expected}: {text}");
    }
}

#[test]
fn a_silent_or_flooding_socket_client_does_not_hold_serve() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;
    let alex = common::alex();
    let _serve = serve(&alex);
    let mode = std::fs::metadata(alex.dir()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the data directory is the owner's alone");
    // One client connects and says nothing; another sends an endless line.
    let _silent = UnixStream::connect(alex.dir().join("accord.sock")).unwrap();
    let mut flood = UnixStream::connect(alex.dir().join("accord.sock")).unwrap();
    let _ = flood.write_all(&vec![b'x'; 2 * 1024 * 1024]);
    // A real command still goes through serve, once the silent client timed out.
    let started = Instant::now();
    alex.add("Through serve", &[]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(titles(&alex), vec!["Through serve".to_owned()]);
}

/// `accord join TICKET --recover` on `device`, typing `secret` on standard input.
fn join_recovering(device: &Device, ticket: &str, secret: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["--data", device.dir().to_str().unwrap()])
        .args(["--json", "--network", "local", "join", ticket, "--recover"])
        .env("HOME", device.tmp.path().join("home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start join");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{secret}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn a_returning_partner_invitation_lets_in_only_the_holder_of_the_recovery_secret() {
    let alex = Device::empty();
    let created = alex.json(&["init", "--name", "Alex", "--tz", "Europe/Berlin"]);
    let alex_secret = created["recovery_secret"].as_str().unwrap().to_owned();
    let alex_id = alex.json(&["status"])["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alex.add("Phones away at dinner", &[]);
    let sam = Device::empty();
    let sam_secret = {
        let _serving = serve(&alex);
        let ticket = alex.json(&["invite", "--role", "partner"])["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let joined = sam.json(&["--network", "local", "join", &ticket, "--name", "Sam"]);
        joined["recovery_secret"].as_str().unwrap().to_owned()
    };
    assert_ne!(sam_secret, alex_secret);
    let _serving = serve(&sam);
    let invite = || {
        sam.json(&["invite", "--role", "returning-partner"])["ticket"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The takeover of the old "returning partner" role: a fresh directory joining with
    // Sam's ticket and no secret, or with Sam's own secret, never becomes Alex.
    let ticket = invite();
    let fresh = Device::empty();
    let (_, message) = fresh.fail_json(&["--network", "local", "join", &ticket, "--name", "Alex"]);
    assert!(message.contains("recovery secret"), "{message}");
    let out = join_recovering(&fresh, &ticket, &sam_secret);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("your own recovery secret"), "{stderr}");
    assert!(!stderr.contains("not allowed: not allowed"), "{stderr}");
    assert!(!fresh.dir().join("snapshot.bin").exists());
    // Alex lost every device: with Alex's secret, a new one is Alex, and the old one is void.
    let ticket = invite();
    let back = Device::empty();
    let out = join_recovering(
        &back,
        &ticket,
        &format!("  {}  ", alex_secret.to_lowercase()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let joined: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(joined["space"]["me"], alex_id.as_str(), "{joined}");
    let status = back.json(&["status"]);
    assert_eq!(status["me"]["name"], "Alex");
    assert_eq!(titles(&back), ["Phones away at dinner"]);
    let old_device = created["space"]["my_device"].as_str().unwrap();
    let devices = status["devices"].as_array().unwrap();
    let old = devices.iter().find(|d| d["id"] == old_device).unwrap();
    assert_eq!(old["removed"], true, "{status}");
}
