import SwiftUI
import AccordKit

/// One agreement: its words and who accepted them, accepting, changing the words, a conflict's
/// versions to keep or write into one, what changed since I accepted, follow-through, sealed
/// positions, reminders, retiring or revisiting, raising a concern about it, the history.
struct AgreementDetailView: View {
    let service: RustService
    @State private var store: AgreementDetailStore
    @State private var editing = false
    @State private var newTitle = ""
    @State private var newDetails = ""
    @State private var merged: [Field: String] = [:]
    @State private var note = ""
    @State private var position = ""
    @State private var reason = ""

    init(service: RustService, id: AgreementId) {
        self.service = service
        _store = State(initialValue: AgreementDetailStore(service: service, id: id))
    }

    var body: some View {
        List {
            if let error = store.error { ErrorText(error) }
            if let details = store.details {
                words(details)
                conflicts(details)
                changedSinceAccepted(details)
                followThrough
                positions
                Section("Reminders") {
                    ForEach(store.rules, id: \.id) { rule in
                        HStack {
                            Text(Rhythm.describe(rule.rule))
                            Spacer()
                            Button("Remove") { Task { await store.removeRule(rule.id) } }
                        }
                    }
                    RhythmPicker(action: "Remind us") { rhythm in
                        Task {
                            _ = await NotificationActions.requestPermission()
                            await store.remind(rhythm)
                        }
                    }
                }
                if details.retirement == nil {
                    Section {
                        TextField("Why (optional)", text: $reason)
                        Button("Ask to revisit") { Task { await store.renegotiate(reason: reason); reason = "" } }
                        Button("Retire", role: .destructive) { Task { await store.retire(reason: reason); reason = "" } }
                        NavigationLink("Raise a concern about this") { ConcernsView(service: service, about: store.id) }
                    }
                }
                history
            } else if store.loading {
                ProgressView()
            }
        }
        .navigationTitle(store.details?.summary.title ?? "")
        .navigationBarTitleDisplayMode(.inline)
        .onAppear { store.start() }
        .onDisappear { store.stop() }
    }

    private func words(_ details: AgreementDetails) -> some View {
        Section {
            Text(details.conflicts.contains { $0.field == .title } ? "Two versions of these words" : details.summary.title)
                .font(.title3)
                .accessibilityAddTraits(.isHeader)
            if !details.details.isEmpty { Text(details.details) }
            Text("\(Words.category(details.summary.category)) · \(Words.strength(details.summary.strength))")
                .font(.footnote)
            Text(Words.status(details.summary.status))
            let accepted = details.summary.acceptedBy.map { store.names[$0] ?? $0 }
            if !accepted.isEmpty { Text("Accepted by " + accepted.joined(separator: " and ")) }
            if store.acceptedByMe {
                Text("You accepted these words")
            } else if store.canAccept {
                Button("Accept these words") { Task { await store.accept() } }.buttonStyle(.borderedProminent)
            }
            if details.conflicts.isEmpty && details.retirement == nil {
                if editing {
                    Text("New words need both of you to accept them again.").font(.footnote)
                    TextField("Words", text: $newTitle, axis: .vertical)
                    TextField("Details (optional)", text: $newDetails, axis: .vertical)
                    Button("Save the new words") { Task { await store.edit(title: newTitle, details: newDetails); editing = false } }
                } else {
                    Button("Change the words") {
                        newTitle = details.summary.title
                        newDetails = details.details
                        editing = true
                    }
                }
            }
            if let retirement = details.retirement {
                Text("Retired by \(store.names[retirement.partner] ?? retirement.partner)" + (retirement.reason.isEmpty ? "" : ": \(retirement.reason)"))
            }
        }
    }

    @ViewBuilder
    private func conflicts(_ details: AgreementDetails) -> some View {
        ForEach(details.conflicts, id: \.field) { conflict in
            Section("Two versions: choose one or write them into one") {
                ForEach(Array(conflict.candidates.enumerated()), id: \.offset) { _, candidate in
                    VStack(alignment: .leading, spacing: 6) {
                        Text(candidate.value)
                        if let author = candidate.author { Text("by \(store.names[author] ?? author)").font(.footnote) }
                        Button("Keep this version") { Task { await store.choose(conflict.field, value: candidate.value) } }
                    }
                }
                if conflict.field == .title || conflict.field == .details {
                    TextField("One version", text: Binding(
                        get: { merged[conflict.field] ?? conflict.candidates.first?.value ?? "" },
                        set: { merged[conflict.field] = $0 }), axis: .vertical)
                    Text("Take what matters from both versions. You both accept the new words again.").font(.footnote)
                    Button("Use these words") {
                        Task { await store.choose(conflict.field, value: merged[conflict.field] ?? conflict.candidates.first?.value ?? "") }
                    }
                }
            }
        }
    }

    @ViewBuilder
    private func changedSinceAccepted(_ details: AgreementDetails) -> some View {
        if let mine = details.changesSinceAcceptance.first(where: { $0.partner == store.me }), !mine.changes.isEmpty {
            Section("What changed since you accepted") {
                ForEach(Array(mine.changes.enumerated()), id: \.offset) { _, change in
                    Text(Self.diff(change))
                        .accessibilityLabel("You accepted: \(change.accepted). Now: \(change.now).")
                }
            }
        }
    }

    /// The core's word runs: removed struck through, added in bold.
    static func diff(_ change: FieldChange) -> AttributedString {
        let runs = change.words.isEmpty
            ? [WordRun(text: change.accepted, change: .removed), WordRun(text: change.now, change: .added)]
            : change.words
        var text = AttributedString()
        for (i, run) in runs.enumerated() {
            if i > 0 { text += AttributedString(" ") }
            var part = AttributedString(run.text)
            switch run.change {
            case .kept: break
            case .removed:
                part.strikethroughStyle = .single
                part.foregroundColor = .red
            case .added:
                part.inlinePresentationIntent = .stronglyEmphasized
                part.foregroundColor = .green
            }
            text += part
        }
        return text
    }

    private var followThrough: some View {
        Section("Follow-through") {
            if store.followThrough.isEmpty {
                Text("Nothing logged yet. Log when it was kept or missed, in a few words if you like.")
            }
            ForEach(store.followThrough, id: \.id) { entry in
                Text("\(store.names[entry.author] ?? entry.author) · \(label(entry.kind))" + (entry.text.isEmpty ? "" : ": \(entry.text)"))
            }
            TextField("A few words (optional)", text: $note)
            HStack {
                Button("Kept") { Task { await store.log(.kept, text: note); note = "" } }
                Button("Missed") { Task { await store.log(.missed, text: note); note = "" } }
                Button("Note") { Task { await store.log(.note, text: note); note = "" } }
            }
            .buttonStyle(.bordered)
        }
    }

    private func label(_ kind: LogKind) -> String {
        switch kind {
        case .kept: return "Kept"
        case .missed: return "Missed"
        case .note: return "Note"
        }
    }

    private var positions: some View {
        Section("Where each of us stands") {
            Text("Write what you expect before you agree on words. Each position stays sealed until you are both ready; then both are shown together.")
                .font(.footnote)
            ForEach(store.positions, id: \.partner) { p in
                Text("\(store.names[p.partner] ?? p.partner): " + (p.text ?? "sealed"))
            }
            TextField("My position", text: $position, axis: .vertical)
            Button("Save my position") { Task { await store.writePosition(position); position = "" } }
            Button("I'm ready: reveal when both are") { Task { await store.markPositionReady() } }
        }
    }

    @ViewBuilder
    private var history: some View {
        if !store.history.isEmpty {
            Section("History") {
                ForEach(Array(store.history.enumerated()), id: \.offset) { _, entry in
                    Text("\(entry.partner.flatMap { store.names[$0] } ?? "Someone"), \(entry.at.formatted(date: .abbreviated, time: .shortened)): \(entry.action)")
                        .font(.footnote)
                }
            }
        }
    }
}

/// Choosing a rhythm: every day, week or month, on which day, at what time.
struct RhythmPicker: View {
    let action: String
    let onSet: (Rhythm) -> Void
    @State private var every = Every.week
    @State private var on = ""
    @State private var time = "19:00"

    var body: some View {
        Picker("How often", selection: $every) {
            Text("Daily").tag(Every.day)
            Text("Weekly").tag(Every.week)
            Text("Monthly").tag(Every.month)
        }
        .pickerStyle(.segmented)
        if every != .day {
            TextField(every == .week ? "Weekday" : "Day (15, first Saturday)", text: $on)
        }
        TextField("Time", text: $time).keyboardType(.numbersAndPunctuation)
        Button(action) { onSet(Rhythm(every, on: on, time: time)) }
    }
}
