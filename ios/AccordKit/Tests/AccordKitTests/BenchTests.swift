import Foundation
import XCTest
@testable import AccordKit

/// Figures, not assertions on time: run with ACCORD_BENCH=1 (scripts/swift-bench.sh).
@MainActor
final class BenchTests: XCTestCase {
    func testListFiveHundredAgreementsThroughAccordKit() async throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ACCORD_BENCH"] == "1", "a benchmark: run with ACCORD_BENCH=1")
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let node = try await AccordNode.create(
            dir: folder.appendingPathComponent("alex").path, name: "Alex", timeZone: "Europe/Berlin",
            deviceName: "alex's phone", network: .loopback)
        let alex = RustService(node: node)
        let categories: [StandardCategory] = [.communication, .timeTogether, .personalSpace, .finances, .household]
        for i in 0..<500 {
            _ = try node.space().createAgreement(input: NewAgreement(
                title: "Agreement number \(i): we talk about it first",
                category: .standard(categories[i % categories.count]), kind: .agreement, strength: .tryMyBest, concerns: .both))
        }
        func ms(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        var lists: [Double] = []
        var refreshes: [Double] = []
        let store = AgreementsStore(service: alex)
        for _ in 0..<21 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let all = try await alex.agreements()
            lists.append(ms(t0))
            XCTAssertEqual(all.count, 500)
            let t1 = DispatchTime.now().uptimeNanoseconds
            await store.refresh()
            refreshes.append(ms(t1))
        }
        lists.sort(); refreshes.sort()
        print(String(format: "accordkit bench: list 500 agreements median %.2f ms (min %.2f, max %.2f); agreements store refresh (info, list, agenda, sections) median %.2f ms",
                     lists[10], lists[0], lists[20], refreshes[10]))
        await node.shutdown()
    }
}
