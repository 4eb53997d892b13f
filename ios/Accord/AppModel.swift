import Foundation
import Network
import Observation
import SwiftUI
import UIKit
import AccordKit

/// The app's one owner of the space: where its files are, the node's lifecycle, the network
/// mode, reminders and the optional app lock. Views read it; all logic is in AccordKit.
@MainActor @Observable
final class AppModel {
    /// The space once this device has one (nil: onboarding).
    private(set) var service: RustService?
    /// Onboarding, while there is no space.
    private(set) var onboarding: OnboardingStore
    /// Whether the app lock hides the screens.
    private(set) var locked = false
    /// What went wrong opening the space, if anything.
    var error: String?

    @ObservationIgnored let settings = DeviceSettings()
    @ObservationIgnored let lock = AppLock()
    @ObservationIgnored private(set) var lifecycle: SpaceLifecycle
    @ObservationIgnored private var spaces: RustSpaces
    @ObservationIgnored private var pathMonitor: NWPathMonitor?
    @ObservationIgnored private var reminderFeed: Task<Void, Never>?
    @ObservationIgnored private var backgroundedAt: Date?

    /// Where this device keeps its copy: Application Support/Accord, excluded from backups
    /// and device transfer, readable only after the first unlock.
    static let dataDirectory: URL = {
        let base = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        var dir = base.appendingPathComponent("Accord", isDirectory: true)
        try? FileManager.default.createDirectory(
            at: dir, withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? dir.setResourceValues(values)
        return dir
    }()

    init() {
        // The device key lives in the Keychain (this device only), not in a file.
        registerDeviceKeyStore(
            root: AppModel.dataDirectory.deletingLastPathComponent().path, store: KeychainKeyStore.shared)
        let spaces = RustSpaces(
            dir: AppModel.dataDirectory.path, network: DeviceSettings().network, deviceName: UIDevice.current.name)
        self.spaces = spaces
        self.lifecycle = SpaceLifecycle(spaces: spaces)
        self.onboarding = OnboardingStore(spaces: spaces)
    }

    /// Whether this device has a space already.
    var hasSpace: Bool {
        ["changes.log", "snapshot.bin"].contains {
            FileManager.default.fileExists(atPath: AppModel.dataDirectory.appendingPathComponent($0).path)
        }
    }

    /// At launch: open the space if there is one, schedule reminders, follow the network.
    func launch() async {
        locked = lock.enabled
        if locked { locked = !(await lock.unlock()) }
        guard hasSpace else { return }
        await foreground()
    }

    /// The node while in the foreground; shut down in the background (with a flush first).
    func scenePhaseChanged(_ phase: ScenePhase) async {
        switch phase {
        case .active:
            if lock.enabled, let since = backgroundedAt, Date().timeIntervalSince(since) > lock.after {
                locked = !(await lock.unlock())
            }
            backgroundedAt = nil
            if hasSpace { await foreground() }
        case .background:
            backgroundedAt = Date()
            stopFollowing()
            await lifecycle.background()
            service = nil
            BackgroundSync.schedule()
        default:
            break
        }
    }

    /// Called when onboarding made the space (and its recovery secret was written down).
    func spaceMade() async {
        if let made = onboarding.made as? RustService {
            // The onboarding node becomes the lifecycle's: close it and open it as the foreground node.
            await made.node.shutdown()
        }
        onboarding = OnboardingStore(spaces: spaces)
        await foreground()
    }

    /// Keeps `mode` and restarts the node with it.
    func restart(network mode: NetworkMode) async throws {
        stopFollowing()
        await lifecycle.background()
        spaces = RustSpaces(dir: spaces.dir, network: mode, deviceName: spaces.deviceName)
        lifecycle = SpaceLifecycle(spaces: spaces)
        service = nil
        await foreground()
    }

    /// The last step of leaving: the node stops and this device's copy and keys are deleted.
    func leaveAndDelete() async {
        stopFollowing()
        await lifecycle.background()
        service = nil
        await ReminderScheduler.removeAll(center: NotificationCenterAdapter())
        KeychainKeyStore.shared.remove(label: AppModel.dataDirectory.lastPathComponent)
        let dir = AppModel.dataDirectory
        for item in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(item))
        }
        onboarding = OnboardingStore(spaces: spaces)
    }

    private func foreground() async {
        do {
            let opened = try await lifecycle.foreground()
            service = opened
            error = nil
            follow(opened)
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    /// Reminders rescheduled on every change; the network followed for the node.
    private func follow(_ service: RustService) {
        reminderFeed?.cancel()
        let scheduler = ReminderScheduler(service: service, center: NotificationCenterAdapter())
        let changes = service.changes()
        reminderFeed = Task {
            for await _ in changes {
                if Task.isCancelled { break }
                _ = try? await scheduler.reconcile()
            }
        }
        let monitor = NWPathMonitor()
        monitor.pathUpdateHandler = { path in
            guard path.status == .satisfied else { return }
            Task { try? await service.node.networkChanged() }
        }
        monitor.start(queue: DispatchQueue(label: "org.accord.path"))
        pathMonitor = monitor
    }

    private func stopFollowing() {
        reminderFeed?.cancel()
        reminderFeed = nil
        pathMonitor?.cancel()
        pathMonitor = nil
    }
}
