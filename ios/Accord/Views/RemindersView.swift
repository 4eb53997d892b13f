import SwiftUI
import AccordKit

/// The reminders coming up: done for both, snooze for an hour (mine).
struct RemindersView: View {
    @State private var store: RemindersStore

    init(service: RustService) {
        _store = State(initialValue: RemindersStore(service: service))
    }

    var body: some View {
        List {
            if let error = store.error { ErrorText(error) }
            if !store.loading && store.upcoming.isEmpty {
                Text("No reminders coming up. Add one to an agreement you both accepted, in your own rhythm.")
            }
            ForEach(store.upcoming, id: \.id) { reminder in
                VStack(alignment: .leading, spacing: 6) {
                    Text(reminder.firesAtUtc.formatted(.dateTime.weekday().day().month().hour().minute())).font(.footnote)
                    Text(reminder.title)
                    if !reminder.body.isEmpty { Text(reminder.body).font(.footnote) }
                    HStack {
                        Button("Done") { Task { await store.done(reminder.id) } }
                        Button("Snooze") { Task { await store.snooze(reminder.id) } }
                    }
                    .buttonStyle(.bordered)
                }
            }
        }
        .navigationTitle("Reminders")
        .onAppear { store.start() }
        .onDisappear { store.stop() }
    }
}
