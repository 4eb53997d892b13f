import Foundation
import Observation

/// One category's agreements on the list.
public struct AgreementSection: Equatable, Sendable {
    /// The category as a heading ("Time together").
    public let title: String
    /// Its agreements, in the core's order.
    public let agreements: [AgreementSummary]
}

/// The agreements screen: what waits for my acceptance first, then every agreement by category.
@MainActor @Observable
public final class AgreementsStore: ScreenStore {
    public private(set) var loading = true
    /// Agreements whose current words wait for my acceptance.
    public private(set) var waitingForMe: [AgreementSummary] = []
    /// Every agreement by category, in the core's order.
    public private(set) var sections: [AgreementSection] = []
    /// Whether the partner joined (the screen offers an invitation until then).
    public private(set) var partnerJoined = false
    public var error: String?
    /// Nothing written yet (the screen says what to do next).
    public var empty: Bool { !loading && sections.isEmpty }

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private let clock: @Sendable () -> Date
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store over `service`; `clock` is now.
    public init(service: AccordService, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.service = service
        self.clock = clock
    }

    /// Reads now and on every change of the space.
    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    /// Stops reading (the screen went away).
    public func stop() { feed.stop() }

    public func refresh() async {
        await load {
            let info = try await service.info()
            let all = try await service.agreements()
            let waiting = try await service.agenda(now: clock()).waitingForPartner
            waitingForMe = waiting.filter { $0.waitingFor.contains(info.me) }.map(\.agreement)
            // One label per category, not per agreement: each label is a call into the core.
            var order: [Category] = []
            var byCategory: [Category: [AgreementSummary]] = [:]
            for a in all {
                if byCategory[a.category] == nil { order.append(a.category) }
                byCategory[a.category, default: []].append(a)
            }
            sections = order.map { AgreementSection(title: Words.category($0), agreements: byCategory[$0] ?? []) }
            partnerJoined = info.partners.count >= 2
            loading = false
        }
        loading = false
    }

    /// Writes a new agreement with `title` (you accept its words; your partner is asked to).
    public func create(title: String, category: Category = .standard(.communication)) async {
        let words = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !words.isEmpty else { error = Words.emptyTitle; return }
        await act {
            _ = try await service.createAgreement(
                NewAgreement(title: words, category: category, kind: .agreement, strength: .tryMyBest, concerns: .both)
            )
        }
    }
}
