import Foundation
import XCTest
@testable import AccordKit

/// A fresh folder for one test's spaces.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("accordkit-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Waits until `condition` holds (checked every 20 ms), failing after `seconds`.
@MainActor
func eventually(
    _ what: String, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line,
    _ condition: @MainActor () -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            XCTFail("gave up waiting: \(what)", file: file, line: line)
            throw AccordKitError("gave up waiting: \(what)")
        }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// A notification center in memory.
final class FakeCenter: NotificationScheduling, @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String: ScheduledReminder] = [:]

    /// Runs `work` holding the lock (a plain function, so async callers may use it).
    private func locked<T>(_ work: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return work()
    }

    var pending: [ScheduledReminder] { locked { requests.values.sorted { $0.firesAt < $1.firesAt } } }

    func pendingIds() async -> [String] { locked { Array(requests.keys) } }

    func add(_ reminder: ScheduledReminder) async throws { locked { requests[reminder.id] = reminder } }

    func remove(ids: [String]) async { locked { for id in ids { requests[id] = nil } } }
}

/// A new agreement with the usual choices.
func proposal(_ title: String) -> NewAgreement {
    NewAgreement(title: title, category: .standard(.communication), kind: .agreement, strength: .tryMyBest, concerns: .both)
}
