import Foundation
import Testing
import TestSupport

/// Kinds, roles and statuses are enum options: read as the option is parsed, whatever their case,
/// and a word outside the vocabulary is the usage error it always was (ReleaseCore's message with
/// its did-you-mean, exit 64), not ArgumentParser's, and nothing connects.
@Suite("Enum options")
struct WordOptionTests {
    /// Nothing listens on port 1: a command that got past parsing exits 69.
    static let nowhere = ["RELPLAN_DATABASE_URL": "host=127.0.0.1 port=1 connect_timeout=2"]

    @Test("a word outside its vocabulary: exit 64, one line naming the option, with did-you-mean")
    func unknownWord() throws {
        let unit = try CLI.run(["unit", "add", "CRM/R1", "core", "crm-api", "--kind", "aplication", "--target", "srv-crm-01"],
                               environment: Self.nowhere)
        #expect(unit.status == 64, "\(unit)")
        #expect(unit.stderr.hasPrefix("relplan: --kind: unknown unit kind 'aplication' (did you mean application?)"), "\(unit)")
        #expect(unit.stderr.split(separator: "\n").count == 1, "no usage text: \(unit)")
        let status = try CLI.run(["release", "list", "--status", "planed"], environment: Self.nowhere)
        #expect(status.status == 64 && status.stderr.hasPrefix("relplan: --status: unknown release status 'planed' (did you mean planned?)"),
                "\(status)")
        let role = try CLI.run(["member", "add", "CRM", "alice", "--role", "maneger"], environment: Self.nowhere)
        #expect(role.status == 64 && role.stderr.hasPrefix("relplan: --role: unknown member role 'maneger'"), "\(role)")
    }

    @Test("a word in any case is accepted: the command goes on to connect")
    func anyCase() throws {
        let env = try CLI.run(["env", "create", "PROD", "--name", "Production", "--kind", "Prod"], environment: Self.nowhere)
        #expect(env.status == 69, "\(env)")
        let severity = try CLI.run(["deviation", "add", "CRM/R1", "--severity", "HIGH", "--text", "x"], environment: Self.nowhere)
        #expect(severity.status == 69, "\(severity)")
    }
}
