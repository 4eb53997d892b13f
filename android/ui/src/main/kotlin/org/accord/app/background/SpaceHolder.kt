package org.accord.app.background

import kotlinx.coroutines.delay
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import org.accord.core.AccordException

/**
 * The one holder of the space in this process. The space's lock admits one holder: the node
 * while the app is in the foreground or syncing, or, when no node runs, a local space opened
 * for one piece of background work (a notification action, boot, a WorkManager job) and closed
 * after it. Never opened from `Application.onCreate`: only when something needs it.
 */
class SpaceHolder<N : Any, L : Any>(
    private val openNode: suspend () -> N,
    private val closeNode: suspend (N) -> Unit,
    private val openLocal: () -> L,
    private val closeLocal: (L) -> Unit,
    /** How long to wait between tries while another holder is closing. */
    private val retryMillis: Long = 200,
    private val tries: Int = 5,
) {
    private val mutex = Mutex()
    private var node: N? = null

    /** The node for the foreground, opened if it is not running (waiting while a background holder closes). */
    suspend fun foreground(): N = mutex.withLock {
        node ?: retryingInUse { openNode() }.also { node = it }
    }

    /** Closes the node (the app went to the background; it flushes first). */
    suspend fun background() = mutex.withLock {
        node?.let { closeNode(it) }
        node = null
    }

    /** Whether the node runs in this process. */
    val nodeRunning: Boolean get() = node != null

    /**
     * Runs [work] with the node if it runs, else with a local space opened for it and closed
     * after (its writes are kept as intents the node applies when it next opens).
     */
    suspend fun <T> withSpace(onNode: suspend (N) -> T, onLocal: suspend (L) -> T): T = mutex.withLock {
        node?.let { return@withLock onNode(it) }
        val local = retryingInUse { openLocal() }
        try {
            onLocal(local)
        } finally {
            closeLocal(local)
        }
    }

    private suspend fun <T> retryingInUse(open: suspend () -> T): T {
        var attempt = 0
        while (true) {
            try {
                return open()
            } catch (e: AccordException.InUse) {
                if (++attempt >= tries) throw e
                delay(retryMillis)
            }
        }
    }
}
