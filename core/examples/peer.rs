//! A small peer program for network tests (network namespaces, packet loss, link cuts).
//! Each command opens the device directory, does one thing and exits; `serve` runs a node
//! until killed. Network: local mode (no relays, no internet lookup; mDNS on).
//!
//! ```text
//! peer create DIR NAME
//! peer serve DIR [--invite ROLE --ticket-file FILE]
//! peer join DIR TICKET_FILE NAME
//! peer add DIR PREFIX COUNT          # offline: COUNT agreements titled PREFIX-i
//! peer forget DIR                    # drop remembered peer addresses (discovery only)
//! peer sync DIR TIMEOUT_SECS         # exit 0 when converged with every device
//! peer summary DIR                   # heads and agreement count
//! ```

use accord_core::*;
use chrono::Utc;
use std::path::PathBuf;
use std::time::Duration;

fn config() -> NetworkConfig {
    NetworkConfig::local()
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("peer: {message}");
    std::process::exit(2)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| fail("missing argument; see the file's doc comment"))
    };
    let dir = PathBuf::from(arg(1));
    match arg(0).as_str() {
        "create" => {
            let input = CreateSpace {
                partner_name: arg(2),
                time_zone: "UTC".into(),
                device_name: "peer".into(),
            };
            Space::create(&dir, input, Utc::now()).unwrap_or_else(|e| fail(e));
        }
        "serve" => {
            let node = Node::start(&dir, config())
                .await
                .unwrap_or_else(|e| fail(e));
            if args.get(2).map(String::as_str) == Some("--invite") {
                let role = InviteRole::parse(&arg(3)).unwrap_or_else(|e| fail(e));
                let ticket = node
                    .invite(role, chrono::Duration::minutes(10))
                    .unwrap_or_else(|e| fail(e));
                let file = PathBuf::from(arg(5));
                std::fs::write(&file, ticket.to_text()).unwrap_or_else(|e| fail(e));
            }
            node.keep_connected();
            let mut events = node.subscribe();
            println!("serving {}", node.device_id());
            loop {
                match events.recv().await {
                    Ok(event) => println!(
                        "event {}",
                        serde_json::to_string(&event).unwrap_or_default()
                    ),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                }
            }
        }
        "join" => {
            let ticket = std::fs::read_to_string(arg(2)).unwrap_or_else(|e| fail(e));
            let node = Node::join(&dir, ticket.trim(), &arg(3), "UTC", "peer", config())
                .await
                .unwrap_or_else(|e| fail(e));
            node.shutdown().await;
        }
        "add" => {
            let mut space = Space::open(&dir).unwrap_or_else(|e| fail(e));
            let count: usize = arg(3).parse().unwrap_or_else(|e| fail(e));
            for i in 0..count {
                let mut input = NewAgreement::titled(format!("{}-{i:04}", arg(2)));
                input.details = "x".repeat(300);
                space
                    .create_agreement(input, Utc::now())
                    .unwrap_or_else(|e| fail(e));
            }
        }
        "forget" => {
            let _ = std::fs::remove_file(dir.join("network.json"));
        }
        "sync" => {
            let secs: u64 = arg(2).parse().unwrap_or_else(|e| fail(e));
            let node = Node::start(&dir, config())
                .await
                .unwrap_or_else(|e| fail(e));
            let report = node
                .sync_now(Duration::from_secs(secs))
                .await
                .unwrap_or_else(|e| fail(e));
            // Give the last frames a moment to be acknowledged before closing.
            tokio::time::sleep(Duration::from_millis(300)).await;
            println!("{}", serde_json::to_string(&report).unwrap_or_default());
            node.shutdown().await;
            if !report.unreachable.is_empty() || report.converged.is_empty() {
                std::process::exit(1);
            }
        }
        "summary" => {
            let mut space = Space::open(&dir).unwrap_or_else(|e| fail(e));
            let mut heads = space.heads().unwrap_or_else(|e| fail(e));
            heads.sort();
            let count = space
                .list(&ListFilter::default())
                .unwrap_or_else(|e| fail(e))
                .len();
            println!("{} {count}", heads.join(","));
        }
        other => fail(format!("unknown command {other}")),
    }
}
