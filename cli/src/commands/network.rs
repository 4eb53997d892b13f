//! The network commands (`invite`, `join`, `serve`, `sync`) and the local socket through which
//! other `accord` commands reach a running `serve` instead of failing with "in use".
//!
//! The socket is `accord.sock` in the data directory, readable and writable by the owner only.
//! A client sends its command line as one JSON line; `serve` runs it against its own open space
//! and answers with what the command would have printed and its exit code.

use super::Ctx;
use crate::cli::{Cli, ConfirmArgs, InviteArgs, JoinArgs, SyncArgs};
use crate::error::{CliError, CliResult};
use crate::output::{short, Report};
use accord_core::{InviteRole, Node, NodeEvent, Ticket};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SOCKET: &str = "accord.sock";
/// The longest request line `serve` reads from its socket (a command line as JSON).
const MAX_REQUEST_BYTES: u64 = 1024 * 1024;

/// The node of a running `accord serve`, for commands run inside it.
pub struct Serving {
    /// The node.
    pub node: Node,
    /// The runtime the node lives on.
    pub runtime: tokio::runtime::Handle,
}

#[derive(Serialize, Deserialize)]
struct Request {
    args: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Response {
    stdout: String,
    stderr: String,
    code: i32,
}

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::input("network", format!("could not start: {e}")))
}

/// Seconds like `30s`, `2m`, `1h` or a plain number of seconds.
pub fn parse_timeout(what: &str, text: &str) -> CliResult<Duration> {
    let t = text.trim().to_lowercase();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().map_err(|_| {
        CliError::input(
            what,
            format!("'{text}' is not a duration like 30s, 2m or 1h"),
        )
    })?;
    let seconds = match t[digits.len()..].trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => n,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60,
        "h" | "hour" | "hours" => n * 3600,
        _ => {
            return Err(CliError::input(
                what,
                format!("'{text}' is not a duration like 30s, 2m or 1h"),
            ))
        }
    };
    if seconds == 0 {
        return Err(CliError::input(what, "must be longer than zero"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `text` as a QR code drawn with text characters.
pub fn qr(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

fn ticket_report(ticket: &Ticket, waiting: bool) -> Report {
    let text = ticket.to_text();
    let qr = qr(&text);
    let role = match ticket.role {
        InviteRole::Partner => "your partner",
        InviteRole::MyDevice => "another device of yours",
        InviteRole::ReturningPartner => {
            "your partner's new device (they need their recovery secret)"
        }
    };
    Report::new(
        serde_json::json!({ "ticket": text, "role": ticket.role, "expires_at": ticket.expires_at }),
        format!(
            "Invitation for {role}, valid until {} (works once):\n\n{text}\n\n{qr}\nOn the other device: {}\n{}",
            ticket.expires_at.to_rfc3339(),
            match ticket.role {
                InviteRole::Partner => "accord join <ticket> --name <name>",
                InviteRole::MyDevice => "accord join <ticket>",
                InviteRole::ReturningPartner => "accord join <ticket> --recover (then type the recovery secret)",
            },
            if waiting { "Waiting until it is used or expires...\n" } else { "" }
        ),
    )
}

/// `accord invite`: inside `serve`, the node answers the join; otherwise this process runs a
/// node until the ticket is used or expires.
pub fn invite(ctx: &Ctx, a: &InviteArgs) -> CliResult<Report> {
    let role = InviteRole::parse(&a.role)?;
    let span = crate::duration::parse("--expires", &a.expires)?;
    let valid_for = span.after("--expires", ctx.now)? - ctx.now;
    if let Some(serving) = ctx.node {
        let ticket = serving.node.invite(role, valid_for)?;
        return Ok(ticket_report(&ticket, false));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let node = Node::start(&ctx.data, ctx.network.clone()).await?;
        let ticket = match node.invite(role, valid_for) {
            Ok(t) => t,
            Err(e) => {
                node.shutdown().await;
                return Err(e.into());
            }
        };
        // Show the ticket now; the command's own report comes when it was used.
        let first = ticket_report(&ticket, true);
        let json = std::env::args().any(|a| a == "--json");
        first.print(json);
        let mut events = node.subscribe();
        let outcome = tokio::time::timeout(
            (ticket.expires_at - chrono::Utc::now())
                .to_std()
                .unwrap_or_default(),
            async {
                loop {
                    match events.recv().await {
                        Ok(NodeEvent::DevicePaired { device }) => return Some(device),
                        Ok(NodeEvent::ConfirmPairing {
                            device,
                            device_name,
                            code,
                        }) => {
                            eprint!(
                                "A device named \"{device_name}\" asks to join as yours. It shows the code {code}.\n\
                                 Is it yours, and does it show the same code? [y/N] "
                            );
                            let answer = tokio::task::spawn_blocking(|| {
                                let mut line = String::new();
                                let _ = std::io::stdin().read_line(&mut line);
                                line
                            })
                            .await
                            .unwrap_or_default();
                            let yes = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
                            if !yes {
                                eprintln!("Refused; the ticket stays valid until it expires.");
                            }
                            let _ = node.confirm_pairing(&device, yes);
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return None,
                    }
                }
            },
        )
        .await;
        // Let the joiner finish reading the space.
        tokio::time::sleep(Duration::from_millis(300)).await;
        node.shutdown().await;
        match outcome {
            Ok(Some(device)) => Ok(Report::new(
                serde_json::json!({ "paired": device }),
                format!("Device {} joined.\n", short(device.as_str())),
            )),
            _ => Err(CliError::input(
                "ticket",
                "expired before anyone used it; run `accord invite` again",
            )),
        }
    })
}

/// `accord confirm DEVICE [--decline]`: answers a device of yours asking to join through
/// `serve`.
pub fn confirm(ctx: &Ctx, a: &ConfirmArgs) -> CliResult<Report> {
    let Some(serving) = ctx.node else {
        return Err(CliError::input(
            "confirm",
            "no invitation is being answered here: run `accord serve` (it prints the request), or answer the prompt of `accord invite --role my-device`",
        ));
    };
    let id = accord_core::DeviceId(a.device.trim().to_lowercase());
    let waiting = serving.node.waiting_confirmations();
    let matching: Vec<&accord_core::DeviceId> = waiting
        .iter()
        .filter(|d| d.as_str().starts_with(id.as_str()))
        .collect();
    let device = match matching.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(CliError::input(
                "device",
                "no device with that id is waiting for confirmation",
            ))
        }
        _ => {
            return Err(CliError::input(
                "device",
                "matches several waiting devices; give more characters",
            ))
        }
    };
    serving.node.confirm_pairing(&device, !a.decline)?;
    Ok(Report::new(
        serde_json::json!({ "device": device, "confirmed": !a.decline }),
        if a.decline {
            format!("Refused device {}.\n", short(device.as_str()))
        } else {
            format!(
                "Confirmed device {}: it joins now.\n",
                short(device.as_str())
            )
        },
    ))
}

/// `accord join TICKET --name NAME`.
pub fn join(ctx: &Ctx, a: &JoinArgs) -> CliResult<Report> {
    let tz = match &a.tz {
        Some(t) => super::parse_tz("--tz", t)?,
        None => super::setup::default_time_zone()?,
    };
    if Ticket::parse(&a.ticket).is_ok_and(|t| t.role == InviteRole::MyDevice) {
        let code = Node::join_confirmation_code(&ctx.data, &a.ticket)?;
        eprintln!(
            "This device shows the code {code}: confirm on your other device that it shows the same."
        );
    }
    let recovery = if a.recover {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CliError::input("recovery secret", format!("could not be read: {e}")))?;
        Some(line)
    } else {
        None
    };
    let as_partner = Ticket::parse(&a.ticket).is_ok_and(|t| t.role == InviteRole::Partner);
    let rt = runtime()?;
    let (info, secret) = rt.block_on(async {
        let node = match &recovery {
            Some(secret) => {
                Node::join_recovered(
                    &ctx.data,
                    &a.ticket,
                    secret,
                    &a.device_name,
                    ctx.network.clone(),
                )
                .await?
            }
            None => {
                Node::join(
                    &ctx.data,
                    &a.ticket,
                    &a.name,
                    &tz,
                    &a.device_name,
                    ctx.network.clone(),
                )
                .await?
            }
        };
        // The other partner's first device: their recovery secret, shown once.
        let result = node.space(|s| {
            let secret = as_partner
                .then(|| s.set_up_recovery(chrono::Utc::now()))
                .transpose()?;
            Ok::<_, accord_core::Error>((s.info()?, secret.map(|s| s.to_text())))
        });
        node.shutdown().await;
        result
    })?;
    let partners: Vec<String> = info.partners.iter().map(|p| p.name.clone()).collect();
    let me = info
        .partners
        .iter()
        .find(|p| p.id == info.me)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let welcome = if recovery.is_some() {
        format!("Welcome back, {me}: this device is yours now and your earlier devices no longer count. ")
    } else {
        String::new()
    };
    Ok(Report::new(
        serde_json::json!({ "data_dir": ctx.data, "space": info, "recovery_secret": secret }),
        format!(
            "{welcome}Joined the space of {} in {}. Run `accord serve` (or `accord sync`) to stay in sync.\n{}",
            partners.join(" and "),
            ctx.data.display(),
            secret
                .map(|s| format!("\n{}", super::setup::recovery_words(&s)))
                .unwrap_or_default()
        ),
    ))
}

/// `accord sync`: connect to every known device and converge.
pub fn sync(ctx: &Ctx, a: &SyncArgs) -> CliResult<Report> {
    let timeout = parse_timeout("--timeout", &a.timeout)?;
    let report = match ctx.node {
        Some(serving) => serving.runtime.block_on(serving.node.sync_now(timeout))?,
        None => {
            let rt = runtime()?;
            rt.block_on(async {
                let node = Node::start(&ctx.data, ctx.network.clone()).await?;
                let report = node.sync_now(timeout).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                node.shutdown().await;
                report
            })?
        }
    };
    if report.converged.is_empty() && report.unreachable.is_empty() {
        return Ok(Report::new(
            serde_json::json!(report),
            "No other device is paired yet.\n",
        ));
    }
    if !report.unreachable.is_empty() {
        let names: Vec<String> = report
            .unreachable
            .iter()
            .map(|u| format!("{} ({})", short(u.device.as_str()), u.reason))
            .collect();
        return Err(CliError::input(
            "sync",
            format!(
                "not converged with {}: make sure that device runs `accord serve` on a reachable network",
                names.join(", ")
            ),
        ));
    }
    Ok(Report::new(
        serde_json::json!(report),
        format!(
            "In sync with {} device(s) ({} bytes sent, {} received).\n",
            report.converged.len(),
            report.bytes_sent,
            report.bytes_received
        ),
    ))
}

/// `accord serve`: run the node until interrupted, printing events, answering local commands.
pub fn serve(ctx: &Ctx) -> CliResult<Report> {
    if ctx.node.is_some() {
        return Err(CliError::input(
            "serve",
            "is already running for this directory",
        ));
    }
    let rt = runtime()?;
    let node = rt.block_on(Node::start(&ctx.data, ctx.network.clone()))?;
    node.space(|s| s.info())?;
    let _guard = rt.enter();
    node.keep_connected();
    let serving = Serving {
        node,
        runtime: rt.handle().clone(),
    };
    let socket = ctx.data.join(SOCKET);
    let _ = std::fs::remove_file(&socket);
    // The directory is the owner's alone before the socket appears in it, so no one else can
    // reach the socket in the moment before its own mode is set.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ctx.data, std::fs::Permissions::from_mode(0o700)).map_err(
            |e| {
                CliError::input(
                    "serve",
                    format!("could not protect {}: {e}", ctx.data.display()),
                )
            },
        )?;
    }
    let listener = UnixListener::bind(&socket).map_err(|e| {
        CliError::input(
            "serve",
            format!("could not listen on {}: {e}", socket.display()),
        )
    })?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
    }
    let json = std::env::args().any(|a| a == "--json");
    let mut events = serving.node.subscribe();
    rt.spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let Some(text) = describe(&event) else {
                        continue;
                    };
                    let line = if json {
                        serde_json::to_string(&event).unwrap_or_default()
                    } else {
                        text
                    };
                    println!("{line}");
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    });
    if !json {
        println!(
            "Serving device {} from {} (Ctrl-C to stop). Other accord commands on this directory go through it.",
            short(serving.node.device_id().as_str()),
            ctx.data.display()
        );
    }
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        answer(stream, &serving);
    }
    Ok(Report::new(serde_json::json!({}), ""))
}

/// The line `serve` prints for `event`; none for when devices connect or are in sync: a log
/// of that (timestamped by a terminal or a service manager) would tell when the partner was
/// online.
fn describe(event: &NodeEvent) -> Option<String> {
    Some(match event {
        NodeEvent::DocumentChanged { remote: true } => "changes arrived from another device".into(),
        NodeEvent::DocumentChanged { remote: false } => "saved a change".into(),
        NodeEvent::RemindersChanged => "reminders changed".into(),
        NodeEvent::DeviceConnected { .. }
        | NodeEvent::DeviceDisconnected { .. }
        | NodeEvent::SyncStatusChanged { .. } => return None,
        NodeEvent::DevicePaired { device } => format!("device {} joined", short(device.as_str())),
        NodeEvent::ConfirmPairing {
            device,
            device_name,
            code,
        } => {
            let id = short(device.as_str());
            format!(
                "device {id} (\"{device_name}\") asks to join as yours and shows the code {code}. \
                 If it is yours and shows that code: accord confirm {id}; if not: accord confirm {id} --decline"
            )
        }
        NodeEvent::SyncError { device, message } => match device {
            Some(d) => format!("sync with {} failed: {message}", short(d.as_str())),
            None => format!("sync failed: {message}"),
        },
    })
}

fn answer(stream: UnixStream, serving: &Serving) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    // One bounded request per connection, arriving promptly: a client that sends nothing or
    // an endless line cannot hold `serve` (it answers one connection at a time).
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut line = String::new();
    if (&mut reader)
        .take(MAX_REQUEST_BYTES)
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(request) => run_forwarded(request, serving),
        Err(e) => Response {
            stdout: String::new(),
            stderr: format!("error: bad request: {e}\n"),
            code: 2,
        },
    };
    let mut stream = stream;
    let _ = writeln!(
        stream,
        "{}",
        serde_json::to_string(&response).unwrap_or_default()
    );
}

fn run_forwarded(request: Request, serving: &Serving) -> Response {
    use clap::Parser;
    let args = std::iter::once("accord".to_owned()).chain(request.args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            return Response {
                stdout: String::new(),
                stderr: e.render().to_string(),
                code: crate::error::EXIT_USAGE,
            }
        }
    };
    match super::run(&cli, Some(serving)) {
        Ok(report) => {
            let (stdout, stderr) = report.render(cli.json);
            Response {
                stdout,
                stderr,
                code: 0,
            }
        }
        Err(e) => Response {
            stdout: String::new(),
            stderr: crate::output::render_error(&e, cli.json),
            code: crate::error::EXIT_ERROR,
        },
    }
}

/// If a `serve` runs for `data`, sends it the command line and returns its answer
/// (stdout, stderr, exit code); `None` when no node answers (then run locally).
pub fn forward(data: &Path, args: Vec<String>) -> Option<(String, String, i32)> {
    let socket: PathBuf = data.join(SOCKET);
    let mut stream = UnixStream::connect(&socket).ok()?;
    let request = serde_json::to_string(&Request { args }).ok()?;
    writeln!(stream, "{request}").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    let response: Response = serde_json::from_str(&line).ok()?;
    Some((response.stdout, response.stderr, response.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_shows_no_presence() {
        let device = accord_core::DeviceId("ab".repeat(32));
        for event in [
            NodeEvent::DeviceConnected {
                device: device.clone(),
            },
            NodeEvent::DeviceDisconnected {
                device: device.clone(),
            },
            NodeEvent::SyncStatusChanged {
                device: device.clone(),
            },
        ] {
            assert_eq!(describe(&event), None, "{event:?}");
        }
        let arrived = describe(&NodeEvent::DocumentChanged { remote: true }).unwrap();
        assert!(arrived.contains("changes arrived"), "{arrived}");
    }
}
