import Foundation
import Observation

/// One agreement: its words, who accepted, a conflict's versions, follow-through, reminders.
@MainActor @Observable
public final class AgreementDetailStore: ScreenStore {
    /// The agreement shown.
    public let id: AgreementId
    public private(set) var loading = true
    public private(set) var details: AgreementDetails?
    public private(set) var history: [HistoryEntry] = []
    public private(set) var followThrough: [LogEntry] = []
    public private(set) var rules: [CommitmentRule] = []
    /// Both partners' sealed positions on this agreement.
    public private(set) var positions: [Position] = []
    /// Partner names by id.
    public private(set) var names: [PartnerId: String] = [:]
    /// This device's partner.
    public private(set) var me: PartnerId?
    /// My time zone (a new reminder is in it).
    public private(set) var myZone = "UTC"
    public var error: String?

    /// Whether I accepted the current words.
    public var acceptedByMe: Bool { me.map { details?.summary.acceptedBy.contains($0) ?? false } ?? false }
    /// Whether "accept" is mine to give: not yet accepted by me, no conflict, not retired.
    public var canAccept: Bool {
        guard let d = details else { return false }
        return !acceptedByMe && d.conflicts.isEmpty && d.retirement == nil
    }

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private let today: @Sendable () -> String
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store of agreement `id`; `today` is my calendar date (`YYYY-MM-DD`).
    public init(service: AccordService, id: AgreementId, today: @escaping @Sendable () -> String = Calendars.today) {
        self.service = service
        self.id = id
        self.today = today
    }

    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    public func stop() { feed.stop() }

    public func refresh() async {
        await load {
            let info = try await service.info()
            details = try await service.agreement(id)
            history = try await service.history(id)
            followThrough = try await service.followThrough(id)
            rules = try await service.commitmentRules(id)
            positions = try await service.positions(id)
            names = info.names
            me = info.me
            myZone = info.myZone
        }
        loading = false
    }

    /// Accepts the current words.
    public func accept() async { await act { try await service.accept(id) } }

    /// Changes the words; both accept them again.
    public func edit(title: String, details: String) async {
        let words = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !words.isEmpty else { error = Words.emptyTitle; return }
        await act { try await service.editWords(id, title: words, details: details.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Keeps `value` for `field`: one of the versions, or both written into one.
    public func choose(_ field: Field, value: String) async {
        let words = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if field == .title && words.isEmpty { error = Words.emptyTitle; return }
        await act { try await service.resolveConflict(id, field: field, value: words) }
    }

    /// Logs follow-through: kept, missed or a note.
    public func log(_ kind: LogKind, text: String) async {
        await act { try await service.logFollowThrough(id, kind: kind, text: text.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Reminds us in `rhythm`, in my time zone, from today.
    public func remind(_ rhythm: Rhythm) async {
        do {
            let rule = try rhythm.rule(zone: myZone, start: today())
            await act { try await service.addCommitmentRule(id, rule: rule) }
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    /// Writes (or rewrites) my sealed position on this agreement.
    public func writePosition(_ text: String) async {
        let words = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !words.isEmpty else { error = Words.emptyPosition; return }
        await act { try await service.writePosition(id, text: words) }
    }

    /// Marks my position ready (final).
    public func markPositionReady() async { await act { try await service.markPositionReady(id) } }

    /// Retires the agreement with why (it stays in the history).
    public func retire(reason: String) async {
        await act { try await service.retire(id, reason: reason.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Asks to revisit the agreement; both accept again.
    public func renegotiate(reason: String) async {
        await act { try await service.requestRenegotiation(id, reason: reason.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Removes a recurring reminder.
    public func removeRule(_ ruleId: String) async { await act { try await service.removeCommitmentRule(ruleId) } }
}

/// Dates as the core takes them.
public enum Calendars {
    /// Today in this device's calendar, `YYYY-MM-DD`.
    @Sendable public static func today() -> String { day(Date(), in: .current) }

    /// `date`'s day in `zone`, `YYYY-MM-DD`.
    public static func day(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
    }
}
