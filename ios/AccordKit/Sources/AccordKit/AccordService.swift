import Foundation
@_exported import AccordBindings

/// What the stores need of the core: the bindings' own types behind a protocol, so stores are
/// tested against the real library (``RustService``) and against fakes. Every call runs off the
/// main actor and throws ``AccordKitError`` with the core's message, meant for the screen.
public protocol AccordService: AnyObject, Sendable {
    /// The space, its partners and devices, and who this device's partner is.
    func info() async throws -> SpaceInfo
    /// Every agreement, in the core's order.
    func agreements() async throws -> [AgreementSummary]
    /// Everything about one agreement.
    func agreement(_ id: AgreementId) async throws -> AgreementDetails
    /// Writes a new agreement (this partner accepts its words unless it is a draft).
    func createAgreement(_ input: NewAgreement) async throws -> AgreementId
    /// Accepts the agreement's current exact words.
    func accept(_ id: AgreementId) async throws
    /// Changes an agreement's words; both partners must accept the new words again.
    func editWords(_ id: AgreementId, title: String, details: String) async throws
    /// Settles a conflict on `field` with `value` (one of the versions, or both written into one).
    func resolveConflict(_ id: AgreementId, field: Field, value: String) async throws
    /// An agreement's history, oldest first.
    func history(_ id: AgreementId) async throws -> [HistoryEntry]
    /// The follow-through log of one agreement, in causal order.
    func followThrough(_ id: AgreementId) async throws -> [LogEntry]
    /// Logs follow-through: kept, missed or a note (never a score).
    func logFollowThrough(_ id: AgreementId, kind: LogKind, text: String) async throws
    /// Both partners' sealed positions on `topic`, as this device may see them.
    func positions(_ topic: String) async throws -> [Position]
    /// Writes (or rewrites) my sealed position on `topic`.
    func writePosition(_ topic: String, text: String) async throws
    /// Marks my position on `topic` ready: final; both are revealed once both are ready.
    func markPositionReady(_ topic: String) async throws
    /// Retires an agreement with why; it stays in the history.
    func retire(_ id: AgreementId, reason: String) async throws
    /// Asks to revisit an agreement, with why; it is active again once both accept.
    func requestRenegotiation(_ id: AgreementId, reason: String) async throws
    /// Concerns, oldest first.
    func concerns() async throws -> [Concern]
    /// Raises a concern: what happened, how I felt, what I need in repair.
    func raiseConcern(_ input: NewConcern) async throws -> ConcernId
    /// "I hear you" on the other partner's concern.
    func acknowledgeConcern(_ id: ConcernId) async throws
    /// Answers a concern in words.
    func respondToConcern(_ id: ConcernId, text: String) async throws
    /// Resolves one's own concern (repair happened).
    func resolveConcern(_ id: ConcernId) async throws
    /// Turns a concern about an agreement into renegotiating it, with why.
    func renegotiateFromConcern(_ id: ConcernId, reason: String) async throws
    /// The check-in agenda at `now`, in the domain's order.
    func agenda(now: Date) async throws -> Agenda
    /// Records a check-in held on `heldOn` (`YYYY-MM-DD`) with shared notes.
    func recordCheckin(heldOn: String, notes: String) async throws
    /// The couple's check-in rhythm, if set.
    func checkinRitual() async throws -> RecurrenceRule?
    /// Sets the couple's check-in rhythm; nil stops it.
    func setCheckinRitual(_ rule: RecurrenceRule?) async throws
    /// This partner's reminders from `now`, soonest first, at most `limit` within `horizonDays`.
    func upcomingReminders(now: Date, limit: UInt32, horizonDays: UInt32) async throws -> [Reminder]
    /// Marks a reminder done (for both partners).
    func markReminderDone(_ id: String) async throws
    /// Snoozes one of my reminders until `until`.
    func snoozeReminder(_ id: String, until: Date) async throws
    /// The recurring reminders attached to an agreement.
    func commitmentRules(_ agreement: AgreementId) async throws -> [CommitmentRule]
    /// Attaches a recurring reminder to an agreement (whom it concerns are reminded).
    func addCommitmentRule(_ agreement: AgreementId, rule: RecurrenceRule) async throws
    /// Removes a recurring reminder.
    func removeCommitmentRule(_ ruleId: String) async throws
    /// Per other device: whether it has all of this device's changes (never a time).
    func syncStatus() async throws -> [PeerStatus]
    /// Syncs with every other device now, waiting at most `timeoutMs`.
    func syncNow(timeoutMs: UInt64) async throws -> SyncReport
    /// Removes one of this partner's own devices (a lost phone).
    func unpair(_ device: DeviceId) async throws
    /// A new recovery secret, to show once (the old one stops working).
    func setUpRecovery() async throws -> String
    /// A one-time ticket for the partner, a returning partner or one's own new device.
    func invite(_ role: InviteRole) async throws -> String
    /// Ends the pairing with the other partner; both keep their copies.
    func endPairing() async throws
    /// Every agreement, with who accepted which words, as a Markdown document.
    func exportMarkdown() async throws -> String
    /// A device of this partner asking to join with a my-device ticket, while iterated: its
    /// id, name and the code both screens show.
    func pairingRequests() -> AsyncStream<PairingRequest>
    /// Answers a pairing request: `confirm` when the new device shows the same code.
    func confirmPairing(_ device: DeviceId, confirm: Bool) async throws
    /// Yields once when iterated (so a first read misses nothing), then whenever the space
    /// changed; ending the iteration cancels the node's subscription.
    func changes() -> AsyncStream<Void>
}

/// A device of this partner asking to join (``AccordService/pairingRequests()``).
public struct PairingRequest: Equatable, Sendable {
    public let device: DeviceId
    public let deviceName: String
    /// The code the new device shows; confirm only when both show the same.
    public let code: String
}

/// An error for the screen: the core's message as it is, or a message a store wrote.
public struct AccordKitError: Error, LocalizedError, Equatable, Sendable {
    /// What to show.
    public let message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    /// The same as ``message``.
    public var errorDescription: String? { message }

    /// The message of any error: the core's own message for the core's errors.
    public static func from(_ error: Error) -> AccordKitError {
        if let known = error as? AccordKitError { return known }
        if let core = error as? AccordError {
            // Every case of the core's error carries its message as its only value.
            for child in Mirror(reflecting: core).children {
                if let text = child.value as? String { return AccordKitError(text) }
                if let text = Mirror(reflecting: child.value).children.first?.value as? String {
                    return AccordKitError(text)
                }
            }
        }
        return AccordKitError(error.localizedDescription)
    }
}
