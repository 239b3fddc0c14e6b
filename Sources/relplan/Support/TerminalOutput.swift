import Foundation
import Reporting

// Everything relplan prints goes through Reporting's `TerminalText.safe`: a control character
// stored in the database (before migration 0013, or by a superuser) reaches the terminal as
// `\u{1B}`, never raw. This `print` shadows the standard library's for the whole module, so no
// command can forget it; CSV's CRLF record ends and JSON (already escaped) pass unchanged.

func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    emit(items.map { "\($0)" }.joined(separator: separator) + terminator)
}

/// Writes `text` to stdout, neutralised.
func emit(_ text: String) {
    Swift.print(TerminalText.safe(text), terminator: "")
}

/// Writes `text` to stderr, neutralised.
func emitError(_ text: String) {
    FileHandle.standardError.write(Data(TerminalText.safe(text).utf8))
}
