import Foundation
import Testing
import TestSupport

/// Help texts read well at any width: swift-argument-parser wraps paragraphs itself, so the
/// sources must not break lines inside them, and every command shows a real example.
@Suite("Help texts")
struct HelpTextTests {
    static let width = 80

    /// `relplan help <every command>`, found by walking the SUBCOMMANDS sections.
    static func allCommands() throws -> [[String]] {
        var found: [[String]] = []
        var queue: [[String]] = [[]]
        while !queue.isEmpty, found.count < 500 {
            let path = queue.removeFirst()
            found.append(path)
            for name in subcommands(of: try help(path)) where name != "help" { queue.append(path + [name]) }
        }
        return found
    }

    static func help(_ path: [String]) throws -> String {
        let result = try CLI.run(["help"] + path, environment: ["COLUMNS": String(width)])
        #expect(result.status == 0, "relplan help \(path.joined(separator: " ")): \(result)")
        return result.stdout
    }

    static func subcommands(of help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if line.isEmpty { break }   // then "See 'relplan help … <subcommand>'"
            // An entry: two spaces, the name, its abstract; a wrapped abstract is indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let name = line.dropFirst(2).prefix { $0 != " " }
            if !name.isEmpty { names.append(String(name.split(separator: " ").first ?? name)) }
        }
        return names
    }

    /// Lines shorter than half the width although the paragraph goes on: a hard break the
    /// parser wrapped again. A line ends a paragraph when the next one is blank, a new item
    /// (an option, an argument, a table row with a column gap, an example command) or a heading.
    static func raggedLines(in help: String) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        func startsItem(_ line: String) -> Bool {
            let text = line.drop { $0 == " " }
            return text.hasPrefix("-") || text.hasPrefix("<") || text.hasPrefix("relplan ") || text.hasPrefix("#")
                || text.contains("  ") || text.hasSuffix(":") || line.hasPrefix("USAGE:")
        }
        var ragged: [String] = []
        var inOverview = true   // the abstract and the discussion, before USAGE:
        for (index, line) in lines.enumerated() where index + 1 < lines.count {
            let next = lines[index + 1]
            if line.hasPrefix("USAGE:") { inOverview = false }
            // An indented line (an example) of the discussion that the parser had to wrap: its
            // rest starts at column 0.
            if inOverview, indent(line) >= 2, !next.isEmpty, indent(next) == 0 {
                ragged.append(line)
                continue
            }
            // An option or argument whose name is too long for the column: its help follows.
            if line.drop(while: { $0 == " " }).hasPrefix("-") || line.drop(while: { $0 == " " }).hasPrefix("<") { continue }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty, !next.trimmingCharacters(in: .whitespaces).isEmpty,
                  !startsItem(next), !line.hasSuffix(":"), indent(next) >= indent(line) else { continue }
            if line.count < width / 2 { ragged.append(line) }
        }
        return ragged
    }

    @Test("no line of any command's help is cut short inside a paragraph, at 80 columns")
    func noRaggedParagraphs() throws {
        let commands = try Self.allCommands()
        #expect(commands.count > 60, "walked only \(commands.count) commands")
        for path in commands {
            let help = try Self.help(path)
            let ragged = Self.raggedLines(in: help)
            #expect(ragged.isEmpty, "relplan help \(path.joined(separator: " ")) has lines cut short:\n\(ragged.joined(separator: "\n"))\n\n\(help)")
            let wide = help.split(separator: "\n").filter { $0.count > Self.width && !$0.hasPrefix("USAGE:") }
            #expect(wide.isEmpty, "relplan help \(path.joined(separator: " ")) has lines wider than \(Self.width):\n\(wide.joined(separator: "\n"))")
        }
    }

    @Test("every command's help has an example that names the command")
    func examples() throws {
        var leaves = 0
        for path in try Self.allCommands() where !path.isEmpty {
            let help = try Self.help(path)
            guard Self.subcommands(of: help).isEmpty else { continue }   // a group of commands
            leaves += 1
            let invocation = "relplan " + path.joined(separator: " ")
            let example = help.split(separator: "\n").contains { $0.drop { $0 == " " }.hasPrefix(invocation) }
            #expect(help.contains("Example") && example, "relplan help \(path.joined(separator: " ")) shows no example:\n\(help)")
        }
        // A walk that found no commands would check nothing.
        #expect(leaves > 40, "only \(leaves) commands checked")
    }

    @Test("the check finds a hard break: a paragraph cut short is reported, a finished one is not")
    func checkCanFail() {
        let broken = "OVERVIEW: x\n\nThis paragraph was broken\nby hand in the source, and the parser wrapped it again as it went on.\n"
        #expect(Self.raggedLines(in: broken) == ["This paragraph was broken"])
        let fine = "OVERVIEW: x\n\nA short paragraph.\n\nExamples:\n  relplan conflicts\n  relplan conflicts --exit-code\n"
        #expect(Self.raggedLines(in: fine).isEmpty)
        let wrappedExample = "OVERVIEW: x\n\nExample:\n  relplan window generate --prefix SW\n--start-time 22:00\n"
        #expect(Self.raggedLines(in: wrappedExample) == ["  relplan window generate --prefix SW"])
    }
}
