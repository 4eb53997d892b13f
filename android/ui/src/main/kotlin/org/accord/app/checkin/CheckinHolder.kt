package org.accord.app.checkin

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.core.Agenda
import org.accord.core.AgreementId
import org.accord.core.PartnerId
import java.time.Instant
import java.time.LocalDate

/** The check-in screen: the agenda in the domain's order, and recording the check-in. */
data class CheckinState(
    val loading: Boolean = true,
    val agenda: Agenda? = null,
    /** Agreement titles by id (the agenda's log entries name agreements by id). */
    val titles: Map<AgreementId, String> = emptyMap(),
    val names: Map<PartnerId, String> = emptyMap(),
    val error: String? = null,
)

/** State holder of the check-in agenda, refreshed on every change of the space. */
class CheckinHolder(
    private val core: AccordCore,
    private val scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
    private val today: () -> LocalDate = LocalDate::now,
) {
    private val mutable = MutableStateFlow(CheckinState())

    /** What the screen shows. */
    val state: StateFlow<CheckinState> = mutable.asStateFlow()

    init {
        scope.launch {
            refresh()
            core.changes().collect { refresh() }
        }
    }

    /** Reads the agenda again. */
    suspend fun refresh() {
        try {
            val info = core.info()
            mutable.value = CheckinState(
                loading = false,
                agenda = core.agenda(clock()),
                titles = core.agreements().associate { it.id to it.title },
                names = info.partners.associate { it.id to it.name },
            )
        } catch (e: Exception) {
            mutable.update { it.copy(loading = false, error = e.message ?: e.toString()) }
        }
    }

    /** Records the check-in held today, with shared [notes]; the agenda starts afresh. */
    fun record(notes: String) {
        scope.launch {
            try {
                core.recordCheckin(today().toString(), notes.trim())
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }
}
