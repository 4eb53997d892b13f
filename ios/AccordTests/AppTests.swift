import XCTest
import AccordKit
@testable import Accord

/// What the app adds over AccordKit (run on a Mac: AccordKit's own tests run on Linux too).
@MainActor
final class AppTests: XCTestCase {
    func testATicketBecomesAScannableQRCode() {
        let image = QRCodeView.image("accord1" + String(repeating: "a", count: 300))
        XCTAssertNotNil(image)
        XCTAssertGreaterThan(image?.size.width ?? 0, 200)
    }

    func testTheCoresWordRunsRenderRemovedAndAdded() {
        let change = FieldChange(
            field: .title, accepted: "we call before", now: "we text before",
            words: [
                WordRun(text: "we", change: .kept), WordRun(text: "call", change: .removed),
                WordRun(text: "text", change: .added), WordRun(text: "before", change: .kept),
            ])
        let text = AgreementDetailView.diff(change)
        XCTAssertEqual(String(text.characters), "we call text before")
        XCTAssertTrue(text.runs.contains { $0.strikethroughStyle == .single })
    }

    func testTheDataFolderIsExcludedFromBackups() throws {
        let values = try AppModel.dataDirectory.resourceValues(forKeys: [.isExcludedFromBackupKey])
        XCTAssertEqual(values.isExcludedFromBackup, true)
    }
}
