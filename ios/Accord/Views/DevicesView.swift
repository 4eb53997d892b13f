import SwiftUI
import AccordKit

/// Devices and settings: who is in the space and each device's sync status (never a time),
/// sync now, unpairing my devices, adding one, the recovery secret, inviting the partner back,
/// ending the pairing, the network mode, the export, the app lock, leaving.
struct DevicesView: View {
    let service: RustService
    let model: AppModel
    @State private var store: DevicesStore
    @State private var ending = false
    @State private var leaving = false
    @State private var lockOn = AppLock().enabled

    init(service: RustService, model: AppModel) {
        self.service = service
        self.model = model
        _store = State(initialValue: DevicesStore(service: service, settings: model.settings) { mode in
            try await model.restart(network: mode)
        })
    }

    var body: some View {
        List {
            if let error = store.error { ErrorText(error) }
            if let info = store.info {
                if let readOnly = info.readOnly { ErrorText(readOnly) }
                if info.ending != nil { Text("The pairing ended.") }
                ForEach(info.partners, id: \.id) { partner in
                    Section((partner.id == info.me ? "You: " : "Partner: ") + "\(partner.name) (\(partner.timeZone))") {
                        Text(partner.hasRecovery ? "\(partner.name) can come back with a recovery secret" : "\(partner.name) has no recovery secret yet")
                            .font(.footnote)
                        ForEach(info.devices.filter { $0.partner == partner.id }, id: \.id) { device in
                            HStack {
                                VStack(alignment: .leading) {
                                    Text(device.name.isEmpty ? "A device" : device.name)
                                    Text(store.status(of: device)).font(.footnote)
                                }
                                .accessibilityElement(children: .combine)
                                Spacer()
                                if partner.id == info.me && !device.removed && device.id != info.myDevice {
                                    Button("Unpair", role: .destructive) { Task { await store.unpair(device.id) } }
                                }
                            }
                        }
                    }
                }
                Section {
                    Button(store.syncing ? "Syncing…" : "Sync now") { Task { await store.syncNow() } }
                        .disabled(store.syncing)
                    if let outcome = store.syncOutcome { Text(outcome) }
                    NavigationLink("Add another device of mine") { PairingView(service: service, role: .myDevice) }
                    if info.ending == nil && info.partners.count == 2 {
                        NavigationLink("Invite your partner back (they lost every device)") {
                            PairingView(service: service, role: .returningPartner)
                        }
                        Button("End the pairing", role: .destructive) { ending = true }
                    }
                }
                Section("Recovery") {
                    if let secret = store.newRecoverySecret {
                        RecoverySecretView(secret: secret) { store.secretWrittenDown() }
                    } else {
                        Button("New recovery secret") { Task { await store.newRecoverySecret() } }
                    }
                }
                Section("Network") {
                    ForEach([NetworkMode.production, .local, .relayOnly], id: \.self) { mode in
                        let words = DeviceSettings.words(mode)
                        Button {
                            Task { await store.setNetwork(mode) }
                        } label: {
                            HStack {
                                VStack(alignment: .leading) {
                                    Text(words.name)
                                    Text(words.meaning).font(.footnote)
                                }
                                Spacer()
                                if store.network == mode { Image(systemName: "checkmark").accessibilityLabel("chosen") }
                            }
                        }
                        .disabled(store.switchingNetwork)
                    }
                    if store.switchingNetwork { Text("Reconnecting…").font(.footnote) }
                }
                Section("Export") {
                    Text("A readable document of every agreement and who accepted which words, to print or bring to a counselling session.")
                        .font(.footnote)
                    if let exported = store.exported {
                        ShareLink("Share the export", item: exported, preview: SharePreview("Our agreements"))
                    } else {
                        Button("Export our agreements (Markdown)") { Task { await store.export() } }
                    }
                }
                Section("On this phone") {
                    Toggle("Lock Accord with Face ID or the passcode", isOn: Binding(
                        get: { lockOn },
                        set: { on in Task { if await model.lock.set(on) { lockOn = on } } }))
                    Button("Leave and delete my copy and keys", role: .destructive) { leaving = true }
                }
            } else if store.loading {
                ProgressView()
            }
        }
        .navigationTitle("Devices and settings")
        .onAppear { store.start() }
        .onDisappear { store.stop() }
        .confirmationDialog(
            "End the pairing? Your partner's devices stop syncing with yours; you both keep your copies and the history shows who ended it. It cannot be undone: a new relationship is a new space.",
            isPresented: $ending, titleVisibility: .visible
        ) {
            Button("Yes, end it", role: .destructive) { Task { await store.endPairing() } }
            Button("Cancel", role: .cancel) {}
        }
        .confirmationDialog(
            "Delete this phone's copy of your agreements and its keys? Your partner keeps theirs. End the pairing first if you are leaving the relationship.",
            isPresented: $leaving, titleVisibility: .visible
        ) {
            Button("Delete my copy and keys", role: .destructive) { Task { await model.leaveAndDelete() } }
            Button("Cancel", role: .cancel) {}
        }
    }
}
