import SwiftUI
import AccordKit

/// The check-in: appreciation, open concerns, reviews, misses, waiting words, what is coming
/// up; recording it; the couple's check-in rhythm.
struct CheckinView: View {
    @State private var store: CheckinStore
    @State private var notes = ""

    init(service: RustService) {
        _store = State(initialValue: CheckinStore(service: service))
    }

    var body: some View {
        List {
            if let error = store.error { ErrorText(error) }
            if let agenda = store.agenda {
                if let last = agenda.lastCheckin { Text("Last check-in: \(last.heldOn)").font(.footnote) }
                part("1. Appreciation", [agenda.appreciationPrompt])
                part("2. Open concerns", agenda.openConcerns.map {
                    "\(store.names[$0.raisedBy] ?? $0.raisedBy): \($0.whatHappened) (\(Words.concern($0.state)))"
                })
                part("3. Due for review", agenda.dueForReview.map(\.title))
                part("4. Missed since the last check-in", agenda.missedSinceLastCheckin.map {
                    let title = store.titles[$0.agreement] ?? $0.agreement
                    return $0.text.isEmpty ? title : "\(title): \($0.text)"
                })
                part("5. Waiting for a partner", agenda.waitingForPartner.map { w in
                    "\(w.agreement.title) (waiting for \(w.waitingFor.map { store.names[$0] ?? $0 }.joined(separator: " and ")))"
                })
                part("6. Coming up", agenda.upcoming.map {
                    "\($0.title): \($0.at.formatted(.dateTime.weekday().day().month().hour().minute()))"
                })
                Section {
                    TextField("Notes you both keep (optional)", text: $notes, axis: .vertical)
                    Button("Record this check-in") { Task { await store.record(notes: notes); notes = "" } }
                }
                Section("Our check-in rhythm") {
                    Text(store.ritual.map(Rhythm.describe) ?? "No rhythm yet. Pick a day and time you can both keep; Accord reminds you both.")
                    RhythmPicker(action: store.ritual == nil ? "Keep this rhythm" : "Change the rhythm") { rhythm in
                        Task {
                            _ = await NotificationActions.requestPermission()
                            await store.setRitual(rhythm)
                        }
                    }
                    if store.ritual != nil {
                        Button("Stop the rhythm", role: .destructive) { Task { await store.stopRitual() } }
                    }
                }
            } else if store.loading {
                ProgressView()
            }
        }
        .navigationTitle("Check-in")
        .onAppear { store.start() }
        .onDisappear { store.stop() }
    }

    private func part(_ title: String, _ lines: [String]) -> some View {
        Section(title) {
            if lines.isEmpty { Text("Nothing").foregroundStyle(.secondary) }
            ForEach(Array(lines.enumerated()), id: \.offset) { _, line in Text(line) }
        }
    }
}
