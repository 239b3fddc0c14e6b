import ReleaseCore

/// Text on its way to a terminal. Input refuses control characters (ReleaseCore's `TextRules`),
/// but rows written before migration 0013, or by a superuser, may still hold them, and an
/// ESC/OSC/BEL sequence in a title would recolour, retitle or beep every viewer's terminal.
/// So every table and text the CLI prints passes through `safe`: each control character
/// (U+0000–U+001F, U+007F, U+0080–U+009F) other than a line feed, or a CR directly before one,
/// is shown as `\u{1B}`, visible and inert. JSON is escaped by its encoder and passes unchanged.
public enum TerminalText {
    public static func safe(_ text: String) -> String {
        guard needsWork(text) else { return text }
        var output = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            let value = scalar.value
            let keep = !TextRules.isControl(value) || value == 0x0A
                || (value == 0x0D && index + 1 < scalars.count && scalars[index + 1] == "\n")
            if keep {
                output.append(scalar)
            } else {
                output.append(contentsOf: "\\u{\(String(value, radix: 16, uppercase: true))}".unicodeScalars)
            }
        }
        return String(output)
    }

    /// Whether `text` holds anything `safe` changes; a byte scan, so clean text costs little.
    static func needsWork(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if (byte < 0x20 && byte != 0x0A && byte != 0x0D) || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                return true
            }
            if previous == 0x0D && byte != 0x0A { return true }
            previous = byte
        }
        return previous == 0x0D
    }
}
