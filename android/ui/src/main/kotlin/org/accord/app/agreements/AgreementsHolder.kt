package org.accord.app.agreements

import kotlinx.coroutines.CoroutineScope
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.app.core.ScreenHolder
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

/** State holder of the agreements screen. */
class AgreementsHolder(
    core: AccordCore,
    scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
) : ScreenHolder<AgreementsState>(core, scope, AgreementsState()) {
    init {
        start()
    }

    override fun failed(state: AgreementsState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load {
        val info = core.info()
        val all = core.agreements()
        val waiting = core.agenda(clock()).waitingForPartner
        AgreementsState(
            loading = false,
            waitingForMe = waiting.filter { info.me in it.waitingFor }.map { it.agreement },
            // One label per category, not per agreement: each label is a call into the core.
            sections = all.groupBy { it.category }.map { (category, agreements) -> Section(Words.category(category), agreements) },
            partnerJoined = info.partners.size >= 2,
        )
    }

    /** Writes a new agreement with [title] (you accept its words; your partner is asked to). */
    fun create(title: String, category: Category = Category.Standard(StandardCategory.COMMUNICATION)) {
        if (title.isBlank()) return refuse(Words.EMPTY_TITLE)
        act {
            core.createAgreement(
                NewAgreement(
                    title = title.trim(),
                    category = category,
                    kind = Kind.AGREEMENT,
                    strength = Strength.TRY_MY_BEST,
                    concerns = Concerns.Both,
                ),
            )
        }
    }
}
