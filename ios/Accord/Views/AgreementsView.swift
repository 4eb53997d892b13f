import SwiftUI
import AccordKit

/// The agreements: what waits for me first, then by category; writing a new one; the ways to
/// the other screens.
struct AgreementsView: View {
    let service: RustService
    let model: AppModel
    @State private var store: AgreementsStore
    @State private var newTitle = ""

    init(service: RustService, model: AppModel) {
        self.service = service
        self.model = model
        _store = State(initialValue: AgreementsStore(service: service))
    }

    var body: some View {
        List {
            Section {
                TextField("New agreement, in your own words", text: $newTitle, axis: .vertical)
                Button("Add") {
                    Task {
                        await store.create(title: newTitle)
                        if store.error == nil { newTitle = "" }
                    }
                }
                if let error = store.error { ErrorText(error) }
            }
            if !store.loading && !store.partnerJoined {
                NavigationLink("Invite your partner") { PairingView(service: service, role: .partner) }
            }
            if store.empty {
                Text("No agreements yet. Write the first one together: something you already do, in your own words.")
            }
            if !store.waitingForMe.isEmpty {
                Section(Words.waitingForYou) {
                    ForEach(store.waitingForMe, id: \.id) { row($0) }
                }
            }
            ForEach(store.sections, id: \.title) { section in
                Section(section.title) {
                    ForEach(section.agreements, id: \.id) { row($0) }
                }
            }
        }
        .navigationTitle("Our agreements")
        .toolbar {
            ToolbarItemGroup(placement: .bottomBar) {
                NavigationLink("Concerns") { ConcernsView(service: service, about: nil) }
                NavigationLink("Check-in") { CheckinView(service: service) }
                NavigationLink("Reminders") { RemindersView(service: service) }
                NavigationLink("Devices") { DevicesView(service: service, model: model) }
            }
        }
        .onAppear { store.start() }
        .onDisappear { store.stop() }
    }

    private func row(_ agreement: AgreementSummary) -> some View {
        NavigationLink {
            AgreementDetailView(service: service, id: agreement.id)
        } label: {
            VStack(alignment: .leading, spacing: 4) {
                Text(agreement.title)
                Text("\(Words.status(agreement.status)) · \(Words.strength(agreement.strength))")
                    .font(.footnote)
                    .foregroundStyle(.secondary)
            }
            .accessibilityElement(children: .combine)
        }
    }
}
