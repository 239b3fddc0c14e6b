import Postgres
import Testing
import TestSupport

@Suite("SCRAM verifiers computed by libpq")
struct PasswordVerifierTests {
    @Test("PQencryptPasswordConn gives a SCRAM-SHA-256 verifier that never holds the password, salted per call")
    func verifier() throws {
        let database = try TestDatabase.empty()
        defer { database.drop() }
        let db = try database.connect()
        let password = "correct horse 'battery' $staple\\"
        let first = try db.scramVerifier(password: password, user: "alice")
        let second = try db.scramVerifier(password: password, user: "alice")
        #expect(first.hasPrefix("SCRAM-SHA-256$4096:"), "\(first)")
        #expect(Connection.isSCRAMVerifier(first) && Connection.isSCRAMVerifier(second))
        #expect(first != second, "a fresh salt every time")
        #expect(!first.contains(password) && !first.contains("'"))
        // The server reads it as a verifier: a role created with it stores exactly it.
        let role = TestDatabase.uniqueRoleName("verifier")
        try db.execute("CREATE ROLE \"\(role)\" LOGIN PASSWORD '\(first)'", simple: true)
        defer { _ = try? db.execute("DROP ROLE IF EXISTS \"\(role)\"", simple: true) }
        let stored = try db.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]).first?.decode(String.self)
        #expect(stored == first)
    }

    @Test("the shape check refuses anything that is not a verifier")
    func shape() {
        for bad in ["hunter2", "SCRAM-SHA-256$", "SCRAM-SHA-256$4096:c2FsdA==$a:b'", "md5abcdef", "SCRAM-SHA-256$x:c2FsdA==$a:b",
                    "SCRAM-SHA-256$4096:c2FsdA==$a", "SCRAM-SHA-256$4096:c2FsdA==$a:b:c", "SCRAM-SHA-256$4096:$a:b"] {
            #expect(!Connection.isSCRAMVerifier(bad), "\(bad)")
        }
        #expect(Connection.isSCRAMVerifier("SCRAM-SHA-256$4096:c2FsdA==$YWJj+/=:ZGVm"))
    }
}
