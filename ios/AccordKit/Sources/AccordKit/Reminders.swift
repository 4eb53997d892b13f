import Foundation
import Observation

/// A local notification as the app schedules it: the core's stable id, the wall-clock time in
/// the reminder's own time zone (so a device's zone change or a DST week moves nothing), and
/// the words.
public struct ScheduledReminder: Equatable, Sendable {
    /// The core's stable id of this reminder (the notification's identifier).
    public let id: String
    /// Year, month, day, hour and minute on the wall clock of ``timeZone``, with that zone set.
    public let fireAt: DateComponents
    /// The IANA zone the time is in.
    public let timeZone: String
    public let title: String
    public let body: String
    /// The instant it fires (for ordering and tests).
    public let firesAt: Date

    /// The notification for one of the core's reminders.
    public init(_ reminder: Reminder) {
        id = reminder.id
        timeZone = reminder.timeZone
        title = reminder.title
        body = reminder.body
        firesAt = reminder.firesAtUtc
        var c = DateComponents()
        c.timeZone = TimeZone(identifier: reminder.timeZone)
        // `YYYY-MM-DDTHH:MM[:SS]` from the core.
        let parts = reminder.firesAtLocal.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        if parts.count >= 5 {
            c.year = parts[0]; c.month = parts[1]; c.day = parts[2]; c.hour = parts[3]; c.minute = parts[4]
        }
        fireAt = c
    }
}

/// What the scheduler needs of `UNUserNotificationCenter` (the app's adapter; a fake in tests).
public protocol NotificationScheduling: Sendable {
    /// Identifiers of the app's pending notification requests.
    func pendingIds() async -> [String]
    /// Schedules one (a calendar trigger at ``ScheduledReminder/fireAt``; content hidden on the
    /// lock screen).
    func add(_ reminder: ScheduledReminder) async throws
    /// Removes pending requests.
    func remove(ids: [String]) async
}

/// Keeps the pending notifications equal to the core's next reminders, by stable id: at most
/// ``limit`` (iOS keeps only 64 and may drop what is scheduled beyond), refilled at launch, on
/// "reminders changed" and in background refresh.
public struct ReminderScheduler: Sendable {
    /// How many notifications stay pending at most.
    public static let limit = 60
    /// How far ahead reminders are looked for.
    public static let horizonDays: UInt32 = 60

    private let service: AccordService
    private let center: NotificationScheduling

    /// A scheduler of `service`'s reminders into `center`.
    public init(service: AccordService, center: NotificationScheduling) {
        self.service = service
        self.center = center
    }

    /// Removes every pending notification of the app (leaving Accord on this device).
    public static func removeAll(center: NotificationScheduling) async {
        await center.remove(ids: await center.pendingIds())
    }

    /// What a reconciliation changed.
    public struct Outcome: Equatable, Sendable {
        public let added: Int
        public let removed: Int
        public let pending: Int
    }

    /// Adds what is new, removes what is gone (done, snoozed, removed rules, past), keeps the rest.
    @discardableResult
    public func reconcile(now: Date = Date()) async throws -> Outcome {
        let wanted = try await service.upcomingReminders(now: now, limit: UInt32(Self.limit), horizonDays: Self.horizonDays)
            .prefix(Self.limit)
            .map(ScheduledReminder.init)
        let wantedIds = Set(wanted.map(\.id))
        let pending = Set(await center.pendingIds())
        let gone = pending.subtracting(wantedIds).sorted()
        if !gone.isEmpty { await center.remove(ids: gone) }
        var added = 0
        for reminder in wanted where !pending.contains(reminder.id) {
            do {
                try await center.add(reminder)
            } catch {
                throw AccordKitError.from(error)
            }
            added += 1
        }
        return Outcome(added: added, removed: gone.count, pending: wanted.count)
    }
}

/// The reminders screen: what is coming up; done for both, snooze for me.
@MainActor @Observable
public final class RemindersStore: ScreenStore {
    public private(set) var loading = true
    public private(set) var upcoming: [Reminder] = []
    public var error: String?

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private let clock: @Sendable () -> Date
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store over `service`; `clock` is now.
    public init(service: AccordService, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.service = service
        self.clock = clock
    }

    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    public func stop() { feed.stop() }

    public func refresh() async {
        await load { upcoming = try await service.upcomingReminders(now: clock(), limit: 20, horizonDays: 30) }
        loading = false
    }

    /// Marks a reminder done (for both partners).
    public func done(_ id: String) async { await act { try await service.markReminderDone(id) } }

    /// Snoozes one of my reminders for an hour.
    public func snooze(_ id: String) async {
        let until = clock().addingTimeInterval(3600)
        await act { try await service.snoozeReminder(id, until: until) }
    }
}
