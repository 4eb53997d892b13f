package org.accord.desktop

import androidx.compose.runtime.Composable
import androidx.compose.ui.unit.dp
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.unit.Density
import androidx.compose.ui.use
import kotlinx.coroutines.runBlocking
import org.accord.app.agreements.AgreementsScreen
import org.accord.app.agreements.AgreementsState
import org.accord.app.agreements.Section
import org.accord.app.detail.AgreementDetailScreen
import org.accord.app.detail.DetailState
import org.accord.app.onboarding.OnboardingScreen
import org.accord.app.onboarding.OnboardingState
import org.accord.app.pairing.PairingScreen
import org.accord.app.pairing.PairingState
import org.accord.app.theme.AccordTheme
import org.accord.app.Words
import org.jetbrains.skia.EncodedImageFormat
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.time.Instant

/**
 * Every screen rendered headless to PNG, light and dark, at font scale 1.0 and 2.0, from the
 * product's example agreements, into `desktop/target/screenshots` for a person to look at.
 */
class ScreenshotsTest {
    private val out = File(System.getProperty("accord.screenshots.dir") ?: "target/screenshots")

    private fun shoot(name: String, height: Int = 860, content: @Composable () -> Unit) {
        out.mkdirs()
        for (dark in listOf(false, true)) {
            for (fontScale in listOf(1f, 2f)) {
                val file = File(out, "$name-${if (dark) "dark" else "light"}-x$fontScale.png")
                ImageComposeScene(420, height, Density(1.5f, fontScale)) {
                    AccordTheme(dark) { content() }
                }.use { scene ->
                    scene.render(0)
                    val image = scene.render(100_000_000)
                    val png = image.encodeToData(EncodedImageFormat.PNG)!!.bytes
                    file.writeBytes(png)
                }
                assertTrue("$file is an image", file.length() > 2_000)
            }
        }
    }

    @Test
    fun everyScreen() {
        val core = FakeCore.examples()
        val all = runBlocking { core.agreements() }
        val waiting = runBlocking { core.agenda(Instant.now()) }.waitingForPartner.map { it.agreement }
        val agreements = AgreementsState(
            loading = false,
            waitingForMe = waiting,
            sections = all.groupBy { Words.category(it.category) }.map { Section(it.key, it.value) },
        )
        shoot("agreements") { AgreementsScreen(agreements, onOpen = {}, onCreate = {}, onInvite = {}) }
        shoot("agreements-empty") {
            AgreementsScreen(AgreementsState(loading = false), onOpen = {}, onCreate = {}, onInvite = {})
        }
        shoot("agreements-error") {
            AgreementsScreen(
                agreements.copy(error = "this space is in use by another Accord process; close it or use that process"),
                onOpen = {},
                onCreate = {},
                onInvite = {},
            )
        }
        val info = runBlocking { core.info() }
        val names = info.partners.associate { it.id to it.name }
        for (id in listOf("e2", "e7")) {
            val details = runBlocking { core.agreement(id) }
            val state = DetailState(loading = false, details = details, me = info.me, names = names)
            shoot("detail-$id") { AgreementDetailScreen(state, onAccept = {}, onBack = {}) }
        }
        val conflicted = FakeCore.withConflict()
        val conflict = DetailState(
            loading = false,
            details = runBlocking { conflicted.agreement("e4") },
            me = info.me,
            names = names,
        )
        runBlocking {
            core.logFollowThrough("e3", org.accord.core.LogKind.KEPT, "Sushi and a walk")
            core.logFollowThrough("e3", org.accord.core.LogKind.MISSED, "Worked late, forgot to plan it")
        }
        runBlocking { core.writePosition("e3", "Fridays, and we take turns choosing") }
        core.samPosition("e3")
        val withLog = DetailState(loading = false, details = runBlocking { core.agreement("e3") }, me = info.me,
            names = names, log = runBlocking { core.followThrough("e3") },
            history = runBlocking { core.history("e3") }, positions = runBlocking { core.positions("e3") })
        shoot("detail-follow-through", height = 1700) { AgreementDetailScreen(withLog, onAccept = {}, onBack = {}) }
        val changed = withLog.copy(
            details = withLog.details!!.copy(
                changesSinceAcceptance = listOf(
                    org.accord.core.PartnerChanges(
                        info.me,
                        listOf(
                            org.accord.core.FieldChange(
                                org.accord.core.Field.TITLE,
                                "Date night every Friday from 19:00; we alternate who plans it.",
                                "Date night every Saturday from 18:00; we alternate who plans it.",
                                listOf(
                                    org.accord.core.WordRun("Date night every", org.accord.core.WordChange.KEPT),
                                    org.accord.core.WordRun("Friday from 19:00;", org.accord.core.WordChange.REMOVED),
                                    org.accord.core.WordRun("Saturday from 18:00;", org.accord.core.WordChange.ADDED),
                                    org.accord.core.WordRun("we alternate who plans it.", org.accord.core.WordChange.KEPT),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        )
        shoot("detail-changed-since-accepted", height = 1400) { AgreementDetailScreen(changed, onAccept = {}, onBack = {}) }
        val devices = org.accord.app.devices.DevicesHolder(core, kotlinx.coroutines.GlobalScope, TestSettings().apply { mode = org.accord.ffi.NetworkMode.PRODUCTION }, restart = {})
        val devicesState = devices.state.awaitState { !it.loading }
        shoot("devices", height = 1900) {
            org.accord.app.devices.DevicesScreen(devicesState.copy(exportedTo = "/home/alex/Documents/accord-agreements-2027-03-01.md"), {}, {}, {}, onBack = {})
        }
        shoot("devices-recovery") {
            org.accord.app.devices.DevicesScreen(
                devicesState.copy(newRecoverySecret = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567-ABCD"), {}, {}, {}, onBack = {},
            )
        }
        runBlocking {
            core.addCommitmentRule("e3", org.accord.core.RecurrenceRule(
                org.accord.core.Frequency.Weekly(1u, listOf(org.accord.core.Weekday.FRIDAY)), "19:00", "Europe/Berlin", "2027-03-01", null))
        }
        val reminders = org.accord.app.reminders.RemindersHolder(core, kotlinx.coroutines.GlobalScope)
            .state.awaitState { it.upcoming.isNotEmpty() }
        shoot("reminders") { org.accord.app.reminders.RemindersScreen(reminders, {}, {}, {}) }
        shoot("reminders-empty") {
            org.accord.app.reminders.RemindersScreen(org.accord.app.reminders.RemindersState(loading = false), {}, {}, {})
        }
        shoot("detail-conflict") { AgreementDetailScreen(conflict, onAccept = {}, onBack = {}) }
        shoot("onboarding") {
            OnboardingScreen(OnboardingState(), "Europe/Berlin", onCreate = { _, _ -> }, onJoin = { _, _, _ -> })
        }
        shoot("onboarding-recovery-secret") {
            OnboardingScreen(OnboardingState(recoverySecret = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567-ABCD"), "Europe/Berlin",
                onCreate = { _, _ -> }, onJoin = { _, _, _ -> })
        }
        shoot("onboarding-my-device-code", height = 1500) {
            OnboardingScreen(OnboardingState(confirmationCode = "418 207"), "Europe/Berlin",
                onCreate = { _, _ -> }, onJoin = { _, _, _ -> }, onScan = {})
        }
        shoot("onboarding-error") {
            OnboardingScreen(
                OnboardingState(error = "not allowed: this invitation expired: ask for a new ticket"),
                "Europe/Berlin",
                onCreate = { _, _ -> },
                onJoin = { _, _, _ -> },
            )
        }
        shoot("agreements-alone") {
            AgreementsScreen(AgreementsState(loading = false, partnerJoined = false), onOpen = {}, onCreate = {}, onInvite = {})
        }
        core.samRaises("You shared what I told you with your sister", "Exposed", "Ask me first next time")
        runBlocking {
            val id = core.raiseConcern(org.accord.core.NewConcern(null, "Dishes left overnight again", "Tired", "Dishes before bed"))
            core.respondToConcern(id, "You're right, I'll do them tonight.")
        }
        val concerns = org.accord.app.concerns.ConcernsHolder(core, kotlinx.coroutines.GlobalScope)
            .state.awaitState { it.items.size == 2 }
        shoot("concerns") { org.accord.app.concerns.ConcernsScreen(concerns, { _, _, _ -> }, {}, { _, _ -> }, {}, {}) }
        shoot("concerns-empty") {
            org.accord.app.concerns.ConcernsScreen(org.accord.app.concerns.ConcernsState(loading = false), { _, _, _ -> }, {}, { _, _ -> }, {}, {})
        }
        val checkin = org.accord.app.checkin.CheckinHolder(core, kotlinx.coroutines.GlobalScope)
            .state.awaitState { !it.loading }
        shoot("checkin", height = 1900) {
            org.accord.app.checkin.CheckinScreen(checkin, onRecord = {}, onBack = {}, zone = java.time.ZoneId.of("Europe/Berlin"))
        }
        val ritual = org.accord.app.rhythm.Rhythm(org.accord.app.rhythm.Every.WEEK, "sunday", "19:00")
            .toRule("Europe/Berlin", java.time.LocalDate.parse("2027-03-01"))
        shoot("rhythm-picker", height = 700) {
            androidx.compose.material3.Surface(androidx.compose.ui.Modifier.fillMaxSize()) {
                androidx.compose.foundation.layout.Column(androidx.compose.ui.Modifier.padding(16.dp)) {
                    org.accord.app.rhythm.RhythmPicker(org.accord.app.Words.REMIND_US, "rule") {}
                }
            }
        }
        shoot("checkin-rhythm", height = 1900) {
            org.accord.app.checkin.CheckinScreen(checkin.copy(ritual = ritual), onRecord = {}, onBack = {},
                zone = java.time.ZoneId.of("Europe/Berlin"))
        }
        val ticket = "accord1" + "mfrgg43fmnxw2ylnmvzxg4tfmfxgkzjaorwxizjanbsw4zlsmu".repeat(6)
        shoot("pairing") { PairingScreen(PairingState(loading = false, ticket = ticket), onNewTicket = {}, onBack = {}) }
        shoot("pairing-my-device-request") {
            PairingScreen(
                PairingState(loading = false, request = org.accord.app.core.PairingRequest("d1", "Alex's tablet", "418 207")),
                onNewTicket = {}, onBack = {}, mine = true,
            )
        }
        shoot("pairing-joined") {
            PairingScreen(PairingState(loading = false, joined = "Sam joined on Sam's phone."), onNewTicket = {}, onBack = {})
        }
    }
}
