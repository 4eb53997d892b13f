package org.accord.desktop

import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.test.SemanticsMatcher
import androidx.compose.ui.test.SemanticsNodeInteraction
import androidx.compose.ui.test.assertCountEquals
import androidx.compose.ui.test.hasAnyAncestor
import androidx.compose.ui.test.hasContentDescription
import androidx.compose.ui.test.hasTestTag
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextInput
import kotlinx.coroutines.runBlocking
import org.accord.app.AccordApp
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.app.core.RustCore
import org.accord.app.core.RustSpaces
import org.accord.core.ConcernState
import org.accord.core.Status
import org.accord.ffi.NetworkMode
import org.junit.After
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The story clicked through with two app instances in one test: Alex and Sam, each with a
 * node of the real library on loopback (relays off). Alex creates the space and invites; Sam
 * joins with the pasted ticket; Alex proposes; Sam sees it waiting, accepts; both see it active.
 */
class TwoPartnersTest {
    @get:Rule
    val rule = createComposeRule()

    private val root = Files.createTempDirectory("accord-two-partners")
    private val cores = CopyOnWriteArrayList<AccordCore>()

    @After
    fun tearDown() {
        runBlocking { cores.forEach { (it as RustCore).node.shutdown() } }
        root.toFile().deleteRecursively()
    }

    private fun within(who: String, matcher: SemanticsMatcher) = matcher and hasAnyAncestor(hasTestTag(who))

    private fun node(who: String, matcher: SemanticsMatcher): SemanticsNodeInteraction =
        rule.onNode(within(who, matcher), useUnmergedTree = true)

    private fun await(who: String, matcher: SemanticsMatcher, seconds: Long = 30) {
        rule.waitUntil(seconds * 1000) {
            rule.onAllNodes(within(who, matcher), useUnmergedTree = true).fetchSemanticsNodes().isNotEmpty()
        }
    }

    /** Alex creates the space and invites; Sam joins with the pasted ticket (both on their agreements). */
    private fun pair() {
        val spaces = listOf("alex", "sam").associateWith {
            RustSpaces(root.resolve(it).toString(), NetworkMode.LOOPBACK, "$it's laptop")
        }
        rule.setContent {
            Row(Modifier.fillMaxSize()) {
                for ((who, zone) in listOf("alex" to "Europe/Berlin", "sam" to "America/New_York")) {
                    Box(Modifier.weight(1f).testTag(who)) {
                        AccordApp(null, spaces.getValue(who), zone, onSpace = { cores += it })
                    }
                }
            }
        }
        node("alex", hasTestTag("name")).performTextInput("Alex")
        node("alex", hasTestTag("create")).performClick()
        await("alex", hasTestTag("invite"))
        node("alex", hasTestTag("invite")).performClick()
        await("alex", hasTestTag("ticket"))
        val ticket = node("alex", hasTestTag("ticket")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertTrue(ticket, ticket.startsWith("accord1"))
        node("sam", hasTestTag("name")).performTextInput("Sam")
        node("sam", hasTestTag("ticket-input")).performTextInput(ticket)
        node("sam", hasTestTag("join")).performClick()
        await("sam", hasTestTag("add"))
        node("alex", hasTestTag("back")).performClick()
        await("alex", hasTestTag("add"))
    }

    @Test
    fun alexInvitesSamJoinsByPastedTicketAndBothAcceptTheSameWords() {
        pair()
        // Alex proposes; it reaches Sam's screen as waiting for Sam.
        val words = "If one of us will be more than 30 minutes late, we call or text before."
        node("alex", hasTestTag("new-title")).performTextInput(words)
        node("alex", hasTestTag("add")).performClick()
        await("alex", hasText(words))
        await("sam", hasText(Words.WAITING_FOR_YOU))

        // Sam opens it, reads who accepted, accepts: active for both.
        rule.onAllNodes(within("sam", hasText(words)), useUnmergedTree = true)[0].performClick()
        await("sam", hasTestTag("accept"))
        await("sam", hasText("Accepted by Alex"))
        node("sam", hasTestTag("accept")).performClick()
        await("sam", hasTestTag("accepted"))
        await("sam", hasText(Words.status(Status.ACTIVE)))
        await("alex", hasContentDescription(Words.status(Status.ACTIVE), substring = true))

        // Sam logs that it was kept, in a few words; Alex reads it on the agreement.
        node("sam", hasTestTag("log-text")).performTextInput("Texted at 18:40, home at 19:20")
        node("sam", hasTestTag("log-kept")).performClick()
        await("sam", hasText("Sam · Kept: Texted at 18:40, home at 19:20"))
        rule.onAllNodes(within("alex", hasText(words)), useUnmergedTree = true)[0].performClick()
        await("alex", hasText("Sam · Kept: Texted at 18:40, home at 19:20"))
        node("alex", hasTestTag("back")).performClick()

        // Devices: who is in the space, never when a device was last seen; a new recovery
        // secret is shown once.
        node("alex", hasTestTag("devices")).performClick()
        await("alex", hasText("Partner: Sam (America/New_York)"))
        await("alex", hasText(Words.THIS_DEVICE))
        rule.onAllNodes(within("alex", hasText("seen", substring = true)), useUnmergedTree = true)
            .assertCountEquals(0)
        node("alex", hasTestTag("new-recovery")).performClick()
        await("alex", hasTestTag("recovery-secret"))
        val secret = node("alex", hasTestTag("recovery-secret")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertTrue(secret, secret.length == 44)
        node("alex", hasTestTag("written-down")).performClick()
        await("alex", hasTestTag("new-recovery"))
    }

    @Test
    fun aGarbledTicketIsAMessageOnTheScreenAndNothingIsMade() {
        val dir = root.resolve("sam")
        rule.setContent {
            Box(Modifier.fillMaxSize().testTag("sam")) {
                AccordApp(null, RustSpaces(dir.toString(), NetworkMode.LOOPBACK, "laptop"), "UTC", onSpace = { cores += it })
            }
        }
        node("sam", hasTestTag("name")).performTextInput("Sam")
        node("sam", hasTestTag("ticket-input")).performTextInput("accord1thisisnotaticket")
        node("sam", hasTestTag("join")).performClick()
        await("sam", hasText("not an Accord invitation", substring = true))
        assertTrue("no space was made", cores.isEmpty())
        // The screen still works: creating a space instead succeeds.
        node("sam", hasTestTag("create")).performClick()
        await("sam", hasTestTag("add"))
    }

    @Test
    fun samRaisesAConcernAlexHearsAndAnswersItSamResolvesItAndTheyRecordACheckIn() {
        pair()
        node("sam", hasTestTag("concerns")).performClick()
        await("sam", hasTestTag("no-concerns"))
        node("sam", hasTestTag("what")).performTextInput("You shared what I told you with your sister")
        node("sam", hasTestTag("felt")).performTextInput("Exposed")
        node("sam", hasTestTag("need")).performTextInput("Ask me first next time")
        node("sam", hasTestTag("raise")).performClick()
        await("sam", hasText(Words.concern(ConcernState.OPEN), substring = true))

        // On Alex's device: the check-in lists it; Alex hears and answers it.
        node("alex", hasTestTag("checkin")).performClick()
        await("alex", hasText("You shared what I told you with your sister", substring = true))
        node("alex", hasTestTag("back")).performClick()
        node("alex", hasTestTag("concerns")).performClick()
        await("alex", hasText("Needs: Ask me first next time"))
        rule.onAllNodes(within("alex", hasTestTagPrefix("acknowledge-")), useUnmergedTree = true)[0].performClick()
        await("alex", hasText(Words.concern(ConcernState.ACKNOWLEDGED), substring = true))
        rule.onAllNodes(within("alex", hasTestTagPrefix("answer-")), useUnmergedTree = true)[0]
            .performTextInput("I'm sorry. I will ask you first.")
        rule.onAllNodes(within("alex", hasTestTagPrefix("respond-")), useUnmergedTree = true)[0].performClick()

        // Sam reads the answer and resolves it; both see it resolved.
        await("sam", hasText("Alex: I'm sorry. I will ask you first."))
        rule.onAllNodes(within("sam", hasTestTagPrefix("resolve-")), useUnmergedTree = true)[0].performClick()
        await("sam", hasText(Words.concern(ConcernState.RESOLVED), substring = true))
        await("alex", hasText(Words.concern(ConcernState.RESOLVED), substring = true))

        // They record the check-in on Sam's device; Alex's agenda shows it.
        node("sam", hasTestTag("back")).performClick()
        node("sam", hasTestTag("checkin")).performClick()
        await("sam", hasTestTag("record"))
        node("sam", hasTestTag("record")).performClick()
        await("sam", hasText("Last check-in:", substring = true))
        node("alex", hasTestTag("back")).performClick()
        node("alex", hasTestTag("checkin")).performClick()
        await("alex", hasText("Last check-in:", substring = true))

        // Sam ends the pairing (asked first); both devices show it ended, both keep their copies.
        node("sam", hasTestTag("back")).performClick()
        node("sam", hasTestTag("devices")).performClick()
        await("sam", hasTestTag("end-pairing"))
        node("sam", hasTestTag("end-pairing")).performClick()
        node("sam", hasTestTag("end-for-sure")).performClick()
        await("sam", hasText("The pairing ended."))
        node("alex", hasTestTag("back")).performClick()
        node("alex", hasTestTag("devices")).performClick()
        await("alex", hasText("The pairing ended."))
        node("alex", hasTestTag("back")).performClick()
        node("alex", hasTestTag("concerns")).performClick()
        await("alex", hasText("You shared what I told you with your sister", substring = true))
    }
}

/** Nodes whose test tag starts with [prefix]. */
private fun hasTestTagPrefix(prefix: String) = SemanticsMatcher("test tag starts with $prefix") {
    it.config.getOrElseNullable(SemanticsProperties.TestTag) { null }?.startsWith(prefix) == true
}
