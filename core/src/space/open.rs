//! Opening a device directory: creating or joining a space, opening one, and loading the
//! document (at once on a thread, or on demand), then replaying pending intents.

use super::*;

impl DocumentSource {
    /// Loads the snapshot and applies the log's frames, stopping at the first bad frame.
    pub(super) fn load(self) -> LoadResult {
        let snapshot = crate::storage::read_snapshot_file(&self.dir)?;
        let mut doc = match &snapshot {
            Some((_, bytes)) => {
                Document::load(bytes, &self.actor).map_err(|reason| Error::Corrupt {
                    path: self.dir.join("snapshot.bin"),
                    reason,
                })?
            }
            None => Document::empty(&self.actor),
        };
        let mut extras = LoadedExtras::default();
        for (i, frame) in self.frames.iter().enumerate() {
            let Ok(items) = FrameItems::split(&frame.changes) else {
                extras.bad_frame = Some(i);
                return Ok((doc, extras));
            };
            if doc.apply_stored_changes(&items.changes).is_err() {
                extras.bad_frame = Some(i);
                return Ok((doc, extras));
            }
            extras.checkpoints.extend(items.checkpoints);
            extras.intents.extend(items.intents);
        }
        doc.prepare_for_peers();
        Ok((doc, extras))
    }
}

/// Splits an export into its checkpoints and document (a bare document has none).
pub(super) fn split_export(bytes: &[u8]) -> Result<(Vec<Checkpoint>, &[u8])> {
    let Some(rest) = bytes.strip_prefix(EXPORT_MAGIC) else {
        return Ok((Vec::new(), bytes));
    };
    let bad = || Error::InvalidRemoteData("the exported space is truncated".into());
    let count = u32::from_be_bytes(
        rest.get(..4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?,
    ) as usize;
    let len = count.checked_mul(CHECKPOINT_BYTES).ok_or_else(bad)?;
    let list = rest.get(4..4 + len).ok_or_else(bad)?;
    let checkpoints = Checkpoint::decode_all(list).ok_or_else(bad)?;
    Ok((checkpoints, &rest[4 + len..]))
}

impl Space {
    /// Creates a new space in the empty device directory `dir`, founded by this device.
    pub fn create(dir: &Path, input: CreateSpace, now: DateTime<Utc>) -> Result<Space> {
        let name = clean_text("partner name", &input.partner_name, MAX_NAME_CHARS, true)?;
        let device_name = clean_text("device name", &input.device_name, MAX_NAME_CHARS, false)?;
        let tz = check_time_zone(&input.time_zone)?;
        let lock = Storage::lock(dir)?;
        if Storage::exists(dir) {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        let identity = DeviceIdentity::load_or_create(dir)?;
        let space_id = SpaceId::random();
        let partner = PartnerId::random();
        let device = identity.device_id();
        let anchor = Anchor {
            space_id: space_id.0.clone(),
            founder_device: device.0.clone(),
        };
        let mut doc = Document::create(
            &identity.actor_bytes(),
            space_id.as_str(),
            device.as_str(),
            now_ms(now),
        )?;
        doc.change(&message("found", None), now_ms(now), |tx| {
            tx.insert_map(
                &["partners"],
                partner.as_str(),
                vec![
                    ("name", name.into()),
                    ("time_zone", tz.into()),
                    ("seq", 1i64.into()),
                    ("at", now_ms(now).into()),
                ],
                &[],
            )?;
            tx.insert_map(
                &["devices"],
                device.as_str(),
                vec![
                    ("partner", partner.0.clone().into()),
                    ("name", device_name.into()),
                    ("role", Role::Founder.as_str().into()),
                    ("seq", 2i64.into()),
                    ("enrolled_by", device.0.clone().into()),
                    ("at", now_ms(now).into()),
                ],
                &["removals"],
            )
        })?;
        Self::from_new_document(
            dir,
            lock,
            identity,
            doc,
            anchor,
            Checkpoints::default(),
            None,
        )
    }

    /// Sets up this (empty) device directory from a copy of a space in which this device was
    /// already enrolled (by the inviting device). A device of a partner who already has a
    /// keyring finds it sealed to itself in the copy.
    pub fn join(dir: &Path, document: &[u8]) -> Result<Space> {
        Self::join_with(dir, document, None)
    }

    /// Sets up this (empty) device directory as a partner's recovered device: enrolled by the
    /// other partner's device with a proof by `recovery` (see [`Space::recovery_proof`]). The
    /// partner's keyring is opened with the recovery secret and resealed to this device with
    /// a fresh generation (their earlier devices are void), so positions written before stay
    /// readable and revealable here.
    pub fn join_recovered(dir: &Path, document: &[u8], recovery: &RecoverySecret) -> Result<Space> {
        Self::join_with(dir, document, Some(recovery))
    }

    fn join_with(dir: &Path, document: &[u8], recovery: Option<&RecoverySecret>) -> Result<Space> {
        Self::receive(dir, document, Received::Joined(recovery))
    }

    /// A backup's document restored as `partner`'s read-only copy (see
    /// [`Space::restore_backup`]).
    pub(super) fn restore_into(
        dir: &Path,
        document: &[u8],
        space_id: &str,
        partner: &PartnerId,
    ) -> Result<Space> {
        Self::receive(dir, document, Received::Restored { space_id, partner })
    }

    fn receive(dir: &Path, document: &[u8], how: Received<'_>) -> Result<Space> {
        let lock = Storage::lock(dir)?;
        if Storage::exists(dir) {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        let identity = DeviceIdentity::load_or_create(dir)?;
        let (checkpoint_list, document) = split_export(document)?;
        let doc = Document::load(document, &identity.actor_bytes())
            .map_err(|e| Error::InvalidRemoteData(format!("the space could not be read: {e}")))?;
        // A joining device has written nothing: changes in its name are forged, and it would
        // confirm them with its first checkpoint.
        if doc.last_local_change().is_some() {
            return Err(Error::InvalidRemoteData(
                "the received space holds changes in this device's name; it was refused".into(),
            ));
        }
        let (Some(space_id), Some(founder)) =
            (doc.root_str("space_id"), doc.root_str("founder_device"))
        else {
            return Err(Error::InvalidRemoteData(
                "the space names no id or founder".into(),
            ));
        };
        if let Received::Restored {
            space_id: named, ..
        } = how
        {
            if named != space_id {
                return Err(Error::InvalidRemoteData(
                    "the backup holds another space than the one it names".into(),
                ));
            }
        }
        let anchor = Anchor {
            space_id,
            founder_device: founder,
        };
        let checkpoints = Checkpoints::default();
        checkpoints.add(&checkpoint_list);
        checkpoints.resolve(&anchor.space_id, |h| doc.change_facts(h));
        let trust = TrustContext {
            space_id: anchor.space_id.clone(),
            founder: DeviceId(anchor.founder_device.clone()),
            checkpoints: checkpoints.clone(),
        };
        // The received document is checked while its views are derived (on both cores);
        // nothing is written before the check passes.
        let (checked, derived) = std::thread::scope(|scope| {
            let check = scope.spawn(|| {
                doc.check_received(&|batch: &[_]| {
                    trust.checkpoints.coverage(&trust.space_id, batch)
                })
            });
            let derived = derive::derive_views(&doc, &trust);
            match check.join() {
                Ok(checked) => (checked, derived),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        checked?;
        let members = &derived.members;
        let member = match how {
            Received::Joined(_) => members.partner_of_device(&identity.device_id()).is_some(),
            Received::Restored { partner, .. } => members.is_partner(partner),
        };
        if !member {
            return Err(Error::NotAMember(format!(
                "this device ({})",
                identity.device_id()
            )));
        }
        let mut space = Self::from_new_document(
            dir,
            lock,
            identity,
            doc,
            anchor,
            checkpoints,
            Some((document, derived)),
        )?;
        if let Received::Joined(Some(recovery)) = how {
            space.rotate_keyring(Some(recovery), Utc::now())?;
        }
        Ok(space)
    }

    pub(super) fn from_new_document(
        dir: &Path,
        lock: std::fs::File,
        identity: DeviceIdentity,
        doc: Document,
        anchor: Anchor,
        checkpoints: Checkpoints,
        received: Option<(&[u8], Derived)>,
    ) -> Result<Space> {
        anchor.save(dir)?;
        let (mut storage, _) = Storage::open(dir, lock)?;
        // A new space: intents left in the directory belong to no space.
        let (mut intents, leftover, _) = IntentLog::open(dir)?;
        if !leftover.is_empty() {
            intents.clear()?;
        }
        let heads = doc.heads();
        // A document received whole is stored as it came (it is a saved document already).
        let derived = match received {
            Some((bytes, derived)) => {
                storage.compact(&heads_to_bytes(&heads), bytes)?;
                Some(derived)
            }
            None => {
                storage.compact(&heads_to_bytes(&heads), &doc.save())?;
                None
            }
        };
        let mut space = Space {
            storage,
            trust: TrustContext {
                space_id: anchor.space_id.clone(),
                founder: DeviceId(anchor.founder_device.clone()),
                checkpoints,
            },
            identity,
            doc: DocState::Ready(Box::new(doc)),
            derived: None,
            cached: None,
            persisted_heads: heads,
            report: OpenReport::default(),
            events: Vec::new(),
            reminders_fingerprint: 0,
            reminders_dirty: true,
            unstored_checkpoints: Vec::new(),
            compaction: CompactionLimits::default(),
            load_failure: None,
            intents,
            pending: Vec::new(),
            replaying: None,
            unstored_intents: Vec::new(),
            max_pending_intents: intents::MAX_PENDING_INTENTS,
            unsaved_caches: false,
            closed: false,
            key_in_use: dir.join(KEY_IN_USE_FILE).exists(),
            restored: keys::Restored::load(dir)?,
        };
        space.refresh_own_checkpoint();
        space.trust.checkpoints.save(dir)?;
        match derived {
            Some(derived) => space.set_derived(derived),
            None => space.derive_all()?,
        }
        space.reminders_fingerprint = reminders_fingerprint(space.derived());
        space.write_view_cache();
        Ok(space)
    }

    /// Opens the space in `dir`. Returns at once: the list and the agenda are served from a
    /// cache checked against the stored heads while the document loads in the background.
    pub fn open(dir: &Path) -> Result<Space> {
        Self::open_with(dir, LoadMode::Background)
    }

    /// Opens the space in `dir`, loading the whole document as `mode` says.
    pub fn open_with(dir: &Path, mode: LoadMode) -> Result<Space> {
        if !Storage::exists(dir) {
            return Err(Error::NotInitialized(dir.to_path_buf()));
        }
        let lock = Storage::lock(dir)?;
        let identity = DeviceIdentity::load_or_create(dir)?;
        let anchor = Anchor::load(dir)?.ok_or_else(|| Error::Corrupt {
            path: dir.join("space.json"),
            reason: "missing: this device's record of which space it belongs to".into(),
        })?;
        let (storage, loaded) = Storage::open(dir, lock)?;
        let (intents, payloads, damaged_intents) = IntentLog::open(dir)?;
        let pending = payloads
            .iter()
            .map(|payload| PendingIntent::decode(payload, dir))
            .collect::<Result<Vec<_>>>()?;
        let stored_heads = loaded.heads().map(heads_from_bytes).unwrap_or_default();
        let cache = Storage::read_view_cache(dir)
            .and_then(|bytes| serde_json::from_slice::<ViewCache>(&bytes).ok())
            .filter(|cache| {
                cache.schema <= SCHEMA_VERSION
                    && cache.log_frames == Some(loaded.frames.len())
                    && cache.heads
                        == stored_heads
                            .iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
            });
        let torn = loaded.torn;
        let source = DocumentSource {
            dir: dir.to_path_buf(),
            actor: identity.actor_bytes(),
            frames: loaded.frames,
        };
        let doc = match mode {
            LoadMode::OnDemand => DocState::NotLoaded(Box::new(source)),
            LoadMode::Background => DocState::Loading(
                std::thread::Builder::new()
                    .name("accord-load".into())
                    .spawn(move || source.load())
                    .map_err(|e| Error::io(dir, e))?,
            ),
        };
        let mut space = Space {
            storage,
            trust: TrustContext {
                space_id: anchor.space_id.clone(),
                founder: DeviceId(anchor.founder_device.clone()),
                checkpoints: Checkpoints::load(dir),
            },
            identity,
            doc,
            derived: None,
            cached: cache,
            persisted_heads: stored_heads,
            report: OpenReport {
                torn_tail: torn,
                read_only: None,
                damaged_intents,
                replayed: None,
            },
            events: Vec::new(),
            reminders_fingerprint: 0,
            reminders_dirty: true,
            unstored_checkpoints: Vec::new(),
            compaction: CompactionLimits::default(),
            load_failure: None,
            intents,
            pending,
            replaying: None,
            unstored_intents: Vec::new(),
            max_pending_intents: intents::MAX_PENDING_INTENTS,
            unsaved_caches: false,
            closed: false,
            key_in_use: dir.join(KEY_IN_USE_FILE).exists(),
            restored: keys::Restored::load(dir)?,
        };
        space.bring_cache_to_intents();
        Ok(space)
    }

    /// Waits for the document to be loaded and derived.
    pub(super) fn ready(&mut self) -> Result<()> {
        if let DocState::Loading(_) | DocState::NotLoaded(_) = self.doc {
            let loaded = match std::mem::replace(&mut self.doc, DocState::Poisoned) {
                DocState::Loading(handle) => handle.join().map_err(|_| Error::Corrupt {
                    path: self.storage.dir().to_path_buf(),
                    reason: "loading the document failed unexpectedly".into(),
                })?,
                // As on the loader thread, a panic inside the engine is an error, not a crash.
                DocState::NotLoaded(source) => {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.load()))
                        .unwrap_or_else(|_| {
                            Err(Error::Corrupt {
                                path: self.storage.dir().to_path_buf(),
                                reason: "loading the document failed unexpectedly".into(),
                            })
                        })
                }
                _ => unreachable!("checked above"),
            };
            let (doc, extras) = match loaded {
                Ok(loaded) => loaded,
                Err(e) => {
                    self.load_failure = Some(e.to_string());
                    return Err(e);
                }
            };
            if let Some(index) = extras.bad_frame {
                if let Some(torn) = cut_log_at(&mut self.storage, index)? {
                    self.report.torn_tail = Some(torn);
                }
            }
            self.persisted_heads = doc.heads();
            self.doc = DocState::Ready(Box::new(doc));
            self.trust.checkpoints.add(&extras.checkpoints);
            self.refresh_own_checkpoint();
            self.resolve_checkpoints();
            self.derive_all()?;
            self.reminders_fingerprint = reminders_fingerprint(self.derived());
            // Before anything else uses the document: the writes made without it.
            self.replay_intents(&extras.intents)?;
            // A cache that did not match (or held intents now replayed) is written anew at
            // the next quiet moment.
            self.unsaved_caches = true;
        }
        match self.doc {
            DocState::Ready(_) if self.derived.is_some() => Ok(()),
            _ => Err(Error::Corrupt {
                path: self.storage.dir().to_path_buf(),
                reason: match &self.load_failure {
                    Some(failure) => {
                        format!("the space could not be loaded ({failure}); reopen it")
                    }
                    None => "the space could not be loaded; reopen it".into(),
                },
            }),
        }
    }
}

/// How a received document becomes this directory's space.
#[derive(Clone, Copy)]
enum Received<'a> {
    /// This device was enrolled in it (with a returning partner's recovery secret, if given).
    Joined(Option<&'a RecoverySecret>),
    /// A backup of this partner of the space `space_id`, restored read-only.
    Restored {
        space_id: &'a str,
        partner: &'a PartnerId,
    },
}
