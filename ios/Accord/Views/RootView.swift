import SwiftUI
import AccordKit

/// The app lock, onboarding until there is a space (with the recovery secret shown once), then
/// the agreements with the ways to the other screens.
struct RootView: View {
    let model: AppModel

    var body: some View {
        Group {
            if model.locked {
                LockedView(model: model)
            } else if let secret = model.onboarding.recoverySecret {
                RecoverySecretView(secret: secret) {
                    model.onboarding.secretWrittenDown()
                    Task { await model.spaceMade() }
                }
            } else if let service = model.service {
                NavigationStack { AgreementsView(service: service, model: model) }
            } else if model.onboarding.made != nil {
                ProgressView("Opening your agreements…").task { await model.spaceMade() }
            } else if model.hasSpace {
                VStack(spacing: 12) {
                    ProgressView()
                    if let error = model.error { ErrorText(error) }
                }
            } else {
                OnboardingView(store: model.onboarding)
            }
        }
    }
}

/// The app lock's screen: nothing of the space shows behind it.
struct LockedView: View {
    let model: AppModel

    var body: some View {
        VStack(spacing: 16) {
            Image(systemName: "lock").font(.largeTitle).accessibilityHidden(true)
            Text("Accord is locked").font(.title2)
            Button("Unlock") { Task { await model.launch() } }
                .buttonStyle(.borderedProminent)
        }
    }
}

/// The recovery secret, shown once: write it down or keep the QR code somewhere safe.
struct RecoverySecretView: View {
    let secret: String
    let writtenDown: () -> Void

    var body: some View {
        ScrollView {
            VStack(alignment: .leading, spacing: 16) {
                Text("Your recovery secret").font(.title).accessibilityAddTraits(.isHeader)
                Text("Write this down or keep it somewhere safe, never in the app. It is shown only now. If you lose every device, it and an invitation from your partner bring you back as yourself.")
                Text(secret)
                    .font(.title3.monospaced())
                    .textSelection(.enabled)
                    .accessibilityLabel("Recovery secret: \(secret.map(String.init).joined(separator: " "))")
                QRCodeView(text: secret).frame(maxWidth: 220)
                Button("I wrote it down", action: writtenDown).buttonStyle(.borderedProminent)
            }
            .padding()
        }
    }
}

/// An error from the core, as a message.
struct ErrorText: View {
    let message: String
    init(_ message: String) { self.message = message }

    var body: some View {
        Text(message)
            .foregroundStyle(.red)
            .accessibilityLabel("Error: \(message)")
    }
}
