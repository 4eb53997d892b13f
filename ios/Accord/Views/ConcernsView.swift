import SwiftUI
import AccordKit

/// Concerns and repair: raise one (what happened, how I felt, what I need), hear, answer,
/// resolve, or turn it into renegotiating its agreement.
struct ConcernsView: View {
    @State private var store: ConcernsStore
    @State private var what = ""
    @State private var felt = ""
    @State private var need = ""
    @State private var answers: [ConcernId: String] = [:]

    init(service: RustService, about: AgreementId?) {
        _store = State(initialValue: ConcernsStore(service: service, about: about))
    }

    var body: some View {
        List {
            Section {
                if let about = store.about {
                    HStack {
                        Text("About: \(store.titles[about] ?? about)")
                        Spacer()
                        Button("About nothing in particular") { store.about = nil }.font(.footnote)
                    }
                }
                TextField("What happened", text: $what, axis: .vertical)
                TextField("How I felt", text: $felt, axis: .vertical)
                TextField("What I need in repair", text: $need, axis: .vertical)
                Button("Raise the concern") {
                    Task {
                        await store.raise(whatHappened: what, howIFelt: felt, whatINeed: need)
                        if store.error == nil { what = ""; felt = ""; need = "" }
                    }
                }
                if let error = store.error { ErrorText(error) }
            }
            if !store.loading && store.items.isEmpty {
                Text("No concerns. When something hurts, say it early: what happened, how you felt, what you need.")
            }
            ForEach(store.items, id: \.concern.id) { item in
                card(item)
            }
        }
        .navigationTitle("Concerns")
        .onAppear { store.start() }
        .onDisappear { store.stop() }
    }

    private func card(_ item: ConcernItem) -> some View {
        let c = item.concern
        let by = store.names[c.raisedBy] ?? c.raisedBy
        return Section {
            Text("\(by) · \(Words.concern(c.state))").font(.headline)
            if let about = c.agreement { Text("About: \(store.titles[about] ?? about)").font(.footnote) }
            Text(c.whatHappened)
            if !c.howIFelt.isEmpty { Text("Felt: \(c.howIFelt)") }
            if !c.whatINeed.isEmpty { Text("Needs: \(c.whatINeed)") }
            ForEach(c.events.filter { !$0.text.isEmpty }, id: \.id) { e in
                Text("\(store.names[e.partner] ?? e.partner): \(e.text)")
            }
            if item.canRespond {
                TextField("Your answer", text: Binding(get: { answers[c.id] ?? "" }, set: { answers[c.id] = $0 }), axis: .vertical)
            }
            if item.canAcknowledge { Button("I hear you") { Task { await store.acknowledge(c.id) } } }
            if item.canRespond { Button("Answer") { Task { await store.respond(c.id, text: answers[c.id] ?? ""); answers[c.id] = nil } } }
            if item.canResolve { Button("Resolved for me") { Task { await store.resolve(c.id) } } }
            if item.canRenegotiate {
                Button("Renegotiate the agreement (your answer says why)") {
                    Task { await store.renegotiate(c.id, reason: answers[c.id] ?? ""); answers[c.id] = nil }
                }
            }
        }
        .accessibilityElement(children: .contain)
        .accessibilityLabel("Concern by \(by): \(c.whatHappened)")
    }
}
