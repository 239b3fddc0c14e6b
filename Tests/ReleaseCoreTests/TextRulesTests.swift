import Testing
@testable import ReleaseCore

@Suite("Text limits and the control-character rule")
struct TextRulesTests {
    @Test("every kind takes its limit and refuses one character more, counted in Unicode scalars")
    func limits() throws {
        for field in TextField.allCases {
            let fits = String(repeating: "å", count: field.maximumLength)
            #expect(try TextRules.checked(fits, as: field) == fits)
            #expect(throws: TextProblem.tooLong(field: field, length: field.maximumLength + 1)) {
                try TextRules.checked(fits + "x", as: field)
            }
        }
        #expect(TextField.title.maximumLength == 200 && TextField.evaluation.maximumLength == 10000)
        #expect(TextField.version.maximumLength == 64 && TextField.reason.maximumLength == 2000)
    }

    @Test("C0, DEL and C1 controls are refused everywhere; line feeds only in multi-line kinds")
    func controls() throws {
        var refused = 0
        for field in TextField.allCases {
            for value in Array(0x01...0x1F) + Array(0x7F...0x9F) {
                guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
                let text = "ab" + String(Character(scalar)) + "c"
                if value == 0x0A && field.allowsLineBreaks {
                    #expect(try TextRules.checked(text, as: field) == text)
                    continue
                }
                if value == 0x0D && field.allowsLineBreaks { continue }  // a lone CR: below
                #expect(throws: TextProblem.controlCharacter(field: field, scalar: UInt32(value), position: 3)) {
                    try TextRules.checked(text, as: field)
                }
                refused += 1
            }
        }
        #expect(refused > 400)
        #expect(try TextRules.checked("March\r\nrelease", as: .title) == "March\nrelease")
        #expect(throws: TextProblem.controlCharacter(field: .title, scalar: 0x0D, position: 6)) {
            try TextRules.checked("March\rrelease", as: .title)
        }
        #expect(throws: TextProblem.controlCharacter(field: .name, scalar: 0x0D, position: 2)) {
            try TextRules.checked("a\r\nb", as: .name)
        }
        #expect(throws: TextProblem.controlCharacter(field: .title, scalar: 0x09, position: 2)) {
            try TextRules.checked("a\tb", as: .title)
        }
        // Printable look-alikes stay allowed: NBSP, the replacement character, =+-@ first.
        for ok in ["a\u{A0}b", "\u{FFFD}", "=SUM(A1)", "+1", "-x", "@me", "Räksmörgås 🦐"] {
            #expect(try TextRules.checked(ok, as: .title) == ok)
        }
    }

    @Test("the message names the kind, the limit or the character and where it is")
    func messages() {
        #expect(TextProblem.tooLong(field: .title, length: 201).description
            == "a title is at most 200 characters long (this one has 201)")
        #expect(TextProblem.controlCharacter(field: .title, scalar: 0x1B, position: 4).description
            == "a title may not hold control characters other than line breaks: U+001B (escape) at character 4")
        #expect(TextProblem.controlCharacter(field: .version, scalar: 0x9B, position: 1).description
            == "a version may not hold control characters: U+009B (CSI) at character 1")
    }
}
