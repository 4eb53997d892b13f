import Foundation
import Observation

/// Inviting: a ticket made at once (a new one on request), and who joined with it.
@MainActor @Observable
public final class PairingStore: ScreenStore {
    /// Whom the ticket invites.
    public let role: InviteRole
    public private(set) var loading = true
    /// The ticket as text (also shown as a QR code); it works once, for 10 minutes.
    public private(set) var ticket: String?
    /// Who joined while the screen was open ("Sam joined on Sam's phone."); then no ticket.
    public private(set) var joined: String?
    /// A device of mine asking to join, with the code to compare (my-device tickets).
    public private(set) var request: PairingRequest?
    public var error: String?

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private var requests: Task<Void, Never>?
    @ObservationIgnored private var known: Set<DeviceId>?
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store inviting `role`.
    public init(service: AccordService, role: InviteRole = .partner) {
        self.service = service
        self.role = role
    }

    /// Makes the first ticket, then watches for who joins (and, for a device of mine, for its
    /// request to be confirmed).
    public func start() async {
        let stream = service.pairingRequests()
        requests = Task { @MainActor [weak self] in
            for await request in stream {
                if Task.isCancelled { break }
                self?.request = request
            }
        }
        await newTicket()
        feed.start(service) { [weak self] in await self?.refresh() }
    }

    public func stop() {
        feed.stop()
        requests?.cancel()
        requests = nil
    }

    /// Answers the request: `sameCode` when the new device shows the same code.
    public func confirm(sameCode: Bool) async {
        guard let request else { return }
        self.request = nil
        await act { try await service.confirmPairing(request.device, confirm: sameCode) }
    }

    public func refresh() async {
        await load {
            let info = try await service.info()
            let devices = info.devices.filter { !$0.removed }
            let before = known ?? Set(devices.map(\.id))
            if known == nil { known = before }
            if let arrived = devices.first(where: { !before.contains($0.id) }) {
                let who = info.partners.first { $0.id == arrived.partner }?.name ?? "Your partner"
                joined = "\(who) joined on \(arrived.name.isEmpty ? "a new device" : arrived.name)."
                ticket = nil
            }
        }
    }

    /// Makes a new ticket (the old one still works until used or expired).
    public func newTicket() async {
        if known == nil, let info = try? await service.info() {
            known = Set(info.devices.filter { !$0.removed }.map(\.id))
        }
        await act { ticket = try await service.invite(role) }
        loading = false
    }
}
