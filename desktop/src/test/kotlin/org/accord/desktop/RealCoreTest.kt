package org.accord.desktop

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.core.RustCore
import org.accord.app.detail.AgreementDetailHolder
import org.accord.core.Status
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.nio.file.Files

/** The state holders against the real library, through a node on loopback. */
class RealCoreTest {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val dir = Files.createTempDirectory("accord-desktop-test")
    private val node = runBlocking {
        AccordNode.create(dir.resolve("alex").toString(), "Alex", "Europe/Berlin", "laptop", NetworkMode.LOOPBACK)
    }

    @After
    fun tearDown() {
        scope.cancel()
        runBlocking { node.shutdown() }
        node.close()
        dir.toFile().deleteRecursively()
    }

    @Test
    fun writingAnAgreementShowsItAndItsDetailSaysIAcceptedIt() {
        val core = RustCore(node)
        val holder = AgreementsHolder(core, scope)
        assertTrue(holder.state.awaitState { !it.loading }.empty)
        holder.create("Phones away at dinner")
        val state = holder.state.awaitState { it.sections.isNotEmpty() }
        val summary = state.sections.single().agreements.single()
        assertEquals("Phones away at dinner", summary.title)
        assertEquals(Status.PROPOSED, summary.status)
        assertTrue("nothing waits for me: I wrote it", state.waitingForMe.isEmpty())
        val detail = AgreementDetailHolder(core, summary.id, scope)
        val shown = detail.state.awaitState { !it.loading }
        assertTrue(shown.acceptedByMe)
        assertEquals(mapOf(shown.me!! to "Alex"), shown.names)
        // The core's own error reaches the screen as its message.
        val missing = AgreementDetailHolder(core, "0000dead", scope)
        val error = missing.state.awaitState { it.error != null }.error!!
        assertTrue(error, error.contains("0000dead"))
    }
}
