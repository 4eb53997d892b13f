import Foundation
import Observation

/// The check-in: the agenda in the domain's order, recording it, and the couple's rhythm.
@MainActor @Observable
public final class CheckinStore: ScreenStore {
    public private(set) var loading = true
    public private(set) var agenda: Agenda?
    /// Agreement titles by id (the agenda's log entries name agreements by id).
    public private(set) var titles: [AgreementId: String] = [:]
    public private(set) var names: [PartnerId: String] = [:]
    /// The couple's check-in rhythm, if set.
    public private(set) var ritual: RecurrenceRule?
    /// My time zone (a new rhythm is in it).
    public private(set) var myZone = "UTC"
    public var error: String?

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private let clock: @Sendable () -> Date
    @ObservationIgnored private let today: @Sendable () -> String
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store over `service`; `clock` is now and `today` my calendar date.
    public init(
        service: AccordService,
        clock: @escaping @Sendable () -> Date = { Date() },
        today: @escaping @Sendable () -> String = Calendars.today
    ) {
        self.service = service
        self.clock = clock
        self.today = today
    }

    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    public func stop() { feed.stop() }

    public func refresh() async {
        await load {
            let info = try await service.info()
            agenda = try await service.agenda(now: clock())
            titles = Dictionary(try await service.agreements().map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
            names = info.names
            ritual = try await service.checkinRitual()
            myZone = info.myZone
        }
        loading = false
    }

    /// Records the check-in held today with shared notes; the agenda starts afresh.
    public func record(notes: String) async {
        await act { try await service.recordCheckin(heldOn: today(), notes: notes.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Sets our check-in rhythm (in my time zone, from today); both are reminded.
    public func setRitual(_ rhythm: Rhythm) async {
        do {
            let rule = try rhythm.rule(zone: myZone, start: today())
            await act { try await service.setCheckinRitual(rule) }
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    /// Stops the check-in rhythm.
    public func stopRitual() async { await act { try await service.setCheckinRitual(nil) } }
}
