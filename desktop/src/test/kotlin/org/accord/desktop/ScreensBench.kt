package org.accord.desktop

import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.unit.Density
import androidx.compose.ui.use
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.agreements.AgreementsScreen
import org.accord.app.core.RustCore
import org.accord.app.theme.AccordTheme
import org.accord.core.Category
import org.accord.core.Concerns
import org.accord.core.Kind
import org.accord.core.NewAgreement
import org.accord.core.StandardCategory
import org.accord.core.Strength
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import org.junit.Assume.assumeTrue
import org.junit.Test
import java.io.File
import java.nio.file.Files

/**
 * Figures for the screens (a benchmark, not a test: it asserts nothing about time and runs only
 * with -Daccord.bench=true, see scripts/desktop-bench.sh). With 500 agreements: opening the
 * node to the first rendered frame of the list; a partner's change to the list holder's new
 * state; this JVM's peak resident memory.
 */
class ScreensBench {
    private fun ms(nanos: Long) = "%.1f ms".format(nanos / 1e6)

    private fun peakRss(): String =
        File("/proc/self/status").readLines().firstOrNull { it.startsWith("VmHWM") }?.substringAfter(":")?.trim() ?: "?"

    /** Opens the node, reads the list into the holder, renders the first frame; prints the times. */
    private fun openToFirstFrame(dir: String, label: String): Long {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val t0 = System.nanoTime()
        val node = runBlocking { AccordNode.open(dir, NetworkMode.LOOPBACK) }
        val opened = System.nanoTime()
        val holder = AgreementsHolder(RustCore(node), scope)
        val state = holder.state.awaitState { !it.loading }
        val listed = System.nanoTime()
        ImageComposeScene(420, 860, Density(1.5f)) {
            AccordTheme { AgreementsScreen(state, onOpen = {}, onCreate = {}, onInvite = {}) }
        }.use { it.render(0) }
        val framed = System.nanoTime()
        println(
            "  $label: open to first frame ${ms(framed - t0)} (node open ${ms(opened - t0)}, " +
                "list state ${ms(listed - opened)}, first frame ${ms(framed - listed)}); " +
                "${state.sections.sumOf { it.agreements.size }} listed",
        )
        scope.cancel()
        runBlocking { node.shutdown() }
        node.close()
        return framed - t0
    }

    @Test
    fun fiveHundredAgreements() {
        assumeTrue("a benchmark: run with -Daccord.bench=true", System.getProperty("accord.bench") == "true")
        val root = Files.createTempDirectory("accord-screens-bench")
        val alexDir = root.resolve("alex").toString()
        val seed = runBlocking { AccordNode.create(alexDir, "Alex", "Europe/Berlin", "laptop", NetworkMode.LOOPBACK) }
        val ticket = seed.invite(org.accord.core.InviteRole.PARTNER, 10u)
        val sam = runBlocking { AccordNode.join(root.resolve("sam").toString(), ticket, "Sam", "UTC", "phone", NetworkMode.LOOPBACK) }
        val categories = StandardCategory.entries
        for (i in 0 until 500) {
            seed.space().createAgreement(
                NewAgreement(
                    title = "Agreement number $i: we talk about it first",
                    category = Category.Standard(categories[i % categories.size]),
                    kind = Kind.AGREEMENT,
                    strength = Strength.TRY_MY_BEST,
                    concerns = Concerns.Both,
                ),
            )
        }
        runBlocking { seed.shutdown() }
        seed.close()
        println("screens bench: 500 agreements")

        // A cold JVM first (class loading, JIT, Skia start-up), then the same again warm.
        openToFirstFrame(alexDir, "cold JVM")
        val warm = (1..5).map { openToFirstFrame(alexDir, "warm JVM, open $it") }.sorted()
        println("  warm JVM: open to first frame median of 5 ${ms(warm[2])} (best ${ms(warm[0])}, worst ${ms(warm[4])})")
        run {
            val node = runBlocking { AccordNode.open(alexDir, NetworkMode.LOOPBACK) }
            val core = RustCore(node)
            val a = System.nanoTime()
            runBlocking { core.info() }
            val b = System.nanoTime()
            runBlocking { core.agreements() }
            val c = System.nanoTime()
            runBlocking { core.agenda(java.time.Instant.now()) }
            val d = System.nanoTime()
            println("  after open: info ${ms(b - a)}, list ${ms(c - b)}, agenda ${ms(d - c)}")
            runBlocking { node.shutdown() }
            node.close()
        }
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val t0 = System.nanoTime()
        val node = runBlocking { AccordNode.open(alexDir, NetworkMode.LOOPBACK) }
        val opened = System.nanoTime()
        val core = RustCore(node)
        val holder = AgreementsHolder(core, scope)
        val state = holder.state.awaitState { !it.loading }
        val listed = System.nanoTime()
        ImageComposeScene(420, 860, Density(1.5f)) {
            AccordTheme { AgreementsScreen(state, onOpen = {}, onCreate = {}, onInvite = {}) }
        }.use { it.render(0) }
        val framed = System.nanoTime()
        println("  third open: node open ${ms(opened - t0)}, list state ${ms(listed - opened)}, first frame ${ms(framed - listed)}")

        // A partner's change: Sam writes, Alex's holder shows it (sync included, the session
        // already open), and the holder's own work per change (one refresh over 500
        // agreements), median of 20.
        node.keepConnected()
        sam.keepConnected()
        sam.space().createAgreement(
            NewAgreement(
                title = "Warm-up from Sam's phone",
                category = Category.Standard(StandardCategory.COMMUNICATION),
                kind = Kind.AGREEMENT,
                strength = Strength.PROMISE,
                concerns = Concerns.Both,
            ),
        )
        holder.state.awaitState { s -> s.sections.any { sec -> sec.agreements.any { it.title.startsWith("Warm-up") } } }
        val written = System.nanoTime()
        sam.space().createAgreement(
            NewAgreement(
                title = "From Sam's phone",
                category = Category.Standard(StandardCategory.COMMUNICATION),
                kind = Kind.AGREEMENT,
                strength = Strength.PROMISE,
                concerns = Concerns.Both,
            ),
        )
        holder.state.awaitState { s -> s.sections.any { sec -> sec.agreements.any { it.title == "From Sam's phone" } } }
        val arrived = System.nanoTime()
        val refreshes = (0 until 20).map {
            val start = System.nanoTime()
            runBlocking { holder.refresh() }
            System.nanoTime() - start
        }.sorted()
        println("  Sam's write to Alex's new list state (loopback sync included) ${ms(arrived - written)}")
        println("  list holder refresh per change: median ${ms(refreshes[10])}, max ${ms(refreshes.last())}")
        println("  peak resident memory of this JVM (VmHWM): ${peakRss()}")
        scope.cancel()
        runBlocking {
            node.shutdown()
            sam.shutdown()
        }
        root.toFile().deleteRecursively()
    }
}
