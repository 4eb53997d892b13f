package org.accord.app.core

import org.accord.ffi.NetworkMode

/** Makes this device's space: a new one, or the partner's joined with a ticket. */
interface SpaceFactory {
    /** Creates a space on this device; you become its first partner. */
    suspend fun create(name: String, timeZone: String): AccordCore

    /** Joins the space a ticket from the partner's device invites to. */
    suspend fun join(ticket: String, name: String, timeZone: String): AccordCore

    /** Comes back as the partner whose recovery secret this is, with a returning-partner ticket. */
    suspend fun comeBack(ticket: String, recoverySecret: String): AccordCore

    /**
     * The code this new device shows while it joins with a my-device [ticket] (its key is made
     * now); the inviting device confirms it shows the same.
     */
    suspend fun confirmationCode(ticket: String): String

    /**
     * The last step of leaving: closes [current] and deletes this device's copy and keys (the
     * partner keeps theirs). The device can then start again or join a space.
     */
    suspend fun deleteThisCopy(current: AccordCore)

    /** Closes [current] and opens the same space again, reaching other devices by [network]. */
    suspend fun reopen(current: AccordCore, network: NetworkMode): AccordCore
}
