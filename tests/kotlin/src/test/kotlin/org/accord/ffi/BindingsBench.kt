package org.accord.ffi

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.accord.core.*
import java.nio.file.Files

/**
 * Benchmark through the bindings (prints figures; run on request):
 * `./scripts/kotlin-bench.sh` (list 500 agreements target ≤ 5 ms; one durable edit ≤ 3 ms).
 */
@Tag("bench")
class BindingsBench {
    private fun median(xs: List<Double>) = xs.sorted()[xs.size / 2]

    @Test
    fun list500AndDurableEdit() = runBlocking<Unit> {
        val dir = Files.createTempDirectory("accord-ffi-bench").resolve("alex").toString()
        val node = AccordNode.create(dir, "Alex", "Europe/Berlin", "phone", NetworkMode.LOOPBACK)
        val space = node.space()
        val all = ListFilter()
        val ids = (1..500).map {
            space.createAgreement(
                NewAgreement(
                    title = "Agreement $it: we keep this promise to each other, always",
                    details = "Measurable wording of what we both agreed to do and when. ".repeat(5),
                    category = Category.Standard(StandardCategory.COMMUNICATION),
                    kind = Kind.AGREEMENT,
                    strength = Strength.PROMISE,
                    concerns = Concerns.Both,
                ),
            )
        }
        repeat(20) { space.list(all) }
        val listTimes = (1..100).map {
            val t = System.nanoTime()
            val all = space.list(all)
            val ms = (System.nanoTime() - t) / 1e6
            assertEquals(500, all.size)
            ms
        }
        val editTimes = (1..100).map { i ->
            val t = System.nanoTime()
            space.editAgreement(
                ids[i % ids.size],
                AgreementEdit(details = "Edited wording $i"),
            )
            (System.nanoTime() - t) / 1e6
        }
        println("kotlin bench: list 500 agreements median %.2f ms; durable edit median %.2f ms (p90 %.2f ms)"
            .format(median(listTimes), median(editTimes), editTimes.sorted()[90]))
        node.shutdown()
    }
}
