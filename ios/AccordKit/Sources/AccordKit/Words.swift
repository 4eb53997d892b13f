import Foundation

/// The app's wording for the core's values, the same as the Android app's
/// (`android/ui/APP-CONTRACT.md` is the contract both follow).
public enum Words {
    /// How a status reads in a list and on the detail screen.
    public static func status(_ status: Status) -> String {
        switch status {
        case .draft: return "Draft"
        case .proposed: return "Proposed: not yet accepted by both of you"
        case .active: return "Active: you both agreed"
        case .needsRenegotiation: return "To renegotiate"
        case .conflicted: return "Two versions: choose one"
        case .retired: return "Retired"
        }
    }

    /// A commitment strength in the partners' own words.
    public static func strength(_ strength: Strength) -> String {
        switch strength {
        case .promise: return "I promise"
        case .tryMyBest: return "I'll try my best"
        case .experiment: return "Experiment"
        }
    }

    /// A category's name as a heading ("Time together").
    public static func category(_ category: Category) -> String {
        let label = categoryLabel(category: category)
        return label.prefix(1).uppercased() + label.dropFirst()
    }

    /// Where a concern stands.
    public static func concern(_ state: ConcernState) -> String {
        switch state {
        case .open: return "Raised: waiting to be heard"
        case .acknowledged: return "Heard"
        case .responded: return "Answered"
        case .resolved: return "Resolved"
        case .renegotiation: return "Renegotiating the agreement"
        }
    }

    /// What a sync did: who has everything now, who could not be reached (nothing is lost).
    public static func syncOutcome(_ report: SyncReport, names: [DeviceId: String]) -> String {
        let reached = report.converged.map { names[$0] ?? "a device" }
        let missed = report.unreachable.map { names[$0.device] ?? "a device" }
        func have(_ who: [String]) -> String {
            who.joined(separator: " and ") + (who.count == 1 ? " has everything" : " have everything")
        }
        if reached.isEmpty && missed.isEmpty { return "There is no other device to sync with yet." }
        if missed.isEmpty { return "Synced: \(have(reached))." }
        return "Could not reach \(missed.joined(separator: " and ")) now. Your changes are kept on this device "
            + "and go as soon as \(missed.count == 1 ? "it" : "they") can be reached."
            + (reached.isEmpty ? "" : " \(have(reached)).")
    }

    public static let waitingForYou = "Waiting for you"
    public static let emptyTitle = "Write the agreement's words first."
    public static let emptyConcern = "Say what happened first."
    public static let emptyPosition = "Write your position first."
    public static let thisDevice = "this device"
    public static let hasAll = "has all your changes"
    public static let waitingSync = "waiting for your changes"
}
