import SwiftUI
import AccordKit

/// Create a space, join the partner's with their ticket (typed, pasted or scanned), join as
/// another device of mine (comparing the code), or come back with the recovery secret.
struct OnboardingView: View {
    let store: OnboardingStore
    @State private var name = ""
    @State private var timeZone = TimeZone.current.identifier
    @State private var ticket = ""
    @State private var secret = ""
    @State private var scanning = false

    var body: some View {
        Form {
            Section {
                Text("Start your couple space").font(.title2).accessibilityAddTraits(.isHeader)
                Text("Your agreements stay on your devices and your partner's; no account, no server.")
                TextField("Your name", text: $name).textContentType(.givenName)
                TextField("Your time zone", text: $timeZone).autocorrectionDisabled()
                Button("Create a new space") { Task { await store.create(name: name, timeZone: timeZone) } }
                    .disabled(store.working)
            }
            Section("Or join your partner") {
                Text("On their device, invite your partner, then scan or paste the ticket here.")
                TextField("Ticket from your partner's device", text: $ticket, axis: .vertical)
                    .autocorrectionDisabled()
                    .textInputAutocapitalization(.never)
                Button("Scan the QR code") { scanning = true }
                Button("Join") { Task { await store.join(ticket: ticket, name: name, timeZone: timeZone) } }
                    .disabled(store.working)
            }
            Section("Another device of mine") {
                if let code = store.confirmationCode {
                    Text("Check that your other device shows this code, and confirm there:")
                    Text(code).font(.largeTitle.monospaced()).accessibilityLabel("Code \(code)")
                    Button("It shows the same code: join") {
                        Task { await store.join(ticket: ticket, name: name, timeZone: timeZone) }
                    }
                    .disabled(store.working)
                } else {
                    Button("Show the code for my device's ticket") { store.showConfirmationCode(ticket: ticket) }
                }
            }
            Section("Lost every device?") {
                Text("Your partner invites you back; paste their ticket above and type your recovery secret.")
                SecureField("Your recovery secret", text: $secret)
                Button("Come back as myself") { Task { await store.comeBack(ticket: ticket, recoverySecret: secret) } }
                    .disabled(store.working)
            }
            if store.working { ProgressView() }
            if let error = store.error { ErrorText(error) }
        }
        .sheet(isPresented: $scanning) {
            ScannerView { text in
                ticket = text
                scanning = false
            }
            .ignoresSafeArea()
        }
    }
}
