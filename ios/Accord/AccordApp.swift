import SwiftUI
import AccordKit

/// The iOS app: the screens over AccordKit's stores; the node runs while the app is in the
/// foreground and is shut down when it goes to the background.
@main
struct AccordApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView(model: delegate.model)
                .task { await delegate.model.launch() }
        }
        .onChange(of: scenePhase) { _, phase in
            Task { await delegate.model.scenePhaseChanged(phase) }
        }
    }
}

/// Registers background refresh and the notification delegate before the first scene.
final class AppDelegate: NSObject, UIApplicationDelegate {
    @MainActor let model = AppModel()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        MainActor.assumeIsolated {
            BackgroundSync.register(model: model)
            NotificationActions.shared.install(model: model)
        }
        return true
    }
}
