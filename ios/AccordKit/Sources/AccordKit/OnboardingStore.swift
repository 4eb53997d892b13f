import Foundation
import Observation

/// Makes this device's space; ``RustSpaces`` in the app, a fake in tests.
public protocol SpaceMaking: Sendable {
    /// Creates a space on this device; you become its first partner.
    func create(name: String, timeZone: String) async throws -> AccordService
    /// Joins the space a ticket from the partner's device invites to.
    func join(ticket: String, name: String, timeZone: String) async throws -> AccordService
    /// Comes back as the partner whose recovery secret this is.
    func comeBack(ticket: String, recoverySecret: String) async throws -> AccordService
}

extension RustSpaces: SpaceMaking {}

/// Onboarding: create a space, join the partner's with a ticket, or come back with a recovery
/// secret; ``made`` is the space once there is one.
@MainActor @Observable
public final class OnboardingStore {
    /// Whether a space is being made (buttons wait).
    public private(set) var working = false
    /// The space this device has now, once made.
    public private(set) var made: AccordService?
    public var error: String?

    @ObservationIgnored private let spaces: SpaceMaking

    /// A store making spaces with `spaces`.
    public init(spaces: SpaceMaking) { self.spaces = spaces }

    public static let emptyName = "Write your name first."
    public static let emptyTicket = "Paste the ticket from your partner's device first."
    public static let emptySecret = "Type your recovery secret first."

    /// Creates a space; you become its first partner.
    public func create(name: String, timeZone: String) async {
        let who = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !who.isEmpty else { error = Self.emptyName; return }
        await make { try await self.spaces.create(name: who, timeZone: timeZone) }
    }

    /// Joins the partner's space with their ticket.
    public func join(ticket: String, name: String, timeZone: String) async {
        let who = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = ticket.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !who.isEmpty else { error = Self.emptyName; return }
        guard !text.isEmpty else { error = Self.emptyTicket; return }
        await make { try await self.spaces.join(ticket: text, name: who, timeZone: timeZone) }
    }

    /// Comes back as myself with a returning-partner ticket and my recovery secret.
    public func comeBack(ticket: String, recoverySecret: String) async {
        let text = ticket.trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = recoverySecret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { error = Self.emptyTicket; return }
        guard !secret.isEmpty else { error = Self.emptySecret; return }
        await make { try await self.spaces.comeBack(ticket: text, recoverySecret: secret) }
    }

    private func make(_ work: @escaping () async throws -> AccordService) async {
        working = true
        defer { working = false }
        do {
            made = try await work()
            error = nil
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }
}
