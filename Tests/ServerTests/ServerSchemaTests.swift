import Foundation
import Testing
import TestSupport

/// The OpenAPI document against tools nobody on the project wrote: openapi-spec-validator reads
/// it as OpenAPI 3.1, and schemathesis sends generated requests (bad input included) to a
/// running server: no 5xx, and every answer as the document says (status, type, body, headers).
@Suite("The server's OpenAPI document", .serialized)
struct ServerSchemaTests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../openapi.yaml").standardized.path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-schema-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test("the document is valid OpenAPI 3.1 and the server serves it as it is in the repository")
    func valid() throws {
        let check = try Self.run(["python3", "-c", """
            import sys, yaml
            from openapi_spec_validator import validate
            from openapi_spec_validator.readers import read_from_filename
            spec, _ = read_from_filename(sys.argv[1])
            validate(spec)
            assert spec["openapi"].startswith("3.1"), spec["openapi"]
            print(len(spec["paths"]))
            """, Self.document])
        #expect(check.status == 0, "\(check.output) (scripts/lib.sh ensure_test_tools installs openapi-spec-validator)")
        #expect(Int(check.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 14, "\(check.output)")

        let f = try PlanningFixture.make(people: ["alice"])
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let served = try server.request("GET", "/openapi.yaml")
        let file = try String(contentsOfFile: Self.document, encoding: .utf8)
        #expect(served.body.trimmingCharacters(in: .newlines) == file.trimmingCharacters(in: .newlines))
    }

    @Test("schemathesis: thousands of generated requests, bad input included, as a release manager: no 5xx, every answer as documented")
    func schemathesis() throws {
        let f = try PlanningFixture.make(people: ["bob"])
        defer { f.drop() }
        for arguments in [["group", "create", "HR", "--name", "HR"], ["member", "add", "HR", f.login("bob"), "--role", "release-manager"],
                          ["window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
                           "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "1"]] {
            #expect(try f.run("admin", arguments).status == 0)
        }
        #expect(try f.run("bob", "plan", "create", "HR", "PAY", "--title", "Lön").status == 0)
        #expect(try f.run("bob", "release", "create", "HR", "PAY-7", "--plan", "PAY", "--window", "SW-2030-03-09").status == 0)
        let admin = try f.database.connect()
        try admin.execute("ALTER ROLE \"\(f.login("bob"))\" PASSWORD 'pw-bob'; GRANT relplan_password_login TO \"\(f.login("bob"))\"", simple: true)
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let run = try Self.run([
            "schemathesis", "run", Self.document, "--url", "http://127.0.0.1:\(server.port)", "--auth", "\(f.login("bob")):pw-bob",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method",
            "--max-examples", "20", "--seed", "18", "--workers", "1", "--max-time", "100", "--no-color", "--warnings", "off",
        ])
        let summary = run.output.split(separator: "\n").last { $0.contains("generated") }.map(String.init) ?? ""
        let generated = summary.split(separator: " ").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        #expect(run.status == 0, "\(run.output.suffix(6000)) (scripts/lib.sh ensure_test_tools installs schemathesis)")
        #expect(generated >= 1000, "only \(generated) requests: \(summary)")
        #expect(!server.log.contains("pw-bob"))
    }
}
