import Foundation
import XCTest
@testable import AccordKit

/// The stores through the couple's story, two real nodes on loopback (relays off).
@MainActor
final class StoryTests: XCTestCase {
    private var folder: URL!
    private var services: [RustService] = []

    override func setUp() async throws {
        folder = temporaryFolder()
    }

    override func tearDown() async throws {
        for service in services { await service.node.shutdown() }
        services = []
        try? FileManager.default.removeItem(at: folder)
    }

    private func spaces(_ who: String) -> RustSpaces {
        RustSpaces(dir: folder.appendingPathComponent(who).path, network: .loopback, deviceName: "\(who)'s phone")
    }

    private func keep(_ service: AccordService) -> RustService {
        let rust = service as! RustService
        services.append(rust)
        return rust
    }

    func testCreateInviteJoinProposeAcceptOnBothRepairAConcernAndReadTheAgenda() async throws {
        // Alex creates the space and invites; Sam joins with the ticket.
        let alexOnboarding = OnboardingStore(spaces: spaces("alex"))
        await alexOnboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(alexOnboarding.made, alexOnboarding.error ?? ""))
        // The recovery secret is made at setup and shown once.
        XCTAssertEqual(alexOnboarding.recoverySecret?.count, 44)
        alexOnboarding.secretWrittenDown()
        XCTAssertNil(alexOnboarding.recoverySecret)
        let pairing = PairingStore(service: alex)
        await pairing.start()
        let ticket = try XCTUnwrap(pairing.ticket, pairing.error ?? "")
        XCTAssertTrue(ticket.hasPrefix("accord1"))
        let samOnboarding = OnboardingStore(spaces: spaces("sam"))
        await samOnboarding.join(ticket: ticket, name: "Sam", timeZone: "America/New_York")
        let sam = keep(try XCTUnwrap(samOnboarding.made, samOnboarding.error ?? ""))
        XCTAssertEqual(samOnboarding.recoverySecret?.count, 44)
        let partners = try await sam.info().partners
        XCTAssertEqual(partners.map(\.hasRecovery), [true, true])
        try await eventually("Alex's pairing screen says Sam joined") { pairing.joined == "Sam joined on sam's phone." }
        XCTAssertNil(pairing.ticket)
        pairing.stop()

        // Alex proposes; it waits for Sam on Sam's list.
        let alexList = AgreementsStore(service: alex)
        alexList.start()
        let samList = AgreementsStore(service: sam)
        samList.start()
        let words = "If one of us will be more than 30 minutes late, we call or text before."
        await alexList.create(title: words)
        XCTAssertNil(alexList.error)
        try await eventually("it waits for Sam") { samList.waitingForMe.map(\.title) == [words] }
        XCTAssertTrue(samList.partnerJoined)
        XCTAssertEqual(samList.sections.map(\.title), ["Communication"])

        // Sam accepts: active on both.
        let id = samList.waitingForMe[0].id
        let samDetail = AgreementDetailStore(service: sam, id: id)
        samDetail.start()
        try await eventually("Sam's detail loads") { samDetail.details != nil }
        XCTAssertTrue(samDetail.canAccept)
        await samDetail.accept()
        XCTAssertTrue(samDetail.acceptedByMe)
        XCTAssertEqual(samDetail.details?.summary.status, .active)
        try await eventually("active for Alex too") { alexList.sections.first?.agreements.first?.status == .active }
        XCTAssertTrue(samList.waitingForMe.isEmpty)

        // Sam raises a concern about it; Alex hears and answers; Sam resolves it.
        let samConcerns = ConcernsStore(service: sam, about: id)
        samConcerns.start()
        await samConcerns.raise(whatHappened: "  ", howIFelt: "", whatINeed: "")
        XCTAssertEqual(samConcerns.error, Words.emptyConcern)
        await samConcerns.raise(whatHappened: "You were late without a text", howIFelt: "Worried", whatINeed: "A text next time")
        XCTAssertNil(samConcerns.error)
        let alexConcerns = ConcernsStore(service: alex)
        alexConcerns.start()
        try await eventually("Alex sees Sam's concern") { alexConcerns.items.count == 1 }
        let concern = alexConcerns.items[0]
        XCTAssertTrue(concern.canAcknowledge)
        XCTAssertFalse(concern.canResolve)
        XCTAssertTrue(concern.canRenegotiate)
        XCTAssertEqual(alexConcerns.titles[id], words)

        // The agenda lists the open concern.
        let alexCheckin = CheckinStore(service: alex)
        alexCheckin.start()
        try await eventually("the agenda lists it") { alexCheckin.agenda?.openConcerns.count == 1 }

        await alexConcerns.acknowledge(concern.concern.id)
        await alexConcerns.respond(concern.concern.id, text: "I'm sorry; I will text.")
        try await eventually("Sam reads the answer") {
            samConcerns.items.first?.concern.events.contains { $0.text == "I'm sorry; I will text." } == true
        }
        XCTAssertTrue(samConcerns.items[0].canResolve)
        await samConcerns.resolve(samConcerns.items[0].concern.id)
        XCTAssertEqual(samConcerns.items[0].concern.state, .resolved)
        try await eventually("the agenda has no open concern") { alexCheckin.agenda?.openConcerns.isEmpty == true }

        // A check-in recorded on Alex's phone shows on Sam's.
        await alexCheckin.record(notes: "Talked about texting")
        let samCheckin = CheckinStore(service: sam)
        samCheckin.start()
        try await eventually("Sam's agenda knows the check-in") { samCheckin.agenda?.lastCheckin?.notes == "Talked about texting" }

        // Devices: who has all my changes, never a time; sync now reaches Sam's phone.
        let devices = DevicesStore(service: alex, syncTimeoutMs: 5_000)
        devices.start()
        try await eventually("both devices listed") { devices.info?.devices.count == 2 }
        await devices.syncNow()
        XCTAssertEqual(devices.syncOutcome, "Synced: sam's phone has everything.")
        let samDevice = try XCTUnwrap(devices.info?.devices.first { $0.name == "sam's phone" })
        try await eventually("has all my changes") { devices.status(of: samDevice) == Words.hasAll }
        await devices.export()
        XCTAssertTrue(devices.exported?.contains("### \(words)") == true, devices.exported ?? "")

        for store in [alexList, samList] { store.stop() }
        samDetail.stop(); samConcerns.stop(); alexConcerns.stop(); alexCheckin.stop(); samCheckin.stop(); devices.stop()
    }

    func testRewritesMadeOfflineOnBothPhonesAreAConflictUntilWrittenIntoOne() async throws {
        let alexNode = try await AccordNode.create(
            dir: folder.appendingPathComponent("alex").path, name: "Alex", timeZone: "Europe/Berlin",
            deviceName: "alex's phone", network: .loopback)
        let alex = keep(RustService(node: alexNode))
        let ticket = try await alex.invite(.partner)
        let samDir = folder.appendingPathComponent("sam").path
        let joined = try await AccordNode.join(
            dir: samDir, ticket: ticket, name: "Sam", timeZone: "UTC", deviceName: "sam's phone", network: .loopback)
        let id = try await alex.createAgreement(proposal("Dishes before bed"))
        _ = try await joined.syncNow(timeoutMs: 10_000)
        await joined.shutdown() // Sam's phone goes offline

        let alexDetail = AgreementDetailStore(service: alex, id: id)
        await alexDetail.refresh()
        await alexDetail.edit(title: "Dishes before bed, every night", details: "")
        XCTAssertNil(alexDetail.error)

        let sam = keep(RustService(node: try await AccordNode.open(dir: samDir, network: .loopback)))
        let samDetail = AgreementDetailStore(service: sam, id: id)
        await samDetail.refresh()
        XCTAssertEqual(samDetail.details?.summary.title, "Dishes before bed")
        await samDetail.edit(title: "Dishes by the next morning", details: "")

        // They meet: two versions on both, and no one can accept.
        _ = try await sam.syncNow(timeoutMs: 10_000)
        await alexDetail.refresh()
        let conflicts = try XCTUnwrap(alexDetail.details?.conflicts)
        XCTAssertEqual(conflicts.count, 1)
        XCTAssertEqual(
            conflicts[0].candidates.map(\.value).sorted(),
            ["Dishes before bed, every night", "Dishes by the next morning"])
        XCTAssertEqual(alexDetail.details?.summary.status, .conflicted)
        XCTAssertFalse(alexDetail.canAccept)

        // Alex writes both into one (empty words refused first); Sam sees one wording to accept.
        await alexDetail.choose(.title, value: "  ")
        XCTAssertEqual(alexDetail.error, Words.emptyTitle)
        let merged = "Dishes before bed on weekdays, by the next morning on weekends"
        await alexDetail.choose(.title, value: merged)
        XCTAssertNil(alexDetail.error)
        XCTAssertEqual(alexDetail.details?.conflicts.isEmpty, true)
        _ = try await sam.syncNow(timeoutMs: 10_000)
        await samDetail.refresh()
        XCTAssertEqual(samDetail.details?.summary.title, merged)
        XCTAssertTrue(samDetail.canAccept)
    }

    func testBadInputIsAMessageAndNothingIsMade() async throws {
        let onboarding = OnboardingStore(spaces: spaces("sam"))
        await onboarding.join(ticket: "accord1thisisnotaticket", name: "Sam", timeZone: "UTC")
        XCTAssertNil(onboarding.made)
        XCTAssertTrue(onboarding.error?.contains("not an Accord invitation") == true, onboarding.error ?? "")
        await onboarding.create(name: "   ", timeZone: "UTC")
        XCTAssertEqual(onboarding.error, OnboardingStore.emptyName)
        await onboarding.create(name: "Alex", timeZone: "Mars/Olympus_Mons")
        XCTAssertNil(onboarding.made)
        XCTAssertTrue(onboarding.error?.contains("Mars/Olympus_Mons") == true, onboarding.error ?? "")

        await onboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(onboarding.made, onboarding.error ?? ""))
        let list = AgreementsStore(service: alex)
        await list.create(title: "   ")
        XCTAssertEqual(list.error, Words.emptyTitle)
        let missing = AgreementDetailStore(service: alex, id: "nope")
        await missing.refresh()
        XCTAssertTrue(missing.error?.contains("no agreement with id nope") == true, missing.error ?? "")
        let id = try await alex.createAgreement(proposal("Phones away at dinner"))
        let detail = AgreementDetailStore(service: alex, id: id)
        await detail.refresh()
        await detail.remind(Rhythm(.week, on: "Fryday"))
        XCTAssertEqual(detail.error, Rhythm.notAWeekday)
        await detail.remind(Rhythm(.week, on: "fri", time: "25:00"))
        XCTAssertTrue(detail.error?.contains("25:00") == true, detail.error ?? "")
        await detail.remind(Rhythm(.month, on: "first saturday", time: "18:30"))
        XCTAssertNil(detail.error)
        XCTAssertEqual(detail.rules.map { Rhythm.describe($0.rule) }, ["Every month on the first Saturday at 18:30, Europe/Berlin"])
    }

    func testTheListenerStreamEndsItsSubscriptionWhenCancelled() async throws {
        let onboarding = OnboardingStore(spaces: spaces("alex"))
        await onboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(onboarding.made))
        XCTAssertEqual(alex.openSubscriptions, 0)
        let list = AgreementsStore(service: alex)
        list.start()
        try await eventually("subscribed and read") { alex.openSubscriptions == 1 && !list.loading }
        _ = try await alex.createAgreement(proposal("Phones away at dinner"))
        try await eventually("a change is read") { list.sections.count == 1 }
        list.stop()
        try await eventually("the subscription ended") { alex.openSubscriptions == 0 }
        // Nothing is read any more after stop.
        _ = try await alex.createAgreement(NewAgreement(title: "Sundays are ours", category: .standard(.timeTogether), kind: .agreement, strength: .promise, concerns: .both))
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(list.sections.count, 1)
    }

    func testPositionsStaySealedUntilBothAreReadyAndRetiringSaysWhoAndWhy() async throws {
        let alexOnboarding = OnboardingStore(spaces: spaces("alex"))
        await alexOnboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(alexOnboarding.made))
        let ticket = try await alex.invite(.partner)
        let samOnboarding = OnboardingStore(spaces: spaces("sam"))
        await samOnboarding.join(ticket: ticket, name: "Sam", timeZone: "UTC")
        let sam = keep(try XCTUnwrap(samOnboarding.made, samOnboarding.error ?? ""))
        let id = try await alex.createAgreement(proposal("Money over 200 euros: we talk first"))
        let alexDetail = AgreementDetailStore(service: alex, id: id)
        alexDetail.start()
        let samDetail = AgreementDetailStore(service: sam, id: id)
        samDetail.start()
        try await eventually("Sam has it") { samDetail.details != nil }

        await alexDetail.writePosition("   ")
        XCTAssertEqual(alexDetail.error, Words.emptyPosition)
        let canary = "Alex thinks 150 euros is the line"
        await alexDetail.writePosition(canary)
        await alexDetail.markPositionReady()
        XCTAssertNil(alexDetail.error)
        // Sam sees that Alex is ready, never Alex's words, until Sam is ready too.
        try await eventually("Sam sees Alex's sealed position") { samDetail.positions.count == 1 }
        XCTAssertFalse(samDetail.positions.contains { $0.text?.contains("150") == true })
        await samDetail.writePosition("Sam thinks 300 euros")
        await samDetail.markPositionReady()
        try await eventually("both revealed on Alex's phone") {
            alexDetail.positions.count == 2 && alexDetail.positions.allSatisfy { $0.text != nil }
        }
        XCTAssertTrue(alexDetail.positions.contains { $0.text == "Sam thinks 300 euros" })

        await samDetail.retire(reason: "We use a shared budget now")
        try await eventually("retired on Alex's phone") { alexDetail.details?.retirement != nil }
        XCTAssertEqual(alexDetail.details?.retirement?.reason, "We use a shared budget now")
        XCTAssertEqual(alexDetail.details?.summary.status, .retired)
        XCTAssertFalse(alexDetail.canAccept)
        alexDetail.stop(); samDetail.stop()
    }

    func testTheNetworkModeIsKeptForThisDeviceAndTheNodeRestartsWithIt() async throws {
        let onboarding = OnboardingStore(spaces: spaces("alex"))
        await onboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(onboarding.made))
        let settings = DeviceSettings(suite: "accordkit-test-\(UUID().uuidString)")
        XCTAssertEqual(settings.network, .production)
        var restarted: [NetworkMode] = []
        let devices = DevicesStore(service: alex, settings: settings, restart: { restarted.append($0) })
        await devices.setNetwork(.relayOnly)
        XCTAssertEqual(restarted, [.relayOnly])
        XCTAssertEqual(devices.network, .relayOnly)
        XCTAssertEqual(settings.network, .relayOnly)
        await devices.setNetwork(.relayOnly)
        XCTAssertEqual(restarted, [.relayOnly], "the same mode restarts nothing")
        XCTAssertEqual(DeviceSettings.words(.local).name, "Only at home")
    }

    func testANewDeviceOfMineJoinsOnlyWhenIConfirmTheCodeBothShow() async throws {
        let onboarding = OnboardingStore(spaces: spaces("alex"))
        await onboarding.create(name: "Alex", timeZone: "Europe/Berlin")
        let alex = keep(try XCTUnwrap(onboarding.made))
        let pairing = PairingStore(service: alex, role: .myDevice)
        await pairing.start()
        let ticket = try XCTUnwrap(pairing.ticket, pairing.error ?? "")

        // A device whose code Alex says is not the same is refused, and makes nothing.
        let stranger = OnboardingStore(spaces: spaces("stranger"))
        stranger.showConfirmationCode(ticket: ticket)
        XCTAssertNotNil(stranger.confirmationCode)
        let refused = Task { await stranger.join(ticket: ticket, name: "Alex", timeZone: "Europe/Berlin") }
        try await eventually("Alex is asked") { pairing.request != nil }
        await pairing.confirm(sameCode: false)
        await refused.value
        XCTAssertNil(stranger.made)
        XCTAssertNotNil(stranger.error)

        // The tablet shows its code; Alex's phone shows the same and Alex confirms.
        await pairing.newTicket()
        let second = try XCTUnwrap(pairing.ticket)
        let tablet = OnboardingStore(spaces: spaces("tablet"))
        tablet.showConfirmationCode(ticket: second)
        let code = try XCTUnwrap(tablet.confirmationCode, tablet.error ?? "")
        let joining = Task { await tablet.join(ticket: second, name: "Alex", timeZone: "Europe/Berlin") }
        try await eventually("Alex is asked again") { pairing.request != nil }
        XCTAssertEqual(pairing.request?.code, code)
        XCTAssertEqual(pairing.request?.deviceName, "tablet's phone")
        await pairing.confirm(sameCode: true)
        await joining.value
        let tabletService = keep(try XCTUnwrap(tablet.made, tablet.error ?? ""))
        XCTAssertNil(tablet.recoverySecret, "a further device of mine makes no new secret")
        let info = try await tabletService.info()
        XCTAssertEqual(info.partners.map(\.name), ["Alex"])
        XCTAssertEqual(info.partners.first?.id, info.me, "the tablet is Alex's, not a new partner")
        try await eventually("Alex's screen says it joined") { pairing.joined == "Alex joined on tablet's phone." }
        pairing.stop()
        XCTAssertEqual(alex.openSubscriptions, 0)
    }
}
