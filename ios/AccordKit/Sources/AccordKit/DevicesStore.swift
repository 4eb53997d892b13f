import Foundation
import Observation

/// Devices and settings: who is in the space, each device's sync status (never a time), sync
/// now, unpairing one's own devices, a new recovery secret, ending the pairing, the export.
@MainActor @Observable
public final class DevicesStore: ScreenStore {
    public private(set) var loading = true
    public private(set) var info: SpaceInfo?
    /// Per other device: whether it has all of this device's changes.
    public private(set) var hasAllMyChanges: [DeviceId: Bool] = [:]
    /// A new recovery secret, shown once (the app never stores it).
    public private(set) var newRecoverySecret: String?
    /// Whether a sync asked for here is running.
    public private(set) var syncing = false
    /// What the last sync asked for here did, in words.
    public private(set) var syncOutcome: String?
    /// The last export, to hand to the share sheet.
    public private(set) var exported: String?
    public var error: String?

    /// This device's network mode.
    public private(set) var network: NetworkMode
    /// Whether the node is restarting with a new network mode.
    public private(set) var switchingNetwork = false

    @ObservationIgnored private let service: AccordService
    @ObservationIgnored private let syncTimeoutMs: UInt64
    @ObservationIgnored private let settings: DeviceSettings
    @ObservationIgnored private let restart: @MainActor (NetworkMode) async throws -> Void
    @ObservationIgnored public let feed = ChangeFeed()

    /// A store over `service`; a sync asked for here waits at most `syncTimeoutMs`; a new
    /// network mode is kept in `settings` and applied by `restart` (the app reopens the node).
    public init(
        service: AccordService,
        settings: DeviceSettings = DeviceSettings(),
        syncTimeoutMs: UInt64 = 10_000,
        restart: @escaping @MainActor (NetworkMode) async throws -> Void = { _ in }
    ) {
        self.service = service
        self.settings = settings
        self.syncTimeoutMs = syncTimeoutMs
        self.restart = restart
        self.network = settings.network
    }

    /// Keeps `mode` for this device and restarts the node with it.
    public func setNetwork(_ mode: NetworkMode) async {
        guard mode != network else { return }
        switchingNetwork = true
        defer { switchingNetwork = false }
        settings.setNetwork(mode)
        network = mode
        do {
            try await restart(mode)
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    public func start() { feed.start(service) { [weak self] in await self?.refresh() } }
    public func stop() { feed.stop() }

    public func refresh() async {
        await load {
            info = try await service.info()
            hasAllMyChanges = Dictionary(try await service.syncStatus().map { ($0.device, $0.hasAllMyChanges) }, uniquingKeysWith: { a, _ in a })
        }
        loading = false
    }

    /// How a device's status reads: this device, unpaired, has all your changes, or waiting.
    public func status(of device: Device) -> String {
        if device.id == info?.myDevice { return Words.thisDevice }
        if device.removed { return "unpaired" }
        return hasAllMyChanges[device.id] == true ? Words.hasAll : Words.waitingSync
    }

    /// Syncs now and says which devices have everything and which could not be reached.
    public func syncNow() async {
        syncing = true
        syncOutcome = nil
        defer { syncing = false }
        await act {
            let report = try await service.syncNow(timeoutMs: syncTimeoutMs)
            var devices = info?.devices ?? []
            if devices.isEmpty { devices = try await service.info().devices }
            let names = Dictionary(devices.map { ($0.id, $0.name.isEmpty ? "a device" : $0.name) }, uniquingKeysWith: { a, _ in a })
            syncOutcome = Words.syncOutcome(report, names: names)
        }
    }

    /// Unpairs one of my own devices (a lost phone).
    public func unpair(_ device: DeviceId) async { await act { try await service.unpair(device) } }

    /// Makes a new recovery secret and shows it once.
    public func newRecoverySecret() async { await act { newRecoverySecret = try await service.setUpRecovery() } }

    /// Hides the secret once the partner wrote it down.
    public func secretWrittenDown() { newRecoverySecret = nil }

    /// Ends the pairing with the other partner (the screen asks first: it cannot be undone).
    public func endPairing() async { await act { try await service.endPairing() } }

    /// Exports every agreement as Markdown into ``exported`` (the view hands it to the share sheet).
    public func export() async { await act { exported = try await service.exportMarkdown() } }
}
