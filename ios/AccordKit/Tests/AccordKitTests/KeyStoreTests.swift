import Foundation
import XCTest
@testable import AccordKit

/// A key store in memory (the app's is the Keychain).
final class MemoryKeyStore: DeviceKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: Data] = [:]
    private func locked<T>(_ work: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return work() }
    func load(label: String) -> Data? { locked { keys[label] } }
    func store(label: String, key: Data) -> Bool { locked { keys[label] = key; return true } }
}

/// The device key in the platform's key store instead of a file.
@MainActor
final class KeyStoreTests: XCTestCase {
    func testTheDeviceKeyIsKeptInTheRegisteredStoreNotInAFile() async throws {
        let root = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = MemoryKeyStore()
        registerDeviceKeyStore(root: root.path, store: store)
        let dir = root.appendingPathComponent("Accord")
        let node = try await AccordNode.create(
            dir: dir.path, name: "Alex", timeZone: "Europe/Berlin", deviceName: "phone", network: .loopback)
        let device = try node.deviceId()
        await node.shutdown()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("device.key").path))
        XCTAssertEqual(store.load(label: "Accord")?.count, 32)
        let again = try await AccordNode.open(dir: dir.path, network: .loopback)
        XCTAssertEqual(try again.deviceId(), device, "the same device, from the store")
        await again.shutdown()
    }
}
