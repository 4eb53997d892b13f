import Foundation
import UserNotifications
import AccordKit

/// AccordKit's `NotificationScheduling` over `UNUserNotificationCenter`: a calendar trigger at
/// the reminder's wall-clock time in its own zone; on the lock screen only "Accord" and a
/// neutral line (the words show once the phone is unlocked).
struct NotificationCenterAdapter: NotificationScheduling {
    static let category = "accord.reminder"
    static let done = "accord.done"
    static let snooze = "accord.snooze"

    private var center: UNUserNotificationCenter { .current() }

    /// The category with its actions, registered once at launch.
    static func registerCategory() {
        let category = UNNotificationCategory(
            identifier: Self.category,
            actions: [
                UNNotificationAction(identifier: Self.done, title: "Done", options: []),
                UNNotificationAction(identifier: Self.snooze, title: "In an hour", options: []),
            ],
            intentIdentifiers: [],
            hiddenPreviewsBodyPlaceholder: "A reminder from Accord",
            options: []
        )
        UNUserNotificationCenter.current().setNotificationCategories([category])
    }

    func pendingIds() async -> [String] {
        await center.pendingNotificationRequests().map(\.identifier)
    }

    func add(_ reminder: ScheduledReminder) async throws {
        let content = UNMutableNotificationContent()
        content.title = reminder.title
        content.body = reminder.body
        content.categoryIdentifier = Self.category
        content.threadIdentifier = "accord"
        content.sound = .default
        let trigger = UNCalendarNotificationTrigger(dateMatching: reminder.fireAt, repeats: false)
        try await center.add(UNNotificationRequest(identifier: reminder.id, content: content, trigger: trigger))
    }

    func remove(ids: [String]) async {
        center.removePendingNotificationRequests(withIdentifiers: ids)
    }
}

/// Answers the notification actions: done (for both) and snooze (an hour, mine), through the
/// node when it runs or the local space when the app was launched in the background.
@MainActor
final class NotificationActions: NSObject, UNUserNotificationCenterDelegate {
    static let shared = NotificationActions()
    private weak var model: AppModel?

    func install(model: AppModel) {
        self.model = model
        NotificationCenterAdapter.registerCategory()
        UNUserNotificationCenter.current().delegate = self
    }

    /// Asks for permission to remind (once, when the first reminder is set).
    static func requestPermission() async -> Bool {
        (try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound])) ?? false
    }

    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse
    ) async {
        let id = response.notification.request.identifier
        let action = response.actionIdentifier
        guard action == NotificationCenterAdapter.done || action == NotificationCenterAdapter.snooze else { return }
        guard let lifecycle = await MainActor.run(body: { self.model?.lifecycle }) else { return }
        let until = Date().addingTimeInterval(3600)
        _ = try? await lifecycle.withSpace { space in
            if action == NotificationCenterAdapter.done {
                try space.markReminderDone(id: id)
            } else {
                try space.snoozeReminder(id: id, until: until)
            }
        }
    }

    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter, willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        [.banner, .sound]
    }
}
