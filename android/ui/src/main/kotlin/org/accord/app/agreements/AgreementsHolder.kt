package org.accord.app.agreements

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.core.AgreementSummary
import org.accord.core.Category
import org.accord.core.Concerns
import org.accord.core.Kind
import org.accord.core.NewAgreement
import org.accord.core.StandardCategory
import org.accord.core.Strength
import java.time.Instant

/** The agreements screen: what waits for me first, then every agreement by category. */
data class AgreementsState(
    val loading: Boolean = true,
    /** Agreements whose current words wait for this partner's acceptance. */
    val waitingForMe: List<AgreementSummary> = emptyList(),
    /** Every agreement, grouped by category (categories in the order they first appear). */
    val sections: List<Section> = emptyList(),
    /** Whether the other partner joined (until then the screen offers to invite them). */
    val partnerJoined: Boolean = true,
    /** The core's message for the last call that failed, until the next one succeeds. */
    val error: String? = null,
) {
    /** No agreement at all (the screen says what to do next). */
    val empty: Boolean get() = !loading && sections.isEmpty()
}

/** Agreements of one category. */
data class Section(val title: String, val agreements: List<AgreementSummary>)

/**
 * State holder of the agreements screen: plain Kotlin over [AccordCore], refreshed on every
 * change of the space while [scope] lives.
 */
class AgreementsHolder(
    private val core: AccordCore,
    private val scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
) {
    private val mutable = MutableStateFlow(AgreementsState())

    /** What the screen shows. */
    val state: StateFlow<AgreementsState> = mutable.asStateFlow()

    init {
        scope.launch {
            refresh()
            core.changes().collect { refresh() }
        }
    }

    /** Reads the agreements again. */
    suspend fun refresh() {
        try {
            val partners = core.info().partners.size
            val all = core.agreements()
            val waiting = core.waitingForMe(clock())
            val sections = all.groupBy { Words.category(it.category) }
                .map { (title, agreements) -> Section(title, agreements) }
            mutable.value = AgreementsState(
                loading = false,
                waitingForMe = waiting,
                sections = sections,
                partnerJoined = partners >= 2,
            )
        } catch (e: Exception) {
            mutable.update { it.copy(loading = false, error = e.message ?: e.toString()) }
        }
    }

    /** Writes a new agreement with [title] (you accept its words; your partner is asked to). */
    fun create(title: String, category: Category = Category.Standard(StandardCategory.COMMUNICATION)) {
        if (title.isBlank()) {
            mutable.update { it.copy(error = Words.EMPTY_TITLE) }
            return
        }
        scope.launch {
            try {
                core.createAgreement(
                    NewAgreement(
                        title = title.trim(),
                        category = category,
                        kind = Kind.AGREEMENT,
                        strength = Strength.TRY_MY_BEST,
                        concerns = Concerns.Both,
                    ),
                )
                mutable.update { it.copy(error = null) }
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }
}
