package org.accord.app

import org.accord.core.Category
import org.accord.core.ConcernState
import org.accord.core.Field
import org.accord.core.Kind
import org.accord.core.Status
import org.accord.core.Strength

/** The app's wording for the core's values (the iOS app uses the same, see android/ui/APP-CONTRACT.md). */
object Words {
    /** How a status reads in a list and on the detail screen. */
    fun status(status: Status): String = when (status) {
        Status.DRAFT -> "Draft"
        Status.PROPOSED -> "Proposed: not yet accepted by both of you"
        Status.ACTIVE -> "Active: you both agreed"
        Status.NEEDS_RENEGOTIATION -> "To renegotiate"
        Status.CONFLICTED -> "Two versions: choose one"
        Status.RETIRED -> "Retired"
    }

    /** A commitment strength in the partners' own words. */
    fun strength(strength: Strength): String = when (strength) {
        Strength.PROMISE -> "I promise"
        Strength.TRY_MY_BEST -> "I'll try my best"
        Strength.EXPERIMENT -> "Experiment"
    }

    /** A category's name as a heading ("Time together"). */
    fun category(category: Category): String =
        org.accord.core.categoryLabel(category).replaceFirstChar { it.uppercaseChar() }

    /** What kind of agreement it is. */
    fun kind(kind: Kind): String = when (kind) {
        Kind.AGREEMENT -> "Agreement"
        Kind.BOUNDARY -> "Boundary"
        Kind.EXPECTATION -> "Expectation"
        Kind.INTENTION -> "Intention"
    }

    /** Where a concern stands. */
    fun concern(state: ConcernState): String = when (state) {
        ConcernState.OPEN -> "Raised: waiting to be heard"
        ConcernState.ACKNOWLEDGED -> "Heard"
        ConcernState.RESPONDED -> "Answered"
        ConcernState.RESOLVED -> "Resolved"
        ConcernState.RENEGOTIATION -> "Renegotiating the agreement"
    }

    /** A field of an agreement, as in "two versions of the words". */
    fun field(field: Field): String = when (field) {
        Field.TITLE -> "the words"
        Field.DETAILS -> "the details"
        Field.KIND -> "the kind"
        Field.STRENGTH -> "the strength"
        Field.CONCERNS -> "who it concerns"
        Field.CATEGORY -> "the category"
        Field.REVIEW_EVERY -> "the review rhythm"
        Field.NEXT_REVIEW -> "the next review date"
    }

    /** A follow-through entry's kind. */
    fun log(kind: org.accord.core.LogKind): String = when (kind) {
        org.accord.core.LogKind.KEPT -> "Kept"
        org.accord.core.LogKind.MISSED -> "Missed"
        org.accord.core.LogKind.NOTE -> "Note"
    }

    /** A network mode as a choice in settings: a name and what it means for the couple. */
    fun network(mode: org.accord.ffi.NetworkMode): Pair<String, String> = when (mode) {
        org.accord.ffi.NetworkMode.PRODUCTION ->
            "Anywhere" to "Directly when you can, through an encrypted relay when not."
        org.accord.ffi.NetworkMode.LOCAL ->
            "Only at home" to "Only on the same Wi-Fi or network; nothing goes over the internet."
        org.accord.ffi.NetworkMode.RELAY_ONLY ->
            "Hide my address" to "Always through the relay, so your partner's device never learns this device's address. Slower."
        org.accord.ffi.NetworkMode.LOOPBACK ->
            "This computer only" to "Only other copies on this computer (for trying Accord out)."
    }

    /** What a sync did: who has everything now, who could not be reached (nothing is lost). */
    fun syncOutcome(report: org.accord.core.SyncReport, names: Map<String, String>): String {
        val reached = report.converged.map { names[it] ?: "a device" }
        val missed = report.unreachable.map { names[it.device] ?: "a device" }
        fun have(who: List<String>) = who.joinToString(" and ") + if (who.size == 1) " has everything" else " have everything"
        return when {
            reached.isEmpty() && missed.isEmpty() -> "There is no other device to sync with yet."
            missed.isEmpty() -> "Synced: ${have(reached)}."
            else -> "Could not reach ${missed.joinToString(" and ")} now. Your changes are kept on this device " +
                "and go as soon as ${if (missed.size == 1) "it" else "they"} can be reached." +
                if (reached.isEmpty()) "" else " ${have(reached)}."
        }
    }

    const val SYNC_NOW = "Sync now"
    const val NETWORK = "Network"
    const val LEAVE = "Leave and delete my copy and keys"
    const val LEAVE_CONFIRM = "Delete this device's copy of your agreements and its keys? Your partner keeps theirs. " +
        "End the pairing first if you are leaving the relationship. It cannot be undone."
    const val LEAVE_FOR_SURE = "Delete my copy and keys"
    const val EXPORT = "Export our agreements (Markdown)"
    const val EXPORT_NOTE = "A readable document of every agreement and who accepted which words, to print or bring to a counselling session."
    const val WAITING_FOR_YOU = "Waiting for you"
    const val RETIRE = "Retire"
    const val RENEGOTIATE = "Ask to revisit"
    const val REASON = "Why (optional)"
    const val END_PAIRING = "End the pairing"
    const val END_PAIRING_CONFIRM =
        "End the pairing? Your partner's devices stop syncing with yours; you both keep your copies and the history shows who ended it. It cannot be undone: a new relationship is a new space."
    const val END_FOR_SURE = "Yes, end it"
    const val CANCEL = "Cancel"
    const val REMINDERS = "Reminders"
    const val NO_REMINDERS = "No reminders coming up. Add one to an agreement you both accepted, in your own rhythm."
    const val DONE = "Done"
    const val SNOOZE = "Snooze"
    const val REMIND_US = "Remind us"
    const val RITUAL = "Our check-in rhythm"
    const val NO_RITUAL = "No rhythm yet. Pick a day and time you can both keep; Accord reminds you both."
    const val KEEP_RHYTHM = "Keep this rhythm"
    const val CHANGE_RHYTHM = "Change the rhythm"
    const val STOP_RHYTHM = "Stop the rhythm"
    const val FOLLOW_THROUGH = "Follow-through"
    const val POSITIONS = "Where each of us stands"
    const val POSITIONS_NOTE = "Write what you expect before you agree on words. Each position stays sealed until you are both ready; then both are shown together."
    const val MARK_READY = "Ready (final)"
    const val SEALED = "sealed until you are both ready"
    const val EMPTY_POSITION = "Write your position first."
    const val HISTORY = "History"
    const val CHANGED_SINCE = "What changed since you accepted"
    const val NO_LOG = "Nothing logged yet. Log when it was kept or missed, in a few words if you like."
    const val DEVICES = "Devices and settings"
    const val HAS_ALL = "has all your changes"
    const val WAITING_SYNC = "waiting for your changes"
    const val THIS_DEVICE = "this device"
    const val UNPAIR = "Unpair"
    const val NEW_RECOVERY = "New recovery secret"
    const val RECOVERY_SETUP_NOTE = "Write this down or keep it somewhere safe, never in the app. It is shown only now. " +
        "If you lose every device, it and an invitation from your partner bring you back as yourself."
    const val RECOVERY_NOTE =
        "Write this down or keep it somewhere safe, never in the app. It is shown only now. With it, you come back as yourself if you lose every device; the old one no longer works."
    const val KEEP_THIS = "Keep this version"
    const val MERGE = "Write both into one version"
    const val MERGE_NOTE = "Take what matters from both versions. You both accept the new words again."
    const val MERGED_WORDS = "One version"
    const val USE_MERGED = "Use these words"
    const val TWO_VERSIONS = "Two versions of these words"
    const val CHANGE_WORDS = "Change the words"
    const val SAVE_WORDS = "Save the new words"
    const val CHANGE_NOTE = "New words need both of you to accept them again."
    const val CONCERNS = "Concerns"
    const val CHECK_IN = "Check-in"
    const val NO_CONCERNS = "No concerns. When something hurts, say it early: what happened, how you felt, what you need."
    const val RAISE = "Raise the concern"
    const val ACKNOWLEDGE = "I hear you"
    const val RESPOND = "Answer"
    const val RESOLVE = "Resolved for me"
    const val RENEGOTIATE_FROM_CONCERN = "Renegotiate the agreement (your answer says why)"
    const val ABOUT_NOTHING = "About nothing in particular"
    const val RAISE_ABOUT_THIS = "Raise a concern about this"
    const val RECORD_CHECKIN = "Record this check-in"
    const val EMPTY_CONCERN = "Say what happened first."
    const val OUR_AGREEMENTS = "Our agreements"
    const val PAIRED = "Your agreements now stay in sync between your devices, end to end encrypted."
    const val NO_AGREEMENTS =
        "No agreements yet. Write the first one together: something you already do, in your own words."
    const val NEW_AGREEMENT_HINT = "New agreement, in your own words"
    const val ADD = "Add"
    const val INVITE_PARTNER = "Invite your partner"
    const val ACCEPT = "Accept these words"
    const val ACCEPTED_BY_YOU = "You accepted these words"
    const val BACK = "Back"
    const val LOADING = "Loading…"
    const val EMPTY_TITLE = "Write the agreement's words first."
}
