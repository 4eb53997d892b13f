import Foundation

extension SpaceInfo {
    /// Partner names by id, for "Accepted by Alex and Sam" and the like.
    public var names: [PartnerId: String] {
        Dictionary(partners.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// This device's partner's time zone (new rhythms are in it); UTC if unknown.
    public var myZone: String { partners.first { $0.id == me }?.timeZone ?? "UTC" }
}
