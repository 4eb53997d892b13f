import Foundation
import XCTest
@testable import AccordKit

/// One holder of the space per process: the node in the foreground, the local space for a
/// notification action while no node runs.
@MainActor
final class LifecycleTests: XCTestCase {
    func testBackgroundWorkUsesTheLocalSpaceAndTheNodeSeesItWhenTheAppReturns() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let spaces = RustSpaces(dir: folder.appendingPathComponent("alex").path, network: .loopback, deviceName: "alex's phone")
        let made = try await spaces.create(name: "Alex", timeZone: "Europe/Berlin") as! RustService
        let id = try await made.createAgreement(proposal("Phones away at dinner"))
        await made.node.shutdown()

        let lifecycle = SpaceLifecycle(spaces: spaces)
        let foreground = try await lifecycle.foreground()
        let same = try await lifecycle.foreground()
        XCTAssertTrue(foreground === same, "one node per process")
        let nodeRunning = await lifecycle.nodeRunning
        XCTAssertTrue(nodeRunning)
        // While the node runs, a notification action goes through it.
        let titles = try await lifecycle.withSpace { try $0.list(filter: ListFilter()).map(\.title) }
        XCTAssertEqual(titles, ["Phones away at dinner"])

        // The app goes to the background: the node is shut down and the lock released.
        await lifecycle.background()
        let stopped = await lifecycle.nodeRunning
        XCTAssertFalse(stopped)
        // A "kept" action from a notification: the local space, opened and closed for it.
        _ = try await lifecycle.withSpace { try $0.logFollowThrough(id: id, kind: .kept, text: "from the notification") }

        // Back in the foreground: the node has it.
        let again = try await lifecycle.foreground()
        let log = try await again.followThrough(id)
        XCTAssertEqual(log.map(\.text), ["from the notification"])
        await lifecycle.background()
    }

    func testTheNodeWaitsForABackgroundHolderToCloseThenOpens() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let spaces = RustSpaces(dir: folder.appendingPathComponent("alex").path, network: .loopback, deviceName: "alex's phone")
        let made = try await spaces.create(name: "Alex", timeZone: "Europe/Berlin") as! RustService
        await made.node.shutdown()
        // A background job holds the space; it closes a moment later.
        let local = try AccordLocalSpace.open(dir: spaces.dir)
        let closer = Task.detached {
            try await Task.sleep(nanoseconds: 300_000_000)
            local.shutdown()
        }
        let lifecycle = SpaceLifecycle(spaces: spaces)
        let service = try await lifecycle.foreground()
        let partners = try await service.info().partners.map(\.name)
        XCTAssertEqual(partners, ["Alex"])
        _ = try await closer.value
        await lifecycle.background()
    }

    func testAnUnknownFolderIsAMessageNotACrash() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let lifecycle = SpaceLifecycle(spaces: RustSpaces(dir: folder.appendingPathComponent("none").path, network: .loopback, deviceName: "phone"))
        do {
            _ = try await lifecycle.foreground()
            XCTFail("opened a space that does not exist")
        } catch let error as AccordKitError {
            XCTAssertFalse(error.message.isEmpty)
        }
        do {
            _ = try await lifecycle.withSpace { try $0.info() }
            XCTFail("opened a space that does not exist")
        } catch let error as AccordKitError {
            XCTAssertFalse(error.message.isEmpty)
        }
    }
}
