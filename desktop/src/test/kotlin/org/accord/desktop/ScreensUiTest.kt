package org.accord.desktop

import androidx.compose.ui.test.assertIsDisplayed
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithTag
import androidx.compose.ui.test.onAllNodesWithText
import androidx.compose.ui.test.assertCountEquals
import androidx.compose.ui.test.onAllNodesWithContentDescription
import kotlinx.coroutines.runBlocking
import org.accord.app.agreements.describe
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.hasContentDescription
import androidx.compose.ui.test.hasScrollAction
import androidx.compose.ui.test.performScrollTo
import androidx.compose.ui.test.performScrollToNode
import androidx.compose.ui.test.performTextClearance
import androidx.compose.ui.test.performTextInput
import org.accord.app.AccordApp
import org.accord.app.Words
import org.accord.app.core.SpaceFactory
import org.accord.app.core.AccordCore
import org.accord.app.core.DeviceSettings
import org.accord.ffi.NetworkMode
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test

/** A space factory for tests that start with a space already. */
object NoSpaces : SpaceFactory {
    override suspend fun create(name: String, timeZone: String) = error("not in this test")
    override suspend fun join(ticket: String, name: String, timeZone: String) = error("not in this test")
    override suspend fun comeBack(ticket: String, recoverySecret: String) = error("not in this test")
    override suspend fun reopen(current: AccordCore, network: NetworkMode) = current
    override suspend fun confirmationCode(ticket: String) = error("not in this test")
    override suspend fun deleteThisCopy(current: AccordCore) = error("not in this test")
}

/** Settings in memory, exports into [exports] (a test's temporary folder). */
class TestSettings(private val exports: java.io.File = kotlin.io.path.createTempDirectory("exports").toFile()) :
    DeviceSettings {
    var mode = NetworkMode.LOOPBACK
    override fun network() = mode
    override fun setNetwork(mode: NetworkMode) { this.mode = mode }
    override suspend fun saveExport(fileName: String, markdown: String): String =
        java.io.File(exports, fileName).also { it.writeText(markdown) }.path
}

/** The screens clicked through on the JVM (no display needed). */
class ScreensUiTest {
    @get:Rule
    val rule = createComposeRule()

    @Test
    fun openAnAgreementWaitingForMeAcceptItAndGoBack() {
        val core = FakeCore.examples()
        rule.setContent { AccordApp(core, NoSpaces, "Europe/Berlin", TestSettings()) }
        rule.waitUntil(10_000) {
            rule.onAllNodesWithText(Words.WAITING_FOR_YOU).fetchSemanticsNodes().isNotEmpty()
        }
        val late = runBlocking { core.agreement("e2") }.summary
        // It shows twice: first among what waits for me, then in its category.
        val rows = rule.onAllNodesWithContentDescription(describe(late))
        rows.assertCountEquals(2)
        rows[0].performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("accept").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText("Accepted by Sam").assertIsDisplayed()
        rule.onNodeWithTag("accept").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("accepted").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText(Words.status(org.accord.core.Status.ACTIVE)).assertIsDisplayed()
        rule.onNodeWithTag("back").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("add").fetchSemanticsNodes().isNotEmpty() }
    }

    @Test
    fun aConflictShowsBothVersionsAndKeepingOneSettlesIt() {
        val core = FakeCore.withConflict()
        rule.setContent { AccordApp(core, NoSpaces, "Europe/Berlin", TestSettings()) }
        val conflicted = runBlocking { core.agreement("e4") }.summary
        rule.waitUntil(10_000) { rule.onAllNodes(hasScrollAction()).fetchSemanticsNodes().isNotEmpty() }
        rule.onNode(hasScrollAction()).performScrollToNode(hasContentDescription(describe(conflicted)))
        rule.onAllNodesWithContentDescription(describe(conflicted))[0].performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("keep-title-1").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText("Two versions of the words: choose one or write them into one").assertIsDisplayed()
        rule.onNodeWithText("by Sam").assertIsDisplayed()
        rule.onAllNodesWithTag("accept").assertCountEquals(0)
        rule.onNodeWithTag("keep-title-1").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("accept").fetchSemanticsNodes().isNotEmpty() }
        rule.onAllNodesWithText("Whoever cooks doesn't wash up; dishes are done by the next morning.")
            .assertCountEquals(1)
        // New words: both must accept again.
        rule.onNodeWithTag("change").performClick()
        rule.onNodeWithTag("edit-title").performTextClearance()
        rule.onNodeWithTag("edit-title").performTextInput("Dishes are done before bed.")
        rule.onNodeWithTag("save").performClick()
        rule.waitUntil(10_000) {
            rule.onAllNodesWithText("Dishes are done before bed.").fetchSemanticsNodes().isNotEmpty()
        }
        rule.onNodeWithTag("accepted").assertIsDisplayed()
        // Retired with a reason: it stays, and says who retired it and why.
        rule.onNodeWithTag("reason").performScrollTo().performTextInput("We moved to a dishwasher")
        rule.onNodeWithTag("retire").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("retired").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText("Retired by Alex: We moved to a dishwasher").assertExists()
        rule.onNodeWithText(Words.status(org.accord.core.Status.RETIRED)).assertExists()
    }

    @Test
    fun twoVersionsWrittenIntoOneByHandSettleTheConflict() {
        val core = FakeCore.withConflict()
        rule.setContent { AccordApp(core, NoSpaces, "Europe/Berlin", TestSettings()) }
        val conflicted = runBlocking { core.agreement("e4") }.summary
        rule.waitUntil(10_000) { rule.onAllNodes(hasScrollAction()).fetchSemanticsNodes().isNotEmpty() }
        rule.onNode(hasScrollAction()).performScrollToNode(hasContentDescription(describe(conflicted)))
        rule.onAllNodesWithContentDescription(describe(conflicted))[0].performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("merge-title").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("merge-title").performScrollTo().performClick()
        rule.onNodeWithTag("merged-title").performTextClearance()
        rule.onNodeWithTag("use-merged-title").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithText(Words.EMPTY_TITLE).fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("merged-title").performTextInput("Whoever cooks doesn't wash up; dishes before bed.")
        rule.onNodeWithTag("use-merged-title").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("accept").fetchSemanticsNodes().isNotEmpty() }
        rule.onAllNodesWithText("Whoever cooks doesn't wash up; dishes before bed.").assertCountEquals(1)
    }

    @Test
    fun aConcernRaisedAboutAnAgreementTurnsIntoRenegotiatingIt() {
        val core = FakeCore.examples()
        rule.setContent { AccordApp(core, NoSpaces, "Europe/Berlin", TestSettings()) }
        val late = runBlocking { core.agreement("e2") }.summary
        rule.waitUntil(10_000) { rule.onAllNodesWithContentDescription(describe(late)).fetchSemanticsNodes().isNotEmpty() }
        rule.onAllNodesWithContentDescription(describe(late))[0].performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("raise-about").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("raise-about").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("about").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText("About: ${late.title}").assertExists()
        rule.onNodeWithTag("what").performTextInput("I waited an hour without a message")
        rule.onNodeWithTag("raise").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("renegotiate-c0").fetchSemanticsNodes().isNotEmpty() }
        rule.onAllNodesWithText("About: ${late.title}").assertCountEquals(2) // the form and the card
        rule.onNodeWithTag("answer-c0").performTextInput("The words do not fit our weeks")
        rule.onNodeWithTag("renegotiate-c0").performClick()
        rule.waitUntil(10_000) {
            rule.onAllNodesWithText("Alex · ${Words.concern(org.accord.core.ConcernState.RENEGOTIATION)}")
                .fetchSemanticsNodes().isNotEmpty()
        }
        rule.onAllNodesWithTag("renegotiate-c0").assertCountEquals(0)
        assertEquals(org.accord.core.Status.NEEDS_RENEGOTIATION, runBlocking { core.agreement("e2") }.summary.status)
        // Back leads to the agreement it was about.
        rule.onNodeWithTag("back").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("raise-about").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithText(Words.status(org.accord.core.Status.NEEDS_RENEGOTIATION)).assertExists()
    }

    @Test
    fun anEmptyTitleIsAMessageAndANewAgreementAppears() {
        val core = FakeCore()
        rule.setContent { AccordApp(core, NoSpaces, "Europe/Berlin", TestSettings()) }
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("empty").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("add").performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithText(Words.EMPTY_TITLE).fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("new-title").performTextInput("Phones away at dinner")
        rule.onNodeWithTag("add").performClick()
        rule.waitUntil(10_000) {
            rule.onAllNodesWithText("Phones away at dinner").fetchSemanticsNodes().isNotEmpty()
        }
    }

    @Test
    fun settingsExportTheAgreementsAsMarkdownAndKeepTheNetworkMode() {
        val core = FakeCore.examples()
        val exports = kotlin.io.path.createTempDirectory("exports").toFile()
        val settings = TestSettings(exports).apply { mode = NetworkMode.PRODUCTION }
        val restarted = mutableListOf<NetworkMode>()
        val spaces = object : SpaceFactory by NoSpaces {
            override suspend fun reopen(current: AccordCore, network: NetworkMode): AccordCore {
                restarted += network
                return current
            }
        }
        rule.setContent { AccordApp(core, spaces, "Europe/Berlin", settings) }
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("devices").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("devices").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("export").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("export").performScrollTo().performClick()
        rule.waitUntil(10_000) { rule.onAllNodesWithTag("exported-to").fetchSemanticsNodes().isNotEmpty() }
        val saved = exports.listFiles()!!.single()
        rule.onNodeWithText("Saved to ${saved.path}").assertExists()
        assertTrue(saved.readText().startsWith("# Our agreements"))
        assertTrue(saved.readText().contains(runBlocking { core.agreement("e2") }.summary.title))
        rule.onNodeWithTag("network-local").performScrollTo().performClick()
        rule.waitUntil(10_000) { restarted.isNotEmpty() }
        assertEquals(listOf(NetworkMode.LOCAL), restarted)
        assertEquals(NetworkMode.LOCAL, settings.network())
    }
}
