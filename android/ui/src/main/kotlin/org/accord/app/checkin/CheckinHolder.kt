package org.accord.app.checkin

import kotlinx.coroutines.CoroutineScope
import org.accord.app.core.AccordCore
import org.accord.app.core.myZone
import org.accord.app.core.names
import org.accord.app.core.ScreenHolder
import org.accord.core.Agenda
import org.accord.core.AgreementId
import org.accord.core.PartnerId
import org.accord.core.RecurrenceRule
import org.accord.app.rhythm.Rhythm
import java.time.Instant
import java.time.LocalDate

/** The check-in screen: the agenda in the domain's order, and recording the check-in. */
data class CheckinState(
    val loading: Boolean = true,
    val agenda: Agenda? = null,
    /** Agreement titles by id (the agenda's log entries name agreements by id). */
    val titles: Map<AgreementId, String> = emptyMap(),
    val names: Map<PartnerId, String> = emptyMap(),
    /** The couple's check-in rhythm, if set. */
    val ritual: RecurrenceRule? = null,
    /** This partner's time zone (a new rhythm is in it). */
    val myZone: String = "UTC",
    val error: String? = null,
)

/** State holder of the check-in agenda. */
class CheckinHolder(
    core: AccordCore,
    scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
    private val today: () -> LocalDate = LocalDate::now,
) : ScreenHolder<CheckinState>(core, scope, CheckinState()) {
    init {
        start()
    }

    override fun failed(state: CheckinState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load {
        val info = core.info()
        CheckinState(
            loading = false,
            agenda = core.agenda(clock()),
            titles = core.agreements().associate { it.id to it.title },
            names = info.names,
            ritual = core.checkinRitual(),
            myZone = info.myZone,
        )
    }

    /** Sets our check-in rhythm (in my time zone, from today); both are reminded. */
    fun setRitual(rhythm: Rhythm) {
        val rule = try {
            rhythm.toRule(state.value.myZone, today())
        } catch (refused: Rhythm.Refused) {
            return refuse(refused.message!!)
        }
        act { core.setCheckinRitual(rule) }
    }

    /** Stops the check-in rhythm. */
    fun stopRitual() = act { core.setCheckinRitual(null) }

    /** Records the check-in held today, with shared [notes]; the agenda starts afresh. */
    fun record(notes: String) = act { core.recordCheckin(today().toString(), notes.trim()) }
}
