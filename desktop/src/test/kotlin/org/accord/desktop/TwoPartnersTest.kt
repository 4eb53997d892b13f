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
import androidx.compose.ui.test.performScrollTo
import androidx.compose.ui.test.performTextClearance
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
import org.junit.Assert.assertEquals
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

    /** Scrolls the node into view (screens are longer than the window) and clicks it. */
    private fun click(who: String, matcher: SemanticsMatcher) {
        node(who, matcher).performScrollTo().performClick()
    }

    /** Scrolls the field into view and types [text] into it. */
    private fun type(who: String, matcher: SemanticsMatcher, text: String) {
        node(who, matcher).performScrollTo().performTextInput(text)
    }

    private fun await(who: String, matcher: SemanticsMatcher, seconds: Long = 30) {
        rule.waitUntil(seconds * 1000) {
            rule.onAllNodes(within(who, matcher), useUnmergedTree = true).fetchSemanticsNodes().isNotEmpty()
        }
    }

    /**
     * Alex creates the space and invites; Sam joins with the pasted ticket (both on their
     * agreements). [newPhone] adds a third, empty instance: Alex's new phone.
     */
    private fun pair(newPhone: Boolean = false): String {
        val who = listOf("alex" to "Europe/Berlin", "sam" to "America/New_York") +
            listOfNotNull(("newphone" to "Europe/Berlin").takeIf { newPhone })
        val spaces = who.associate { (it, _) ->
            it to RustSpaces(root.resolve(it).toString(), NetworkMode.LOOPBACK, "$it's laptop")
        }
        rule.setContent {
            Row(Modifier.fillMaxSize()) {
                for ((who, zone) in who) {
                    Box(Modifier.weight(1f).testTag(who)) {
                        AccordApp(null, spaces.getValue(who), zone, TestSettings(), onSpace = { cores += it })
                    }
                }
            }
        }
        type("alex", hasTestTag("name"), "Alex")
        click("alex", hasTestTag("create"))
        // The recovery secret is made at setup and shown once before the space.
        await("alex", hasTestTag("recovery-secret"))
        val secret = node("alex", hasTestTag("recovery-secret")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertEquals(44, secret.length)
        click("alex", hasTestTag("written-down"))
        await("alex", hasTestTag("invite"))
        click("alex", hasTestTag("invite"))
        await("alex", hasTestTag("ticket"))
        val ticket = node("alex", hasTestTag("ticket")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertTrue(ticket, ticket.startsWith("accord1"))
        type("sam", hasTestTag("name"), "Sam")
        type("sam", hasTestTag("ticket-input"), ticket)
        click("sam", hasTestTag("join"))
        await("sam", hasTestTag("written-down"))
        click("sam", hasTestTag("written-down"))
        await("sam", hasTestTag("add"))
        // Alex's invitation screen says who joined, and no longer shows the used ticket.
        await("alex", hasText("Sam joined on sam's laptop."))
        rule.onAllNodes(within("alex", hasTestTag("ticket")), useUnmergedTree = true).assertCountEquals(0)
        click("alex", hasTestTag("done"))
        await("alex", hasTestTag("add"))
        return ticket
    }

    @Test
    fun aTicketAlreadyUsedIsAMessageOnAThirdDeviceAndNothingIsMade() {
        val ticket = pair(newPhone = true)
        type("newphone", hasTestTag("name"), "Someone")
        type("newphone", hasTestTag("ticket-input"), ticket)
        click("newphone", hasTestTag("join"))
        await("newphone", hasText("a ticket works once", substring = true))
        assertEquals(2, cores.size)
        // Alex and Sam go on as before.
        await("sam", hasTestTag("add"))
    }

    @Test
    fun alexInvitesSamJoinsByPastedTicketAndBothAcceptTheSameWords() {
        pair()
        // Alex proposes; it reaches Sam's screen as waiting for Sam.
        val words = "If one of us will be more than 30 minutes late, we call or text before."
        type("alex", hasTestTag("new-title"), words)
        click("alex", hasTestTag("add"))
        await("alex", hasText(words))
        await("sam", hasText(Words.WAITING_FOR_YOU))

        // Sam opens it, reads who accepted, accepts: active for both.
        rule.onAllNodes(within("sam", hasText(words)), useUnmergedTree = true)[0].performScrollTo().performClick()
        await("sam", hasTestTag("accept"))
        await("sam", hasText("Accepted by Alex"))
        click("sam", hasTestTag("accept"))
        await("sam", hasTestTag("accepted"))
        await("sam", hasText(Words.status(Status.ACTIVE)))
        await("alex", hasContentDescription(Words.status(Status.ACTIVE), substring = true))

        // Sam logs that it was kept, in a few words; Alex reads it on the agreement.
        type("sam", hasTestTag("log-text"), "Texted at 18:40, home at 19:20")
        click("sam", hasTestTag("log-kept"))
        await("sam", hasText("Sam · Kept: Texted at 18:40, home at 19:20"))
        rule.onAllNodes(within("alex", hasText(words)), useUnmergedTree = true)[0].performScrollTo().performClick()
        await("alex", hasText("Sam · Kept: Texted at 18:40, home at 19:20"))
        click("alex", hasTestTag("back"))

        // Devices: who is in the space, never when a device was last seen; a new recovery
        // secret is shown once.
        click("alex", hasTestTag("devices"))
        await("alex", hasText("Partner: Sam (America/New_York)"))
        await("alex", hasText(Words.THIS_DEVICE))
        rule.onAllNodes(within("alex", hasText("seen", substring = true)), useUnmergedTree = true)
            .assertCountEquals(0)
        click("alex", hasTestTag("new-recovery"))
        await("alex", hasTestTag("recovery-secret"))
        val secret = node("alex", hasTestTag("recovery-secret")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertTrue(secret, secret.length == 44)
        click("alex", hasTestTag("written-down"))
        await("alex", hasTestTag("new-recovery"))
    }

    @Test
    fun aGarbledTicketIsAMessageOnTheScreenAndNothingIsMade() {
        val dir = root.resolve("sam")
        rule.setContent {
            Box(Modifier.fillMaxSize().testTag("sam")) {
                AccordApp(null, RustSpaces(dir.toString(), NetworkMode.LOOPBACK, "laptop"), "UTC", TestSettings(), onSpace = { cores += it })
            }
        }
        type("sam", hasTestTag("name"), "Sam")
        type("sam", hasTestTag("ticket-input"), "accord1thisisnotaticket")
        click("sam", hasTestTag("join"))
        await("sam", hasText("not an Accord invitation", substring = true))
        assertTrue("no space was made", cores.isEmpty())
        // The screen still works: creating a space instead succeeds.
        click("sam", hasTestTag("create"))
        await("sam", hasTestTag("written-down"))
        click("sam", hasTestTag("written-down"))
        await("sam", hasTestTag("add"))
    }

    @Test
    fun leavingDeletesThisDevicesCopyAndKeysAfterAskingAndTheAppStartsAgain() {
        val dir = root.resolve("sam")
        var left = 0
        rule.setContent {
            Box(Modifier.fillMaxSize().testTag("sam")) {
                AccordApp(null, RustSpaces(dir.toString(), NetworkMode.LOOPBACK, "laptop"), "UTC", TestSettings(),
                    onSpace = { cores += it }, onLeft = { left++ })
            }
        }
        type("sam", hasTestTag("name"), "Sam")
        click("sam", hasTestTag("create"))
        await("sam", hasTestTag("written-down"))
        click("sam", hasTestTag("written-down"))
        await("sam", hasTestTag("devices"))
        click("sam", hasTestTag("devices"))
        await("sam", hasTestTag("leave"))
        click("sam", hasTestTag("leave"))
        // Asked first; cancelling keeps everything.
        click("sam", hasTestTag("leave-cancel"))
        assertTrue(dir.resolve("device.key").toFile().exists())
        click("sam", hasTestTag("leave"))
        click("sam", hasTestTag("leave-for-sure"))
        await("sam", hasTestTag("create"))
        assertEquals(1, left)
        assertEquals(emptyList<String>(), dir.toFile().list()?.toList().orEmpty())
    }

    @Test
    fun alexAddsAnotherDeviceOfHisOnlyOnceHeConfirmsTheCodeBothShow() {
        pair(newPhone = true)
        click("alex", hasTestTag("devices"))
        await("alex", hasTestTag("add-device"))
        click("alex", hasTestTag("add-device"))
        await("alex", hasTestTag("ticket"))
        val ticket = node("alex", hasTestTag("ticket")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        type("newphone", hasTestTag("name"), "Alex")
        type("newphone", hasTestTag("ticket-input"), ticket)
        click("newphone", hasTestTag("show-code"))
        await("newphone", hasTestTag("code"))
        val code = node("newphone", hasTestTag("code")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        click("newphone", hasTestTag("join-mine"))
        await("alex", hasTestTag("request-code"))
        val asked = node("alex", hasTestTag("request-code")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        assertEquals(code, asked)
        click("alex", hasTestTag("same-code"))
        // The new device goes straight to the space (it makes no new recovery secret).
        await("newphone", hasTestTag("add"))
        await("alex", hasText("Alex joined on newphone's laptop."))
        click("newphone", hasTestTag("devices"))
        await("newphone", hasText("You: Alex (Europe/Berlin)"))
    }

    @Test
    fun samRaisesAConcernAlexHearsAndAnswersItSamResolvesItAndTheyRecordACheckIn() {
        pair()
        click("sam", hasTestTag("concerns"))
        await("sam", hasTestTag("no-concerns"))
        type("sam", hasTestTag("what"), "You shared what I told you with your sister")
        type("sam", hasTestTag("felt"), "Exposed")
        type("sam", hasTestTag("need"), "Ask me first next time")
        click("sam", hasTestTag("raise"))
        await("sam", hasText(Words.concern(ConcernState.OPEN), substring = true))

        // On Alex's device: the check-in lists it; Alex hears and answers it.
        click("alex", hasTestTag("checkin"))
        await("alex", hasText("You shared what I told you with your sister", substring = true))
        click("alex", hasTestTag("back"))
        click("alex", hasTestTag("concerns"))
        await("alex", hasText("Needs: Ask me first next time"))
        rule.onAllNodes(within("alex", hasTestTagPrefix("acknowledge-")), useUnmergedTree = true)[0].performScrollTo().performClick()
        await("alex", hasText(Words.concern(ConcernState.ACKNOWLEDGED), substring = true))
        rule.onAllNodes(within("alex", hasTestTagPrefix("answer-")), useUnmergedTree = true)[0]
            .performScrollTo().performTextInput("I'm sorry. I will ask you first.")
        rule.onAllNodes(within("alex", hasTestTagPrefix("respond-")), useUnmergedTree = true)[0].performScrollTo().performClick()

        // Sam reads the answer and resolves it; both see it resolved.
        await("sam", hasText("Alex: I'm sorry. I will ask you first."))
        rule.onAllNodes(within("sam", hasTestTagPrefix("resolve-")), useUnmergedTree = true)[0].performScrollTo().performClick()
        await("sam", hasText(Words.concern(ConcernState.RESOLVED), substring = true))
        await("alex", hasText(Words.concern(ConcernState.RESOLVED), substring = true))

        // They record the check-in on Sam's device; Alex's agenda shows it.
        click("sam", hasTestTag("back"))
        click("sam", hasTestTag("checkin"))
        await("sam", hasTestTag("record"))
        click("sam", hasTestTag("record"))
        await("sam", hasText("Last check-in:", substring = true))
        click("alex", hasTestTag("back"))
        click("alex", hasTestTag("checkin"))
        await("alex", hasText("Last check-in:", substring = true))

        // Sam ends the pairing (asked first); both devices show it ended, both keep their copies.
        click("sam", hasTestTag("back"))
        click("sam", hasTestTag("devices"))
        await("sam", hasTestTag("end-pairing"))
        click("sam", hasTestTag("end-pairing"))
        click("sam", hasTestTag("end-pairing-for-sure"))
        await("sam", hasText("The pairing ended."))
        click("alex", hasTestTag("back"))
        click("alex", hasTestTag("devices"))
        await("alex", hasText("The pairing ended."))
        click("alex", hasTestTag("back"))
        click("alex", hasTestTag("concerns"))
        await("alex", hasText("You shared what I told you with your sister", substring = true))
    }

    @Test
    fun alexLosesEveryDeviceAndComesBackOnANewPhoneWithTheRecoverySecret() {
        pair(newPhone = true)
        click("alex", hasTestTag("devices"))
        await("alex", hasTestTag("new-recovery"))
        click("alex", hasTestTag("new-recovery"))
        await("alex", hasTestTag("recovery-secret"))
        val secret = node("alex", hasTestTag("recovery-secret")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        click("alex", hasTestTag("written-down"))
        // Sam's device knows Alex set one up before the phone is lost.
        click("sam", hasTestTag("devices"))
        await("sam", hasText("Alex can come back with a recovery secret"))
        await("sam", hasTestTag("invite-back"))
        click("sam", hasTestTag("invite-back"))
        await("sam", hasTestTag("ticket"))
        val ticket = node("sam", hasTestTag("ticket")).fetchSemanticsNode()
            .config[SemanticsProperties.Text].joinToString("") { it.text }
        // A mistyped secret is a message; the right one brings Alex back on the new phone.
        type("newphone", hasTestTag("ticket-input"), ticket)
        type("newphone", hasTestTag("secret-input"), "AAAA-" + secret.drop(5).reversed())
        click("newphone", hasTestTag("come-back"))
        await("newphone", hasText("recovery secret", substring = true))
        node("newphone", hasTestTag("secret-input")).performTextClearance()
        type("newphone", hasTestTag("secret-input"), secret)
        click("newphone", hasTestTag("come-back"))
        await("newphone", hasTestTag("add"))
        click("newphone", hasTestTag("devices"))
        await("newphone", hasText("You: Alex (Europe/Berlin)"))
        await("newphone", hasText("unpaired"))
    }
}

/** Nodes whose test tag starts with [prefix]. */
private fun hasTestTagPrefix(prefix: String) = SemanticsMatcher("test tag starts with $prefix") {
    it.config.getOrElseNullable(SemanticsProperties.TestTag) { null }?.startsWith(prefix) == true
}
