import Foundation
import XCTest
@testable import AccordKit

/// The notification window: at most 60 pending, refilled, by stable id; zones and DST.
@MainActor
final class ReminderTests: XCTestCase {
    private var folder: URL!
    private var alex: RustService!

    override func setUp() async throws {
        folder = temporaryFolder()
        let node = try await AccordNode.create(
            dir: folder.appendingPathComponent("alex").path, name: "Alex", timeZone: "Europe/Berlin",
            deviceName: "alex's phone", network: .loopback)
        alex = RustService(node: node)
    }

    override func tearDown() async throws {
        await alex.node.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    private func date(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }

    func testTheWindowKeepsSixtyRefillsWhatIsDoneAndLeavesTheRestAlone() async throws {
        // A daily check-in rhythm: more reminders than iOS can keep.
        let rule = try Rhythm(.day, time: "19:00").rule(zone: "Europe/Berlin", start: "2027-03-01")
        try await alex.setCheckinRitual(rule)
        let center = FakeCenter()
        let scheduler = ReminderScheduler(service: alex, center: center)
        let now = date("2027-03-01T06:00:00Z")
        let first = try await scheduler.reconcile(now: now)
        XCTAssertEqual(first, .init(added: 60, removed: 0, pending: 60))
        XCTAssertEqual(center.pending.count, ReminderScheduler.limit)
        // Again with nothing changed: nothing moves.
        let again = try await scheduler.reconcile(now: now)
        XCTAssertEqual(again, .init(added: 0, removed: 0, pending: 60))
        // The first is done: it goes.
        let firstId = center.pending[0].id
        let lastBefore = center.pending.last!.firesAt
        try await alex.markReminderDone(firstId)
        let done = try await scheduler.reconcile(now: now)
        XCTAssertEqual(done, .init(added: 0, removed: 1, pending: 59))
        XCTAssertFalse(center.pending.contains { $0.id == firstId })
        // A day later (a launch or a background refresh) the window is refilled to 60.
        let refilled = try await scheduler.reconcile(now: now.addingTimeInterval(86_400))
        XCTAssertEqual(refilled, .init(added: 1, removed: 0, pending: 60))
        XCTAssertEqual(center.pending.last!.firesAt.timeIntervalSince(lastBefore), 86_400)
        // Stopping the rhythm empties the window.
        try await alex.setCheckinRitual(nil)
        let stopped = try await scheduler.reconcile(now: now)
        XCTAssertEqual(stopped.pending, 0)
        XCTAssertTrue(center.pending.isEmpty)
    }

    func testTheDstWeekKeepsTheWallClockAndAZoneChangeMovesNothing() async throws {
        // Berlin moves its clocks forward on 28 March 2027: 19:00 stays 19:00, the UTC gap is 23 h.
        let rule = try Rhythm(.day, time: "19:00").rule(zone: "Europe/Berlin", start: "2027-03-25")
        try await alex.setCheckinRitual(rule)
        let center = FakeCenter()
        let scheduler = ReminderScheduler(service: alex, center: center)
        try await scheduler.reconcile(now: date("2027-03-25T00:00:00Z"))
        let week = Array(center.pending.prefix(6))
        XCTAssertEqual(week.map { $0.fireAt.hour }, Array(repeating: 19, count: 6))
        XCTAssertEqual(week.map { $0.fireAt.day }, [25, 26, 27, 28, 29, 30])
        XCTAssertEqual(week.map { $0.fireAt.timeZone?.identifier }, Array(repeating: "Europe/Berlin", count: 6))
        let gaps = zip(week.dropFirst(), week).map { $0.firesAt.timeIntervalSince($1.firesAt) / 3600 }
        XCTAssertEqual(gaps, [24, 24, 23, 24, 24])
        // The device's own zone changes (a trip): the core's reminders are in the partner's
        // zone, so the same ids stay pending and nothing is rescheduled.
        let ids = Set(center.pending.map(\.id))
        let previous = NSTimeZone.default
        NSTimeZone.default = TimeZone(identifier: "America/New_York")!
        defer { NSTimeZone.default = previous }
        let after = try await scheduler.reconcile(now: date("2027-03-25T00:00:00Z"))
        XCTAssertEqual(after.added, 0)
        XCTAssertEqual(after.removed, 0)
        XCTAssertEqual(Set(center.pending.map(\.id)), ids)
    }

    func testRhythmsReadAsWordsAndMistypedDaysAreRefused() async throws {
        func words(_ r: Rhythm) throws -> String { Rhythm.describe(try r.rule(zone: "Europe/Berlin", start: "2027-03-01")) }
        XCTAssertEqual(try words(Rhythm(.day, time: " 07:30 ")), "Every day at 07:30, Europe/Berlin")
        XCTAssertEqual(try words(Rhythm(.week, on: " Su ", time: "20:00")), "Every week on Sunday at 20:00, Europe/Berlin")
        XCTAssertEqual(try words(Rhythm(.month, on: "15")), "Every month on day 15 at 19:00, Europe/Berlin")
        XCTAssertEqual(try words(Rhythm(.month, on: "First saturday")), "Every month on the first Saturday at 19:00, Europe/Berlin")
        XCTAssertEqual(try words(Rhythm(.month, on: "last fri")), "Every month on the last Friday at 19:00, Europe/Berlin")
        for bad in ["", "0", "32", "first", "fifth Saturday", "Saturday"] {
            XCTAssertThrowsError(try Rhythm(.month, on: bad).rule(zone: "UTC", start: "2027-03-01")) {
                XCTAssertEqual(($0 as? AccordKitError)?.message, Rhythm.notADayOfMonth, bad)
            }
        }
        for bad in ["", "f", "Fryday", "Friday Saturday"] {
            XCTAssertThrowsError(try Rhythm(.week, on: bad).rule(zone: "UTC", start: "2027-03-01")) {
                XCTAssertEqual(($0 as? AccordKitError)?.message, Rhythm.notAWeekday, bad)
            }
        }
    }

    func testACheckInRhythmSetOnTheStoreRemindsInMyZone() async throws {
        let checkin = CheckinStore(service: alex, today: { "2027-03-01" })
        await checkin.refresh()
        XCTAssertNil(checkin.ritual)
        await checkin.setRitual(Rhythm(.month, on: "first sundy"))
        XCTAssertEqual(checkin.error, Rhythm.notADayOfMonth)
        await checkin.setRitual(Rhythm(.month, on: "last friday", time: "18:30"))
        XCTAssertNil(checkin.error)
        XCTAssertEqual(checkin.ritual.map(Rhythm.describe), "Every month on the last Friday at 18:30, Europe/Berlin")
        let reminders = RemindersStore(service: alex, clock: { ISO8601DateFormatter().date(from: "2027-03-01T00:00:00Z")! })
        await reminders.refresh()
        XCTAssertEqual(reminders.upcoming.first?.firesAtLocal.hasPrefix("2027-03-26T18:30"), true, reminders.upcoming.first?.firesAtLocal ?? "none")
        await checkin.stopRitual()
        XCTAssertNil(checkin.ritual)
    }
}
