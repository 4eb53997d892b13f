import Foundation
import LocalAuthentication

/// The optional app lock: Face ID, Touch ID or the passcode when the app opens, and again when
/// it comes back after `after` seconds in the background. Off by default.
struct AppLock {
    private let key = "accord.appLock"

    /// Whether the lock is on.
    var enabled: Bool { UserDefaults.standard.bool(forKey: key) }

    /// Seconds in the background after which the lock asks again.
    let after: TimeInterval = 60

    /// Turns the lock on or off (turning it on asks once, so a lock that cannot open is never set).
    func set(_ on: Bool) async -> Bool {
        if on, !(await unlock()) { return false }
        UserDefaults.standard.set(on, forKey: key)
        return true
    }

    /// Asks for the device owner's authentication.
    func unlock() async -> Bool {
        let context = LAContext()
        var error: NSError?
        guard context.canEvaluatePolicy(.deviceOwnerAuthentication, error: &error) else { return true }
        return (try? await context.evaluatePolicy(.deviceOwnerAuthentication, localizedReason: "Open your agreements")) ?? false
    }
}
