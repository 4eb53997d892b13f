import BackgroundTasks
import Foundation
import AccordKit

/// Opportunistic background refresh: about 10 seconds to open the node, sync with the
/// couple's other devices, reschedule reminders and close again. Each run schedules the next;
/// when iOS ends the time early, the work is cancelled and the node closed.
enum BackgroundSync {
    static let identifier = "org.accord.app.refresh"

    @MainActor
    static func register(model: AppModel) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            guard let task = task as? BGAppRefreshTask else { return }
            schedule() // the next one first: a run may be cut short
            let work = Task { @MainActor in
                let ok = await run(model: model)
                task.setTaskCompleted(success: ok)
            }
            task.expirationHandler = { work.cancel() }
        }
    }

    /// Asks iOS for a refresh in about 15 minutes or later.
    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    @MainActor
    private static func run(model: AppModel) async -> Bool {
        guard model.hasSpace, model.service == nil else { return true } // the foreground node is syncing
        do {
            let service = try await model.lifecycle.foreground()
            defer { Task { await model.lifecycle.background() } }
            _ = try await service.syncNow(timeoutMs: 8_000)
            try Task.checkCancellation()
            try await ReminderScheduler(service: service, center: NotificationCenterAdapter()).reconcile()
            return true
        } catch {
            return false
        }
    }
}
