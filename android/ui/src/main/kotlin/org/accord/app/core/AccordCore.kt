package org.accord.app.core

import kotlinx.coroutines.flow.Flow
import org.accord.core.AgreementDetails
import org.accord.core.AgreementId
import org.accord.core.AgreementSummary
import org.accord.core.NewAgreement
import org.accord.core.SpaceInfo
import java.time.Instant

/**
 * What the screens need of the core: the bindings' own types, behind an interface so state
 * holders are tested against the real library ([RustCore]) and against a fake. Every call may
 * throw the core's error (`AccordException`), whose message is meant for the screen.
 */
interface AccordCore {
    /** The space, its partners and devices, and who this device's partner is. */
    suspend fun info(): SpaceInfo

    /** Every agreement, in the core's order. */
    suspend fun agreements(): List<AgreementSummary>

    /** Agreements whose current words wait for this partner's acceptance at [now]. */
    suspend fun waitingForMe(now: Instant): List<AgreementSummary>

    /** Everything about one agreement. */
    suspend fun agreement(id: AgreementId): AgreementDetails

    /** Writes a new agreement (this partner accepts its words unless it is a draft). */
    suspend fun createAgreement(input: NewAgreement): AgreementId

    /** Accepts the agreement's current exact words. */
    suspend fun accept(id: AgreementId)

    /** A one-time ticket (text, also shown as a QR code) inviting the other partner's first device. */
    suspend fun invitePartner(): String

    /** Emits whenever the space changed (a local write or a partner's change arrived). */
    fun changes(): Flow<Unit>
}
