import SwiftUI
import AccordKit

/// Inviting: the ticket as a QR code and as text to copy; who joined; for a device of mine,
/// the code to compare before confirming.
struct PairingView: View {
    @State private var store: PairingStore

    init(service: RustService, role: InviteRole) {
        _store = State(initialValue: PairingStore(service: service, role: role))
    }

    private var title: String {
        switch store.role {
        case .partner: return "Invite your partner"
        case .returningPartner: return "Invite your partner back"
        case .myDevice: return "Add another device of mine"
        }
    }

    private var explanation: String {
        switch store.role {
        case .partner:
            return "On their device: join with this ticket (scan the code or paste the text). It works once, for 10 minutes; pair while you are together."
        case .returningPartner:
            return "For your partner's new device after they lost every device: they join with this ticket and their recovery secret, which only they have. Their lost devices stop counting."
        case .myDevice:
            return "On your other device: choose \"Another device of mine\" and scan or paste this ticket. You confirm here that both show the same code."
        }
    }

    var body: some View {
        ScrollView {
            VStack(alignment: .leading, spacing: 16) {
                Text(explanation)
                if let error = store.error { ErrorText(error) }
                if let request = store.request {
                    VStack(alignment: .leading, spacing: 8) {
                        Text("\(request.deviceName) wants to join as your device. Does it show this code?")
                        Text(request.code).font(.largeTitle.monospaced()).accessibilityLabel("Code \(request.code)")
                        HStack {
                            Button("Same code: add it") { Task { await store.confirm(sameCode: true) } }
                                .buttonStyle(.borderedProminent)
                            Button("Not the same", role: .destructive) { Task { await store.confirm(sameCode: false) } }
                        }
                    }
                }
                if let joined = store.joined {
                    Text(joined).font(.title3)
                    Text("Your agreements now stay in sync between your devices, end to end encrypted.")
                }
                if let ticket = store.ticket {
                    QRCodeView(text: ticket).frame(maxWidth: 260)
                    Text(ticket).font(.footnote.monospaced()).textSelection(.enabled)
                    Button("Copy the ticket") { UIPasteboard.general.string = ticket }
                }
                Button("New ticket") { Task { await store.newTicket() } }
            }
            .padding()
        }
        .navigationTitle(title)
        .task { await store.start() }
        .onDisappear { store.stop() }
    }
}
