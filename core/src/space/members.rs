//! Partners and devices: the space's members, enrolment, removal and one's own profile.

use super::*;

pub(super) fn check_device_id(device: &DeviceId) -> Result<()> {
    device
        .as_str()
        .parse::<iroh_base::PublicKey>()
        .map(|_| ())
        .map_err(|_| Error::invalid("device id", format!("'{device}' is not a device id")))
}

/// What an enrolment writes besides the device's record.
pub(super) enum EnrolWith<'a> {
    Nothing,
    /// The record of the new partner the device is the first of.
    NewPartner(Vec<(&'a str, Val)>),
    /// A returning partner's recovery proof for the device.
    Proof(&'a str),
}

impl Space {
    /// The space, its partners and devices.
    pub fn info(&mut self) -> Result<SpaceInfo> {
        let mut info = self.derive_info()?;
        if self.key_in_use {
            info.read_only = Some(Error::DeviceKeyInUse.to_string());
        }
        if self.restored.is_some() {
            info.read_only = Some(keys::Restored::error().to_string());
        }
        Ok(info)
    }

    fn derive_info(&mut self) -> Result<SpaceInfo> {
        if let Some(info) = self.info_from_cache() {
            return info;
        }
        self.ready()?;
        let (me, my_device) = self.me_for_reading()?;
        let derived = self.derived();
        Ok(SpaceInfo {
            id: SpaceId(self.doc().root_str("space_id").unwrap_or_default()),
            schema_version: self.doc().schema_version().unwrap_or(0),
            read_only: self.report.read_only.clone(),
            my_device,
            me,
            partners: derived.members.partners.clone(),
            devices: derived.members.devices.values().cloned().collect(),
            ending: derived.members.ending.clone(),
        })
    }

    /// The other partner, if they joined.
    pub fn partner(&mut self) -> Result<Option<Partner>> {
        let info = self.info()?;
        Ok(info.partners.into_iter().find(|p| p.id != info.me))
    }

    /// Enrolls the other partner and their first device (run on the inviting device, once,
    /// while the space has one partner). Returns the new partner's id.
    pub fn add_partner(
        &mut self,
        name: &str,
        time_zone: &str,
        device: &DeviceId,
        device_name: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerId> {
        self.writable()?;
        let name = clean_text("partner name", name, MAX_NAME_CHARS, true)?;
        let tz = check_time_zone(time_zone)?;
        if self.derived().members.partners.len() >= 2 {
            return Err(Error::ThirdPartner);
        }
        let partner = PartnerId::random();
        let record = vec![("name", name.into()), ("time_zone", tz.into())];
        self.enrol(
            device,
            device_name,
            &partner,
            Role::Partner,
            EnrolWith::NewPartner(record),
            now,
        )?;
        Ok(partner)
    }

    /// Enrolls another device of this device's partner.
    pub fn add_device(&mut self, device: &DeviceId, name: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        self.enrol(device, name, &me, Role::Device, EnrolWith::Nothing, now)?;
        // The new device reads this partner's earlier positions: reseal the keyring to it.
        let ring = self.keyring(None);
        if !ring.is_empty() {
            self.write_keyring(&ring, now)?;
        }
        Ok(())
    }

    /// Enrolls the new device of a partner who lost every device, when `proof` is that
    /// device's proof by the partner's current recovery key `recovery_key` (the joining device
    /// sends both). Their earlier devices become void. Returns the partner.
    pub fn add_recovered_device(
        &mut self,
        device: &DeviceId,
        device_name: &str,
        recovery_key: &str,
        proof: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerId> {
        let (me, _) = self.writable()?;
        let members = &self.derived().members;
        let partner = members
            .recovery
            .iter()
            .find(|(_, key)| key.sign == recovery_key && key.proves(device, proof))
            .map(|(partner, _)| partner.clone())
            .ok_or_else(|| {
                Error::NotAllowed(
                    "this recovery secret is not a partner's current one in this space: check it, or ask whether it was replaced".into(),
                )
            })?;
        if partner == me {
            return Err(Error::NotAllowed(
                "this is your own recovery secret: add a device of yours with a my-device invitation (a returning-partner invitation is for your partner)".into(),
            ));
        }
        if members
            .ending
            .as_ref()
            .is_some_and(|e| e.partner == partner)
        {
            return Err(Error::NotAllowed(
                "the pairing with this partner ended: they cannot come back into this space (a new relationship is a new space)".into(),
            ));
        }
        let with = EnrolWith::Proof(proof);
        self.enrol(device, device_name, &partner, Role::Recovered, with, now)?;
        Ok(partner)
    }

    /// Writes a device enrolment signed by this device (and, for a new partner, their record).
    pub(super) fn enrol(
        &mut self,
        device: &DeviceId,
        device_name: &str,
        partner: &PartnerId,
        role: Role,
        with: EnrolWith<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (_, my_device) = self.writable()?;
        let device_name = clean_text("device name", device_name, MAX_NAME_CHARS, false)?;
        check_device_id(device)?;
        if self.derived().members.devices.contains_key(device) {
            return Err(Error::NotAllowed(format!(
                "device {device} is already enrolled"
            )));
        }
        // A record under its id that is not a valid enrolment (written by a modified client)
        // keeps the key taken: writing there again would replace it, which peers refuse.
        if self
            .doc()
            .entity_registers("devices", device.as_str())
            .is_some()
        {
            return Err(Error::NotAllowed(format!(
                "device {device} already has a record in this space that is not a valid enrolment; it cannot be enrolled (create a new device key)"
            )));
        }
        let seq = self.next_seq();
        let at = now_ms(now);
        let touched = match role {
            Role::Device => Touched::DeviceAdded(device.clone()),
            _ => Touched::All,
        };
        self.write(role.as_str(), None, now, touched, |tx| {
            let proof = match with {
                EnrolWith::Proof(proof) => Some(proof),
                _ => None,
            };
            if let EnrolWith::NewPartner(mut fields) = with {
                fields.push(("seq", seq.into()));
                fields.push(("at", at.into()));
                tx.insert_map(&["partners"], partner.as_str(), fields, &[])?;
            }
            let mut fields = vec![
                ("partner", partner.0.clone().into()),
                ("name", device_name.into()),
                ("role", role.as_str().into()),
                ("seq", seq.into()),
                ("enrolled_by", my_device.0.clone().into()),
                ("at", at.into()),
            ];
            if let Some(proof) = proof {
                fields.push(("proof", proof.into()));
            }
            tx.insert_map(&["devices"], device.as_str(), fields, &["removals"])
        })
    }

    /// Removes a device of this device's partner (unpair, a lost phone): from what this
    /// device has seen of it on, nothing it writes counts. What the remaining devices hold is
    /// kept; the removed device keeps its own copy. A device of the other partner cannot be
    /// removed: [`Space::end_pairing`] stops syncing with all of them.
    pub fn remove_device(&mut self, device: &DeviceId, now: DateTime<Utc>) -> Result<()> {
        let (me, my_device) = self.writable()?;
        let known = self
            .derived()
            .members
            .devices
            .get(device)
            .ok_or_else(|| Error::not_found("device", device.as_str()))?;
        if known.partner != me {
            return Err(Error::NotAllowed(format!(
                "device {device} belongs to your partner: only they can remove it (to stop syncing with your partner, end the pairing)"
            )));
        }
        if known.removed {
            return Ok(());
        }
        let seq = self.next_seq();
        let at = now_ms(now);
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("remove device", None, now, Touched::All, |tx| {
            tx.insert_record(
                &["devices", device.as_str(), "removals"],
                rec.as_str(),
                vec![
                    ("by", my_device.0.clone().into()),
                    ("seq", seq.into()),
                    ("at", at.into()),
                ],
            )
        })?;
        // The removed device must not read this partner's later positions.
        if !self.keyring(None).is_empty() {
            self.rotate_keyring(None, now)?;
        }
        Ok(())
    }

    /// Ends the pairing with the other partner: from what this device has seen of their
    /// devices on, nothing those devices write counts and they no longer sync with this
    /// partner's devices. Both partners keep their copies and the history shows who ended it;
    /// commitment reminders stop. A new relationship is a new space.
    pub fn end_pairing(&mut self, now: DateTime<Utc>) -> Result<Ending> {
        let (me, _) = self.writable()?;
        if let Some(ending) = &self.derived().members.ending {
            return Err(Error::NotAllowed(format!(
                "the pairing already ended (by partner {})",
                ending.by
            )));
        }
        let other = self
            .derived()
            .members
            .partners
            .iter()
            .find(|p| p.id != me)
            .map(|p| p.id.clone())
            .ok_or_else(|| Error::NotAllowed("no partner has joined this space".into()))?;
        let seq = self.next_seq();
        let at = now_ms(now);
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("end pairing", None, now, Touched::All, |tx| {
            tx.insert_record(
                &["endings"],
                rec.as_str(),
                vec![
                    ("partner", other.0.clone().into()),
                    ("seq", seq.into()),
                    ("at", at.into()),
                ],
            )
        })?;
        self.derived()
            .members
            .ending
            .clone()
            .ok_or_else(|| Error::NotAllowed("the ending was written but does not count".into()))
    }

    /// Finds the device whose id starts with `prefix`.
    pub fn find_device(&mut self, prefix: &str) -> Result<DeviceId> {
        self.ready()?;
        let ids: Vec<&DeviceId> = self.derived().members.devices.keys().collect();
        unique_prefix("device", prefix, ids.into_iter())
    }

    /// Changes this partner's display name or time zone.
    pub fn update_me(
        &mut self,
        name: Option<&str>,
        time_zone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (me, _) = self.writable()?;
        let name = name
            .map(|n| clean_text("partner name", n, MAX_NAME_CHARS, true))
            .transpose()?;
        let tz = time_zone.map(check_time_zone).transpose()?;
        self.write("update partner", None, now, Touched::All, |tx| {
            if let Some(n) = name {
                tx.put(&["partners", me.as_str()], "name", n)?;
            }
            if let Some(t) = tz {
                tx.put(&["partners", me.as_str()], "time_zone", t)?;
            }
            Ok(())
        })
    }
}
