import Foundation
import Testing
@testable import ReleaseCore

@Suite("Codes")
struct CodeTests {
    @Test("Valid codes", arguments: [
        "CRM", "HR-PAY", "R-2027.03", "SW-2026-12-05", "a", "x_y", "1st", String(repeating: "A", count: 64),
        "LÖN", "Årsskifte-2027", "kärna", "lön.ä_ö-Å", "Зарплата-2027", "Μισθοί", "工资", "वेतन", "٣-rel",
        String(repeating: "ä", count: 64),
    ])
    func valid(code: String) throws {
        for kind in CodeKind.allCases {
            try kind.validate(code)
        }
    }

    @Test("Invalid codes say why", arguments: [
        ("", InvalidCode.Reason.empty),
        (String(repeating: "A", count: 65), .tooLong(length: 65)),
        ("-CRM", .badFirstCharacter("-")),
        (".hidden", .badFirstCharacter(".")),
        ("CRM/R1", .badCharacter("/")),
        ("CRM R1", .badCharacter(" ")),
        ("a;drop", .badCharacter(";")),
        ("LÖN X", .badCharacter(" ")),
        ("LÖN/Årsskifte", .badCharacter("/")),
        ("kärna'", .badCharacter("'")),
        ("kärna\"", .badCharacter("\"")),
        ("-lön", .badFirstCharacter("-")),
        ("lön\t", .badCharacter("\t")),
        ("lön\u{1B}[31m", .badCharacter("\u{1B}")),
        ("lön\u{200B}", .badCharacter("\u{200B}")),
        ("lön\u{00A0}x", .badCharacter("\u{00A0}")),
        ("pris€", .badCharacter("€")),
        (String(repeating: "ä", count: 65), .tooLong(length: 65)),
    ] as [(String, InvalidCode.Reason)])
    func invalid(code: String, reason: InvalidCode.Reason) {
        #expect(throws: InvalidCode(kind: .window, code: code, reason: reason)) { try CodeKind.window.validate(code) }
        #expect(!CodeKind.window.isValid(code))
    }

    @Test("Messages name the kind of code, and show invisible characters as U+XXXX")
    func message() {
        #expect(InvalidCode(kind: .environment, code: "TEST INT", reason: .badCharacter(" ")).description ==
            "environment code 'TEST INT' contains ' '; only letters, digits, '-', '_' and '.' are allowed")
        #expect(InvalidCode(kind: .group, code: "LÖN;", reason: .badCharacter(";")).description ==
            "group code 'LÖN;' contains ';'; only letters, digits, '-', '_' and '.' are allowed")
        #expect(InvalidCode(kind: .group, code: "L\u{1B}", reason: .badCharacter("\u{1B}")).description ==
            "group code 'L<U+001B>' contains U+001B; only letters, digits, '-', '_' and '.' are allowed")
    }

    @Test("A decomposed ä (a and U+0308, as macOS writes it) is the same code as the composed one, stored in NFC")
    func nfc() throws {
        let decomposed = "L\u{004F}\u{0308}N", composed = "L\u{00D6}N"
        #expect(decomposed.unicodeScalars.count == 4 && composed.unicodeScalars.count == 3)
        let stored = try CodeKind.group.validate(decomposed)
        #expect(Array(stored.utf8) == Array(composed.utf8))
        #expect(try CodeKind.group.validate(composed) == composed)
        #expect(CodeKind.canonical("ka\u{0308}rna").utf8.elementsEqual("kärna".utf8))
        let ref = try ReleaseRef(parsing: "L\u{004F}\u{0308}N/A\u{030A}rsskifte-2027")
        #expect(Array(ref.description.utf8) == Array("LÖN/Årsskifte-2027".utf8))
        // 64 decomposed ä are 128 scalars but 64 characters in NFC: accepted.
        #expect(CodeKind.plan.isValid(String(repeating: "a\u{0308}", count: 64)))
        // A combining mark with no composed form is not a letter on its own.
        #expect(!CodeKind.plan.isValid("q\u{0308}"))
    }

    @Test("Letters and digits of every script, as the database's [[:alnum:]] classifies them")
    func letters() {
        for scalar in ["å", "Ä", "ö", "ж", "λ", "中", "क", "ा", "٣", "०", "ß", "ǅ", "Ⅻ", "ª"] as [Unicode.Scalar] {
            #expect(CodeKind.isLetterOrDigit(scalar), "\(scalar)")
        }
        for scalar in ["€", "—", "\u{00A0}", "\u{200B}", "\u{0308}", "²", "_", "-", "/", "'", "\u{7F}"] as [Unicode.Scalar] {
            #expect(!CodeKind.isLetterOrDigit(scalar), "U+\(String(scalar.value, radix: 16))")
        }
    }
}

@Suite("Release references")
struct ReleaseRefTests {
    @Test("GROUP/CODE parses and prints back")
    func roundTrip() throws {
        let ref = try ReleaseRef(parsing: "CRM/R-2027.03")
        #expect(ref.group == "CRM" && ref.code == "R-2027.03")
        #expect(ref.description == "CRM/R-2027.03")
        #expect(try ReleaseRef(group: "HR", code: "PAY-7").description == "HR/PAY-7")
    }

    @Test("Malformed references say what is wrong")
    func errors() {
        #expect(throws: InvalidReleaseRef(text: "CRM", reason: .missingSlash)) { try ReleaseRef(parsing: "CRM") }
        #expect(throws: InvalidReleaseRef(text: "A/B/C", reason: .tooManySlashes)) { try ReleaseRef(parsing: "A/B/C") }
        #expect(throws: InvalidReleaseRef(text: "/R1", reason: .invalidCode(.init(kind: .group, code: "", reason: .empty)))) {
            try ReleaseRef(parsing: "/R1")
        }
        #expect(throws: InvalidReleaseRef(text: "CRM/", reason: .invalidCode(.init(kind: .release, code: "", reason: .empty)))) {
            try ReleaseRef(parsing: "CRM/")
        }
        #expect {
            try ReleaseRef(parsing: "CRM/R 1")
        } throws: { error in
            "\(error)" == "'CRM/R 1' is not a release reference: release code 'R 1' contains ' '; only letters, digits, '-', '_' and '.' are allowed"
        }
    }

    @Test("References sort by group, then code")
    func ordering() throws {
        let refs = try ["HR/A", "CRM/B", "CRM/A"].map { try ReleaseRef(parsing: $0) }
        #expect(refs.sorted().map(\.description) == ["CRM/A", "CRM/B", "HR/A"])
    }

    @Test("JSON is the GROUP/CODE string")
    func codable() throws {
        let ref = try ReleaseRef(parsing: "CRM/R1")
        let data = try JSONEncoder().encode([ref])
        #expect(String(decoding: data, as: UTF8.self) == #"["CRM\/R1"]"#)
        #expect(try JSONDecoder().decode([ReleaseRef].self, from: data) == [ref])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ReleaseRef].self, from: Data(#"["CRM"]"#.utf8)) }
    }
}

@Suite("Priorities")
struct PriorityTests {
    @Test("1 to 5, 3 by default, 1 the highest")
    func values() throws {
        #expect(Priority.default.value == 3)
        #expect(try Priority(parsing: " 2 ").value == 2)
        #expect(try Priority(1).isHigher(than: Priority(5)))
        #expect(Priority.highest < Priority.lowest)
        #expect(try [Priority(4), Priority(1), Priority(3)].sorted().map(\.value) == [1, 3, 4])
    }

    @Test("Out of range or not a number", arguments: ["0", "6", "-1", "", "two", "2.0", "03"])
    func refuses(text: String) {
        #expect(throws: InvalidPriority(text: text)) { try Priority(parsing: text) }
    }

    @Test("The message gives the range and the default")
    func message() {
        #expect(InvalidPriority(text: "9").description ==
            "priority '9' is not valid: use a whole number from 1 (highest) to 5 (lowest); 3 is the default")
        #expect(throws: InvalidPriority(text: "0")) { try Priority(0) }
    }
}

@Suite("Vocabularies")
struct VocabularyTests {
    @Test("Raw values are exactly the contract's words")
    func rawValues() {
        #expect(MemberRole.allCases.map(\.rawValue) == ["manager", "release-manager", "member", "viewer"])
        #expect(EnvironmentKind.allCases.map(\.rawValue) == ["dev", "test", "staging", "preprod", "prod"])
        #expect(WindowKind.allCases.map(\.rawValue) == ["regular", "extra"])
        #expect(BookingStatus.allCases.map(\.rawValue) == ["tentative", "confirmed"])
        #expect(DeviationSeverity.allCases.map(\.rawValue) == ["low", "medium", "high"])
        #expect(UnitKind.allCases.map(\.rawValue) == [
            "server", "application", "update", "virtual-server", "database", "network", "documentation", "training",
            "routine", "agreement",
        ])
        #expect(AutomaticCheck.allCases.map(\.rawValue) == ["test-booking-finished", "no-open-high-deviations", "all-units-versioned"])
        #expect(ReleaseActivity.allCases.map(\.rawValue) == ["plan", "build-and-test", "deploy", "evaluate-and-close"])
    }

    @Test("Parsing ignores case and spaces")
    func lenientParsing() throws {
        #expect(try UnitKind(parsing: " Virtual-Server") == .virtualServer)
        #expect(try MemberRole(parsing: "RELEASE-MANAGER") == .releaseManager)
        #expect(try EnvironmentKind(parsing: "prod") == .prod)
    }

    @Test("Unknown words list the allowed ones and suggest the nearest")
    func unknown() {
        #expect {
            try UnitKind(parsing: "aplication")
        } throws: { error in
            "\(error)" == "unknown unit kind 'aplication' (did you mean application?): use one of server, application, update, virtual-server, database, network, documentation, training, routine, agreement"
        }
        #expect(throws: UnknownWord(vocabulary: "window kind", word: "special", allowed: ["regular", "extra"])) {
            try WindowKind(parsing: "special")
        }
    }

    @Test("Severities order low < medium < high")
    func severityOrder() {
        #expect(DeviationSeverity.low < .medium && DeviationSeverity.medium < .high)
    }
}
