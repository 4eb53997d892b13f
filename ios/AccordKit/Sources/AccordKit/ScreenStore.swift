import Foundation

/// What every screen's store shares: it reads its state again on every change of the space
/// while started, and an action's failure becomes the core's message in ``error`` (never a crash).
@MainActor
public protocol ScreenStore: AnyObject {
    /// The message to show, if the last read or action failed (nil once one succeeds).
    var error: String? { get set }
    /// Reads the screen's state again.
    func refresh() async
}

extension ScreenStore {
    /// Runs an action, then reads the state again; a failure is the core's message.
    func act(_ work: () async throws -> Void) async {
        do {
            try await work()
            error = nil
            await refresh()
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    /// Reads with `read`; a failure is the core's message.
    func load(_ read: () async throws -> Void) async {
        do {
            try await read()
            error = nil
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }
}

/// Reads a store's state again on every change of the space between ``start(_:refresh:)`` and
/// ``stop()``; stopping ends the stream, which cancels the node's subscription.
@MainActor
public final class ChangeFeed {
    private var task: Task<Void, Never>?

    /// A feed not started yet.
    public init() {}

    /// Calls `refresh` now and on every change of `service`'s space.
    public func start(_ service: AccordService, refresh: @escaping @MainActor () async -> Void) {
        task?.cancel()
        let changes = service.changes()
        task = Task { @MainActor in
            for await _ in changes {
                if Task.isCancelled { break }
                await refresh()
            }
        }
    }

    /// Stops reading (the screen went away).
    public func stop() {
        task?.cancel()
        task = nil
    }

    /// Whether the feed is running.
    public var running: Bool { task != nil }
}
