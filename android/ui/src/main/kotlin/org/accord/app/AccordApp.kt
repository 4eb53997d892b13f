package org.accord.app

import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.job
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.agreements.AgreementsScreen
import org.accord.app.checkin.CheckinHolder
import org.accord.app.checkin.CheckinScreen
import org.accord.app.concerns.ConcernsHolder
import org.accord.app.concerns.ConcernsScreen
import org.accord.app.core.AccordCore
import org.accord.app.devices.DevicesHolder
import org.accord.app.devices.DevicesScreen
import org.accord.app.core.SpaceFactory
import org.accord.app.core.DeviceSettings
import org.accord.app.detail.AgreementDetailHolder
import org.accord.app.detail.AgreementDetailScreen
import org.accord.app.onboarding.OnboardingHolder
import org.accord.app.onboarding.OnboardingScreen
import org.accord.app.pairing.PairingHolder
import org.accord.app.reminders.RemindersHolder
import org.accord.app.reminders.RemindersScreen
import org.accord.app.pairing.PairingScreen
import org.accord.app.theme.AccordTheme
import org.accord.core.AgreementId
import org.accord.core.InviteRole

/** Where the app is. */
private sealed interface Place {
    data object Agreements : Place
    data class Detail(val id: AgreementId) : Place
    data class Pairing(val role: InviteRole = InviteRole.PARTNER) : Place
    data class Concerns(val about: AgreementId? = null) : Place
    data object Checkin : Place
    data object Devices : Place
    data object Reminders : Place
}

/**
 * The app's screens: onboarding until this device has a space ([start], or one [spaces] makes),
 * then the agreements, an agreement's detail, and inviting the partner.
 */
@Composable
fun AccordApp(
    start: AccordCore?,
    spaces: SpaceFactory,
    defaultTimeZone: String,
    settings: DeviceSettings,
    dark: Boolean = false,
    onSpace: (AccordCore) -> Unit = {},
    /** Scans a ticket's QR code (phones); null where there is no camera. */
    onScan: (((String) -> Unit) -> Unit)? = null,
    /** This device's copy was deleted (leaving): the platform forgets the node it held. */
    onLeft: () -> Unit = {},
) {
    var core by remember { mutableStateOf(start) }
    var place by remember { mutableStateOf<Place>(Place.Agreements) }
    AccordTheme(dark) {
        val current = core
        if (current == null) {
            val scope = rememberScreenScope("onboarding")
            val holder = remember(scope) {
                OnboardingHolder(spaces, scope) { made ->
                    onSpace(made)
                    core = made
                }
            }
            val state by holder.state.collectAsState()
            OnboardingScreen(
                state,
                defaultTimeZone,
                onCreate = holder::create,
                onJoin = holder::join,
                onComeBack = holder::comeBack,
                onShowCode = holder::showCode,
                onSecretWrittenDown = holder::secretWrittenDown,
                onScan = onScan,
            )
            return@AccordTheme
        }
        when (val at = place) {
            Place.Agreements -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { AgreementsHolder(current, scope) }
                val state by holder.state.collectAsState()
                AgreementsScreen(
                    state,
                    onOpen = { place = Place.Detail(it) },
                    onCreate = holder::create,
                    onInvite = { place = Place.Pairing() },
                    onConcerns = { place = Place.Concerns() },
                    onCheckin = { place = Place.Checkin },
                    onDevices = { place = Place.Devices },
                    onReminders = { place = Place.Reminders },
                )
            }
            is Place.Detail -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { AgreementDetailHolder(current, at.id, scope) }
                val state by holder.state.collectAsState()
                AgreementDetailScreen(
                    state,
                    onAccept = holder::accept,
                    onBack = { place = Place.Agreements },
                    onEdit = holder::edit,
                    onChoose = holder::choose,
                    onLog = holder::log,
                    onWritePosition = holder::writePosition,
                    onPositionReady = holder::markPositionReady,
                    onRemind = holder::remind,
                    onRemoveRule = holder::removeRule,
                    onRetire = holder::retire,
                    onRenegotiate = holder::renegotiate,
                    onRaiseConcern = { place = Place.Concerns(at.id) },
                )
            }
            is Place.Concerns -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { ConcernsHolder(current, scope, at.about) }
                val state by holder.state.collectAsState()
                ConcernsScreen(
                    state,
                    onRaise = holder::raise,
                    onAcknowledge = holder::acknowledge,
                    onRespond = holder::respond,
                    onResolve = holder::resolve,
                    onBack = { place = at.about?.let { Place.Detail(it) } ?: Place.Agreements },
                    onRenegotiate = holder::renegotiate,
                    onAboutNothing = holder::aboutNothingInParticular,
                )
            }
            Place.Checkin -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { CheckinHolder(current, scope) }
                val state by holder.state.collectAsState()
                CheckinScreen(
                    state,
                    onRecord = holder::record,
                    onBack = { place = Place.Agreements },
                    onRitual = holder::setRitual,
                    onStopRitual = holder::stopRitual,
                )
            }
            Place.Devices -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) {
                    DevicesHolder(
                        current, scope, settings,
                        restart = { mode ->
                            val reopened = spaces.reopen(current, mode)
                            onSpace(reopened)
                            core = reopened
                        },
                        deleteThisCopy = {
                            spaces.deleteThisCopy(current)
                            onLeft()
                            place = Place.Agreements
                            core = null
                        },
                    )
                }
                val state by holder.state.collectAsState()
                DevicesScreen(
                    state,
                    onUnpair = holder::unpair,
                    onNewRecoverySecret = holder::newRecoverySecret,
                    onSecretWrittenDown = holder::secretWrittenDown,
                    onEndPairing = holder::endPairing,
                    onInviteBack = { place = Place.Pairing(InviteRole.RETURNING_PARTNER) },
                    onAddDevice = { place = Place.Pairing(InviteRole.MY_DEVICE) },
                    onLeaveAndDelete = holder::leaveAndDelete,
                    onNetwork = holder::setNetwork,
                    onExport = holder::export,
                    onSyncNow = holder::syncNow,
                    onBack = { place = Place.Agreements },
                )
            }
            Place.Reminders -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { RemindersHolder(current, scope) }
                val state by holder.state.collectAsState()
                RemindersScreen(state, onDone = holder::done, onSnooze = holder::snooze, onBack = { place = Place.Agreements })
            }
            is Place.Pairing -> {
                val scope = rememberScreenScope(at to current)
                val holder = remember(scope) { PairingHolder(current, scope, at.role) }
                val state by holder.state.collectAsState()
                PairingScreen(
                    state,
                    onNewTicket = holder::newTicket,
                    onBack = { place = Place.Agreements },
                    returning = at.role == InviteRole.RETURNING_PARTNER,
                    mine = at.role == InviteRole.MY_DEVICE,
                    onConfirm = holder::confirm,
                )
            }
        }
    }
}

/** A scope for one screen's state holder, cancelled when the screen leaves the composition. */
@Composable
private fun rememberScreenScope(key: Any): CoroutineScope {
    val parent = rememberCoroutineScope()
    val scope = remember(key) {
        CoroutineScope(parent.coroutineContext + SupervisorJob(parent.coroutineContext.job))
    }
    DisposableEffect(scope) { onDispose { scope.cancel() } }
    return scope
}
