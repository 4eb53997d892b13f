import Foundation
import Observation

/// One concern with what this partner may do with it.
public struct ConcernItem: Equatable, Sendable {
    public let concern: Concern
    /// Raised by the other partner and not acknowledged yet.
    public let canAcknowledge: Bool
    /// Not closed: either partner may answer.
    public let canRespond: Bool
    /// Raised by me and not closed.
    public let canResolve: Bool
    /// Not closed and about an agreement: either partner may turn it into renegotiating it.
    public let canRenegotiate: Bool
}

/// Concerns and repair: open ones first; a new concern is about ``about``, if set.
@MainActor @Observable
public final class ConcernsStore: ScreenStore {
    public private(set) var loading = true
    public private(set) var items: [ConcernItem] = []
    public private(set) var names: [PartnerId: String] = [:]
    /// Agreements' words by id, for "About: …".
    public private(set) var titles: [AgreementId: String] = [:]
    /// The agreement a new concern is about (the screen was opened from it), if any.
    public var about: AgreementId?
    public var error: String?

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store over `service`; a concern raised here is about `about`, if given.
    public init(service: AccordService, about: AgreementId? = nil) {
        self.service = service
        self.about = about
    }

    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    public func stop() { feed.stop() }

    public func refresh() async {
        await load {
            let info = try await service.info()
            let me = info.me
            let all = try await service.concerns().map { c -> ConcernItem in
                let open = c.state != .resolved && c.state != .renegotiation
                return ConcernItem(
                    concern: c,
                    canAcknowledge: c.raisedBy != me && !c.acknowledged && open,
                    canRespond: open,
                    canResolve: c.raisedBy == me && open,
                    canRenegotiate: open && c.agreement != nil
                )
            }
            items = all.filter(\.canRespond) + all.filter { !$0.canRespond }
            names = info.names
            titles = Dictionary(try await service.agreements().map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        }
        loading = false
    }

    /// Raises a concern: what happened, how I felt, what I need in repair.
    public func raise(whatHappened: String, howIFelt: String, whatINeed: String) async {
        let what = whatHappened.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !what.isEmpty else { error = Words.emptyConcern; return }
        let input = NewConcern(
            agreement: about,
            whatHappened: what,
            howIFelt: howIFelt.trimmingCharacters(in: .whitespacesAndNewlines),
            whatINeed: whatINeed.trimmingCharacters(in: .whitespacesAndNewlines)
        )
        await act { _ = try await service.raiseConcern(input) }
    }

    /// "I hear you" on the other partner's concern.
    public func acknowledge(_ id: ConcernId) async { await act { try await service.acknowledgeConcern(id) } }
    /// Answers a concern in words.
    public func respond(_ id: ConcernId, text: String) async { await act { try await service.respondToConcern(id, text: text) } }
    /// Resolves one's own concern.
    public func resolve(_ id: ConcernId) async { await act { try await service.resolveConcern(id) } }
    /// Turns the concern into renegotiating its agreement, with why.
    public func renegotiate(_ id: ConcernId, reason: String) async {
        await act { try await service.renegotiateFromConcern(id, reason: reason.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
