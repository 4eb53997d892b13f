//! `init`, `status`, `unpair`.

use super::{names, parse_tz, Ctx};
use crate::cli::{BackupArgs, EndPairingArgs, InitArgs, RecoveryArgs, RestoreArgs, UnpairArgs};
use crate::error::{CliError, CliResult};
use crate::output::{plural, short, Names, Report, Table};
use accord_core::{CreateSpace, ListFilter, Space, Status};
use serde_json::json;
use std::collections::BTreeMap;

/// The zone to use when `--tz` is not given: the TZ environment variable, else UTC.
pub fn default_time_zone() -> CliResult<String> {
    let Some(raw) = std::env::var_os("TZ") else {
        return Ok("UTC".into());
    };
    let raw = raw.to_string_lossy().to_string();
    // TZ may be ":Europe/Berlin" or a path into the zone database.
    let name = raw.trim().trim_start_matches(':');
    let name = name
        .rsplit_once("zoneinfo/")
        .map(|(_, n)| n)
        .unwrap_or(name);
    if name.is_empty() {
        return Ok("UTC".into());
    }
    parse_tz("time zone", name).map_err(|_| {
        CliError::input(
            "time zone",
            format!(
                "the TZ environment variable is '{raw}', which is not an IANA time zone; pass --tz with a name like Europe/Berlin"
            ),
        )
    })
}

pub fn init(ctx: &Ctx, a: &InitArgs) -> CliResult<Report> {
    let tz = match &a.tz {
        Some(t) => parse_tz("--tz", t)?,
        None => default_time_zone()?,
    };
    let device_name = a
        .device_name
        .clone()
        .unwrap_or_else(|| format!("{}'s computer", a.name.trim()));
    let mut space = Space::create(
        &ctx.data,
        CreateSpace {
            partner_name: a.name.clone(),
            time_zone: tz,
            device_name,
        },
        ctx.now,
    )?;
    let secret = space.set_up_recovery(ctx.now)?.to_text();
    let info = space.info()?;
    let me = info
        .partners
        .iter()
        .find(|p| p.id == info.me)
        .cloned()
        .ok_or_else(|| CliError::input("space", "the new space names no partner"))?;
    let text = format!(
        "Created your couple space in {}.\n\
         You are {} ({}); this device is {}.\n\n{}\n\
         Next: write agreements with `accord add --title \"...\"`; they become active once your partner accepts them too.\n",
        ctx.data.display(),
        me.name,
        me.time_zone,
        short(info.my_device.as_str()),
        recovery_words(&secret),
    );
    Ok(Report::new(
        json!({ "data_dir": ctx.data, "space": info, "recovery_secret": secret }),
        text,
    ))
}

/// How a recovery secret is shown: once, with what it is for.
pub fn recovery_words(secret: &str) -> String {
    format!(
        "Your recovery secret (shown only now; write it down or keep this QR code somewhere safe, never in the app):\n\n    {secret}\n\n{}\
         If you lose every device, your partner invites you back (`accord invite --role returning-partner`) and you join with `accord join <ticket> --recover`, typing this secret. Without it you cannot come back as yourself.\n",
        super::network::qr(secret)
    )
}

/// `accord recovery`: a new recovery secret.
pub fn recovery(ctx: &Ctx, a: &RecoveryArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let info = space.info()?;
    let has_one = info
        .partners
        .iter()
        .any(|p| p.id == info.me && p.has_recovery);
    if has_one && !a.replace {
        return Err(CliError::input(
            "recovery",
            "you already have a recovery secret; run again with --replace to make a new one (the old one stops working)",
        ));
    }
    let secret = space.set_up_recovery(ctx.now)?.to_text();
    Ok(Report::new(
        json!({ "recovery_secret": secret }),
        recovery_words(&secret),
    ))
}

/// `accord backup --out FILE`.
pub fn backup(ctx: &Ctx, a: &BackupArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let bytes = space.export_backup()?;
    accord_core::storage::write_atomic(&a.out, &bytes, true)?;
    Ok(Report::new(
        json!({ "backup": a.out, "bytes": bytes.len() }),
        format!(
            "Wrote your backup to {} ({}). It opens only with your recovery secret: `accord --data NEW_DIR restore FILE` on a new device.\n",
            a.out.display(),
            plural(bytes.len(), "byte")
        ),
    ))
}

/// `accord restore FILE`: the recovery secret comes from the first line of standard input.
pub fn restore(ctx: &Ctx, a: &RestoreArgs) -> CliResult<Report> {
    let bytes = std::fs::read(&a.file).map_err(|e| {
        CliError::input(
            "backup",
            format!("{} could not be read: {e}", a.file.display()),
        )
    })?;
    let mut secret = String::new();
    std::io::stdin()
        .read_line(&mut secret)
        .map_err(|e| CliError::input("recovery secret", format!("could not be read: {e}")))?;
    let mut space = Space::restore_backup(&ctx.data, &bytes, &secret)?;
    let info = space.info()?;
    let count = space.list(&ListFilter::default())?.len();
    Ok(Report::new(
        json!({ "data_dir": ctx.data, "space": info, "agreements": count }),
        format!(
            "Restored your copy into {} ({}). It is for reading and export; to take part again, your partner invites you back (`accord invite --role returning-partner`) and you join in an empty directory with --recover.\n",
            ctx.data.display(),
            plural(count, "agreement")
        ),
    ))
}

pub fn status(ctx: &Ctx) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let info = names.info().clone();
    let repaired = space.open_report()?.torn_tail;
    let all = space.list(&ListFilter::default())?;
    let open_concerns = space
        .concerns()?
        .iter()
        .filter(|c| c.state.is_open())
        .count();
    let problems = space.problems()?;
    let mut by_status: BTreeMap<&str, usize> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for a in &all {
        *by_status.entry(a.status.as_str()).or_default() += 1;
    }
    let removed_self = info
        .devices
        .iter()
        .any(|d| d.id == info.my_device && d.removed);
    let me = info
        .partners
        .iter()
        .find(|p| p.id == info.me && !removed_self)
        .cloned();
    let partner = info.partners.iter().find(|p| p.id != info.me).cloned();

    // Whether each other device holds all of this device's changes, as of the last exchange
    // (no presence, no "last seen").
    let has_all: std::collections::BTreeMap<String, bool> = info
        .devices
        .iter()
        .filter(|d| d.id != info.my_device && !d.removed)
        .map(|d| {
            let state = space.load_sync_state(&d.id);
            (d.id.0.clone(), space.peer_has_all_my_changes(&state))
        })
        .collect();
    let devices: Vec<serde_json::Value> = info
        .devices
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "partner": d.partner,
                "partner_name": names.plain(&d.partner),
                "removed": d.removed,
                "this_device": d.id == info.my_device,
                "has_all_my_changes": has_all.get(&d.id.0),
            })
        })
        .collect();
    let json = json!({
        "data_dir": ctx.data,
        "space_id": info.id,
        "read_only": info.read_only,
        "this_device": info.my_device,
        "this_device_removed": removed_self,
        "ending": info.ending,
        "me": me,
        "partner": partner,
        "devices": devices,
        "agreements": { "total": all.len(), "by_status": by_status },
        "open_concerns": open_concerns,
        "problems": problems,
        "repaired": repaired.as_ref().map(|t| json!({
            "offset": t.offset, "bytes_cut": t.bytes_cut, "kept_in": t.kept_in,
        })),
    });

    let mut text = String::new();
    text.push_str(&format!("Data:     {}\n", ctx.data.display()));
    match &me {
        Some(me) => text.push_str(&format!("You:      {} ({})\n", me.name, me.time_zone)),
        None => text.push_str(
            "You:      this device was removed from the space; it keeps its copy to read and export\n",
        ),
    }
    match &partner {
        Some(p) if !removed_self => {
            text.push_str(&format!("Partner:  {} ({})\n", p.name, p.time_zone))
        }
        _ if removed_self => {}
        _ => text.push_str("Partner:  not joined yet\n"),
    }
    if let Some(ending) = &info.ending {
        text.push_str(&format!(
            "Ended:    {} ended the pairing on {}\n",
            names.plain(&ending.by),
            ending.at.format("%Y-%m-%d")
        ));
    }
    if let Some(reason) = &info.read_only {
        text.push_str(&format!("Read-only: {reason}\n"));
    }
    if let Some(t) = &repaired {
        text.push_str(&format!(
            "Repaired: a damaged end of the change log ({} bytes) was cut off and kept in {}\n",
            t.bytes_cut,
            t.kept_in.display()
        ));
    }
    if !info.devices.is_empty() {
        text.push_str("\nDevices\n");
        let mut table = Table::new(&["id", "name", "partner", "note"]);
        for d in &info.devices {
            let mut flags = Vec::new();
            if d.id == info.my_device {
                flags.push("this device");
            }
            if d.removed {
                flags.push("removed");
            }
            match has_all.get(&d.id.0) {
                Some(true) => flags.push("has all my changes"),
                Some(false) => flags.push("does not have all my changes yet"),
                None => {}
            }
            table.row(vec![
                short(d.id.as_str()),
                d.name.clone(),
                names.plain(&d.partner),
                flags.join(", "),
            ]);
        }
        text.push_str(&table.render());
    }
    text.push_str(&format!("\nAgreements: {}\n", all.len()));
    let mut table = Table::new(&["status", "count"]);
    for s in Status::ALL {
        table.row(vec![
            s.words().to_owned(),
            by_status.get(s.as_str()).copied().unwrap_or(0).to_string(),
        ]);
    }
    text.push_str(&table.render());
    text.push_str(&format!("\nOpen concerns: {open_concerns}\n"));
    if problems.is_empty() {
        text.push_str("Problems: none\n");
    } else {
        text.push_str(&format!(
            "Problems: {} in the data were left out (records this app could not read):\n",
            problems.len()
        ));
        for p in &problems {
            text.push_str(&format!("  {}: {}\n", p.subject, p.message));
        }
    }
    Ok(Report::new(json, text))
}

/// Ends the pairing with the other partner (after `--yes`).
pub fn end_pairing(ctx: &Ctx, a: &EndPairingArgs) -> CliResult<Report> {
    if !a.yes {
        return Err(CliError::input(
            "end-pairing",
            "ending the pairing cannot be undone: your partner's devices stop syncing with yours (both keep their copies) and reminders stop; run again with --yes to do it",
        ));
    }
    let mut space = ctx.open()?;
    let ending = space.end_pairing(ctx.now)?;
    let names = names(&mut space)?;
    Ok(Report::new(
        json!({ "ending": ending }),
        format!(
            "Ended the pairing with {}. Their devices no longer sync with yours; both of you keep your copies (list, show and export still work), and reminders stop.
",
            names.plain(&ending.partner)
        ),
    ))
}

pub fn unpair(ctx: &Ctx, a: &UnpairArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let device = space.find_device(&a.device)?;
    let before = names(&mut space)?;
    let this_device = device == before.info().my_device;
    space.remove_device(&device, ctx.now)?;
    let names: Names = super::names(&mut space)?;
    let found = names
        .info()
        .devices
        .iter()
        .find(|d| d.id == device)
        .or_else(|| before.info().devices.iter().find(|d| d.id == device))
        .cloned();
    let label = found
        .as_ref()
        .map(|d| {
            format!(
                "{} ({}, {})",
                short(d.id.as_str()),
                d.name,
                before.plain(&d.partner)
            )
        })
        .unwrap_or_else(|| short(device.as_str()));
    let text = if this_device {
        format!(
            "Removed this device {label} from the space. It keeps its copy (list, show and export still work) but can no longer make changes.\n"
        )
    } else {
        format!(
            "Removed device {label}. It keeps its own copy but can no longer take part; everything here is kept.\n\
             The other devices learn of it when they next sync.\n"
        )
    };
    let remaining = names.info().devices.iter().filter(|d| !d.removed).count();
    Ok(Report::new(
        json!({ "removed": found, "this_device": this_device, "devices_remaining": remaining }),
        if this_device {
            text
        } else {
            format!("{text}{} remain.\n", plural(remaining, "device"))
        },
    ))
}
