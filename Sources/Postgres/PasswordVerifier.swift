import CLibPQ

extension Connection {
    /// The SCRAM-SHA-256 verifier of `password` for `user`, computed here with libpq's
    /// `PQencryptPasswordConn`, as psql's `\password` does: a password is set by sending only this
    /// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), never the password itself,
    /// which `log_statement = 'all'` would write to the server log.
    public func scramVerifier(password: String, user: String) throws -> String {
        let handle = try requireHandle(nil)
        guard let encrypted = PQencryptPasswordConn(handle, password, user, "scram-sha-256") else {
            let message = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
            throw PostgresError(kind: .client, message: "cannot compute the password verifier: \(message)")
        }
        defer { PQfreemem(encrypted) }
        let verifier = String(cString: encrypted)
        guard Self.isSCRAMVerifier(verifier) else {
            throw PostgresError(kind: .client, message: "libpq returned an unexpected password verifier")
        }
        return verifier
    }

    /// Whether `text` has the shape of a SCRAM-SHA-256 verifier: only base64 characters, digits
    /// and the separators, so it can never carry a password or a quote.
    public static func isSCRAMVerifier(_ text: String) -> Bool {
        let prefix = "SCRAM-SHA-256$"
        guard text.hasPrefix(prefix) else { return false }
        let parts = text.dropFirst(prefix.count).split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let head = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        let keys = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        func base64(_ s: Substring) -> Bool {
            !s.isEmpty && s.utf8.allSatisfy { b in
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                    || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
            }
        }
        return head.count == 2 && !head[0].isEmpty && head[0].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            && base64(head[1]) && keys.count == 2 && base64(keys[0]) && base64(keys[1])
    }
}
