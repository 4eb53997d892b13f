import Foundation
import Observation

/// Makes this device's space; ``RustSpaces`` in the app, a fake in tests.
public protocol SpaceMaking: Sendable {
    /// Creates a space on this device; you become its first partner.
    func create(name: String, timeZone: String) async throws -> AccordService
    /// Joins the space a ticket from the partner's device invites to.
    func join(ticket: String, name: String, timeZone: String) async throws -> AccordService
    /// The code this new device shows while it joins with a my-device ticket.
    func confirmationCode(ticket: String) throws -> String
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
    /// The recovery secret made at setup, shown once before the app goes on (never stored).
    public private(set) var recoverySecret: String?
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
        await setUpRecovery()
    }

    /// Hides the recovery secret once it is written down; the app goes on to the space.
    public func secretWrittenDown() { recoverySecret = nil }

    /// A partner's first device makes the recovery secret at once: with it alone they come
    /// back if they lose every device.
    private func setUpRecovery() async {
        guard let made else { return }
        do {
            recoverySecret = try await made.setUpRecovery()
        } catch {
            self.error = AccordKitError.from(error).message
        }
    }

    /// Joins the partner's space with their ticket.
    public func join(ticket: String, name: String, timeZone: String) async {
        let who = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = ticket.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !who.isEmpty else { error = Self.emptyName; return }
        guard !text.isEmpty else { error = Self.emptyTicket; return }
        let ownDevice = confirmationCode != nil
        await make { try await self.spaces.join(ticket: text, name: who, timeZone: timeZone) }
        confirmationCode = nil
        // A partner's first device makes the secret; a further device of theirs has it already.
        if !ownDevice { await setUpRecovery() }
    }

    /// The code to compare with my other device before joining with its my-device ticket.
    public private(set) var confirmationCode: String?

    /// Shows the code for a my-device ticket (then ``join(ticket:name:timeZone:)`` joins).
    public func showConfirmationCode(ticket: String) {
        let text = ticket.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { error = Self.emptyTicket; return }
        do {
            confirmationCode = try spaces.confirmationCode(ticket: text)
            error = nil
        } catch {
            self.error = AccordKitError.from(error).message
        }
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
