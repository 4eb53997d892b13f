import Foundation

/// The one holder of the space in this process. The space's lock admits one holder: the node
/// while the app is in the foreground, or, when no node runs, `AccordLocalSpace` for the
/// length of one piece of background work (a notification action, background refresh). The node
/// is shut down when the app goes to the background: iOS may kill a suspended app that holds a
/// file lock.
public actor SpaceLifecycle {
    private let spaces: RustSpaces
    private var running: RustService?

    /// The lifecycle of the space `spaces` opens.
    public init(spaces: RustSpaces) { self.spaces = spaces }

    /// The node for the foreground, opened if it is not running; while another holder is closing
    /// ("in use"), it tries again a few times.
    public func foreground() async throws -> RustService {
        if let running { return running }
        let spaces = self.spaces
        let node = try await retryingInUse { try await AccordNode.open(dir: spaces.dir, network: spaces.network) }
        do { try node.keepConnected() } catch { throw AccordKitError.from(error) }
        let service = RustService(node: node)
        running = service
        return service
    }

    /// Flushes and shuts the node down (the app goes to the background).
    public func background() async {
        guard let service = running else { return }
        running = nil
        try? service.node.space().flush()
        await service.node.shutdown()
    }

    /// Whether the node runs in this process.
    public var nodeRunning: Bool { running != nil }

    /// Runs `work` on the space: on the node if it runs, else on `AccordLocalSpace` opened for it
    /// and closed after (writes are kept as intents the node applies when it next opens).
    public func withSpace<T: Sendable>(_ work: @Sendable (AccordSpace) throws -> T) async throws -> T {
        do {
            if let running { return try work(running.node.space()) }
            let dir = spaces.dir
            let local = try await retryingInUse { try AccordLocalSpace.open(dir: dir) }
            defer { local.shutdown() }
            return try work(local.space())
        } catch {
            throw AccordKitError.from(error)
        }
    }

    private func retryingInUse<T>(_ open: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await open()
            } catch let error as AccordError {
                attempt += 1
                guard case .InUse = error, attempt < 5 else { throw AccordKitError.from(error) }
                try await Task.sleep(nanoseconds: 200_000_000)
            } catch {
                throw AccordKitError.from(error)
            }
        }
    }
}
