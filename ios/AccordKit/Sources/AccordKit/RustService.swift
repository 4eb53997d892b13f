import Foundation

/// ``AccordService`` over a running node of the real library. Every call runs in a detached
/// task, never on the main actor; the core's errors become ``AccordKitError``.
public final class RustService: AccordService, @unchecked Sendable {
    /// The node this device runs (shut down by ``SpaceLifecycle`` when the app goes to the background).
    public let node: AccordNode

    /// A service over `node`.
    public init(node: AccordNode) { self.node = node }

    private var space: AccordSpace { node.space() }

    /// Runs `work` off the main actor; the core's errors become ``AccordKitError``.
    private func off<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await Task.detached(priority: .userInitiated) { try work() }.value
        } catch {
            throw AccordKitError.from(error)
        }
    }

    public func info() async throws -> SpaceInfo { try await off { try self.space.info() } }
    public func agreements() async throws -> [AgreementSummary] {
        try await off { try self.space.list(filter: ListFilter()) }
    }
    public func agreement(_ id: AgreementId) async throws -> AgreementDetails {
        try await off { try self.space.agreement(id: id) }
    }
    public func createAgreement(_ input: NewAgreement) async throws -> AgreementId {
        try await off { try self.space.createAgreement(input: input) }
    }
    public func accept(_ id: AgreementId) async throws { try await off { try self.space.accept(id: id) } }
    public func editWords(_ id: AgreementId, title: String, details: String) async throws {
        try await off { try self.space.editAgreement(id: id, edit: AgreementEdit(title: title, details: details)) }
    }
    public func resolveConflict(_ id: AgreementId, field: Field, value: String) async throws {
        try await off { try self.space.resolveConflict(id: id, field: field, value: value) }
    }
    public func history(_ id: AgreementId) async throws -> [HistoryEntry] {
        try await off { try self.space.history(id: id) }
    }
    public func followThrough(_ id: AgreementId) async throws -> [LogEntry] {
        try await off { try self.space.followThrough(agreement: id) }
    }
    public func logFollowThrough(_ id: AgreementId, kind: LogKind, text: String) async throws {
        _ = try await off { try self.space.logFollowThrough(id: id, kind: kind, text: text) }
    }
    public func positions(_ topic: String) async throws -> [Position] {
        try await off { try self.space.positions(topic: topic) }
    }
    public func writePosition(_ topic: String, text: String) async throws {
        try await off { try self.space.writePosition(topic: topic, text: text) }
    }
    public func markPositionReady(_ topic: String) async throws {
        try await off { try self.space.markPositionReady(topic: topic) }
    }
    public func retire(_ id: AgreementId, reason: String) async throws {
        try await off { try self.space.retire(id: id, reason: reason) }
    }
    public func requestRenegotiation(_ id: AgreementId, reason: String) async throws {
        try await off { try self.space.requestRenegotiation(id: id, reason: reason) }
    }
    public func concerns() async throws -> [Concern] { try await off { try self.space.concerns() } }
    public func raiseConcern(_ input: NewConcern) async throws -> ConcernId {
        try await off { try self.space.raiseConcern(input: input) }
    }
    public func acknowledgeConcern(_ id: ConcernId) async throws {
        try await off { try self.space.acknowledgeConcern(id: id) }
    }
    public func respondToConcern(_ id: ConcernId, text: String) async throws {
        try await off { try self.space.respondToConcern(id: id, text: text) }
    }
    public func resolveConcern(_ id: ConcernId) async throws {
        try await off { try self.space.resolveConcern(id: id) }
    }
    public func renegotiateFromConcern(_ id: ConcernId, reason: String) async throws {
        try await off { try self.space.renegotiateFromConcern(id: id, reason: reason) }
    }
    public func agenda(now: Date) async throws -> Agenda { try await off { try self.space.agenda(now: now) } }
    public func recordCheckin(heldOn: String, notes: String) async throws {
        _ = try await off { try self.space.recordCheckin(heldOn: heldOn, notes: notes) }
    }
    public func checkinRitual() async throws -> RecurrenceRule? { try await off { try self.space.checkinRitual() } }
    public func setCheckinRitual(_ rule: RecurrenceRule?) async throws {
        try await off { try self.space.setCheckinRitual(rule: rule) }
    }
    public func upcomingReminders(now: Date, limit: UInt32, horizonDays: UInt32) async throws -> [Reminder] {
        try await off { try self.space.upcomingReminders(now: now, limit: limit, horizonDays: horizonDays) }
    }
    public func markReminderDone(_ id: String) async throws { try await off { try self.space.markReminderDone(id: id) } }
    public func snoozeReminder(_ id: String, until: Date) async throws {
        try await off { try self.space.snoozeReminder(id: id, until: until) }
    }
    public func commitmentRules(_ agreement: AgreementId) async throws -> [CommitmentRule] {
        try await off { try self.space.commitmentRules(agreement: agreement) }
    }
    public func addCommitmentRule(_ agreement: AgreementId, rule: RecurrenceRule) async throws {
        _ = try await off { try self.space.addCommitmentRule(agreement: agreement, rule: rule, targets: nil) }
    }
    public func removeCommitmentRule(_ ruleId: String) async throws {
        try await off { try self.space.removeCommitmentRule(ruleId: ruleId) }
    }
    public func syncStatus() async throws -> [PeerStatus] { try await off { try self.node.syncStatus() } }
    public func syncNow(timeoutMs: UInt64) async throws -> SyncReport {
        do { return try await node.syncNow(timeoutMs: timeoutMs) } catch { throw AccordKitError.from(error) }
    }
    public func unpair(_ device: DeviceId) async throws { try await off { try self.node.unpair(device: device) } }
    public func setUpRecovery() async throws -> String { try await off { try self.space.setUpRecovery() } }
    public func invite(_ role: InviteRole) async throws -> String {
        try await off { try self.node.invite(role: role, validMinutes: ticketMinutes) }
    }
    public func endPairing() async throws { _ = try await off { try self.node.endPairing() } }
    public func exportMarkdown() async throws -> String { try await off { try self.space.exportMarkdown() } }

    public func changes() -> AsyncStream<Void> {
        let node = self.node
        let live = self.live
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let listener = ChangeListener { continuation.yield() }
            do {
                let subscription = try node.subscribe(listener: listener)
                live.add(1)
                continuation.onTermination = { _ in
                    subscription.cancel()
                    live.add(-1)
                }
                continuation.yield() // subscribed: read now
            } catch {
                continuation.finish()
            }
        }
    }

    public func pairingRequests() -> AsyncStream<PairingRequest> {
        let node = self.node
        let live = self.live
        return AsyncStream { continuation in
            let listener = EventListener { event in
                if case let .confirmPairing(device, deviceName, code) = event {
                    continuation.yield(PairingRequest(device: device, deviceName: deviceName, code: code))
                }
            }
            do {
                let subscription = try node.subscribe(listener: listener)
                live.add(1)
                continuation.onTermination = { _ in
                    subscription.cancel()
                    live.add(-1)
                }
            } catch {
                continuation.finish()
            }
        }
    }

    public func confirmPairing(_ device: DeviceId, confirm: Bool) async throws {
        try await off { try self.node.confirmPairing(device: device, confirm: confirm) }
    }

    /// How many of the node's subscriptions this service holds open (streams not yet ended).
    public var openSubscriptions: Int { live.value }

    private let live = Counter()
}

/// A thread-safe count.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// How long an invitation works: long enough to pair while together.
let ticketMinutes: UInt32 = 10

/// Hands the node's "document changed" events to a closure (on the node's thread).
private final class ChangeListener: NodeListener, @unchecked Sendable {
    private let changed: @Sendable () -> Void
    init(_ changed: @escaping @Sendable () -> Void) { self.changed = changed }
    func onEvent(event: NodeEvent) {
        if case .documentChanged = event { changed() }
    }
}

/// Hands every node event to a closure (on the node's thread).
private final class EventListener: NodeListener, @unchecked Sendable {
    private let handle: @Sendable (NodeEvent) -> Void
    init(_ handle: @escaping @Sendable (NodeEvent) -> Void) { self.handle = handle }
    func onEvent(event: NodeEvent) { handle(event) }
}

/// Makes this device's space in `dir` (created, joined with a ticket, or come back to with a
/// recovery secret) and keeps it connected to the couple's other devices.
public struct RustSpaces: Sendable {
    /// Where the space's files live.
    public let dir: String
    /// How the node reaches the other devices.
    public let network: NetworkMode
    /// This device's name, as the partner's devices show it.
    public let deviceName: String

    /// A factory for `dir`.
    public init(dir: String, network: NetworkMode, deviceName: String) {
        self.dir = dir
        self.network = network
        self.deviceName = deviceName
    }

    /// Creates a space on this device; you become its first partner.
    public func create(name: String, timeZone: String) async throws -> AccordService {
        try await connected { try await AccordNode.create(dir: dir, name: name, timeZone: timeZone, deviceName: deviceName, network: network) }
    }

    /// Joins the space a ticket from the partner's device invites to.
    public func join(ticket: String, name: String, timeZone: String) async throws -> AccordService {
        try await connected {
            try await AccordNode.join(dir: dir, ticket: ticket, name: name, timeZone: timeZone, deviceName: deviceName, network: network)
        }
    }

    /// Comes back as the partner whose recovery secret this is, with a returning-partner ticket.
    public func comeBack(ticket: String, recoverySecret: String) async throws -> AccordService {
        try await connected {
            try await AccordNode.joinRecovered(dir: dir, ticket: ticket, recoverySecret: recoverySecret, deviceName: deviceName, network: network)
        }
    }

    /// The code this new device shows while it joins with a my-device `ticket` (its key is made
    /// now): the inviting device confirms it shows the same.
    public func confirmationCode(ticket: String) throws -> String {
        do { return try joinConfirmationCode(dir: dir, ticket: ticket) } catch { throw AccordKitError.from(error) }
    }

    /// Opens the space this device already has.
    public func open() async throws -> RustService {
        try await connected { try await AccordNode.open(dir: dir, network: network) }
    }

    private func connected(_ make: () async throws -> AccordNode) async throws -> RustService {
        do {
            let node = try await make()
            try node.keepConnected()
            return RustService(node: node)
        } catch {
            throw AccordKitError.from(error)
        }
    }
}
