import Foundation

/// This device's own settings (never in the shared space): how it reaches the couple's other
/// devices. Kept in `UserDefaults`.
public struct DeviceSettings: Sendable {
    private let key = "accord.network"
    private let suite: String?

    /// Settings in the standard defaults, or in the `suite` named (tests).
    public init(suite: String? = nil) { self.suite = suite }

    private var defaults: UserDefaults { suite.flatMap(UserDefaults.init(suiteName:)) ?? .standard }

    /// The network mode: anywhere (the default), only at home, or hiding this device's address.
    public var network: NetworkMode {
        switch defaults.string(forKey: key) {
        case "local": return .local
        case "relayOnly": return .relayOnly
        default: return .production
        }
    }

    /// Keeps `mode` for every later start of the node.
    public func setNetwork(_ mode: NetworkMode) {
        let text: String
        switch mode {
        case .local: text = "local"
        case .relayOnly: text = "relayOnly"
        case .loopback: text = "loopback"
        case .production: text = "production"
        }
        defaults.set(text, forKey: key)
    }

    /// A network mode as a choice in settings: a name and what it means for the couple.
    public static func words(_ mode: NetworkMode) -> (name: String, meaning: String) {
        switch mode {
        case .production: return ("Anywhere", "Directly when you can, through an encrypted relay when not.")
        case .local: return ("Only at home", "Only on the same Wi-Fi or network; nothing goes over the internet.")
        case .relayOnly: return ("Hide my address", "Always through the relay, so your partner's device never learns this device's address. Slower.")
        case .loopback: return ("This device only", "Only other copies on this device (for trying Accord out).")
        }
    }
}
