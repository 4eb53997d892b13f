import Foundation
import Security
import AccordKit

/// Device keys in the Keychain: this device only (never in a backup or on a new phone), readable
/// after the first unlock (background refresh needs the key while the phone is locked).
final class KeychainKeyStore: DeviceKeyStore, @unchecked Sendable {
    static let shared = KeychainKeyStore()
    private let service = "org.accord.device-key"

    private func query(_ label: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword,
         kSecAttrService as String: service,
         kSecAttrAccount as String: label]
    }

    func load(label: String) -> Data? {
        var q = query(label)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        guard SecItemCopyMatching(q as CFDictionary, &item) == errSecSuccess else { return nil }
        return item as? Data
    }

    func store(label: String, key: Data) -> Bool {
        SecItemDelete(query(label) as CFDictionary)
        var q = query(label)
        q[kSecValueData as String] = key
        q[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        return SecItemAdd(q as CFDictionary, nil) == errSecSuccess
    }

    /// Deletes a space's key (the last step of leaving).
    func remove(label: String) {
        SecItemDelete(query(label) as CFDictionary)
    }
}
