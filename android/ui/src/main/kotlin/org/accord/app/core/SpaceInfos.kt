package org.accord.app.core

import org.accord.core.PartnerId
import org.accord.core.SpaceInfo

/** Partner names by id, for "Accepted by Alex and Sam" and the like. */
val SpaceInfo.names: Map<PartnerId, String> get() = partners.associate { it.id to it.name }

/** This device's partner's time zone (new rhythms are in it); UTC if unknown. */
val SpaceInfo.myZone: String get() = partners.firstOrNull { it.id == me }?.timeZone ?: "UTC"
