import Foundation

/// The character encoding of an import file.
public enum ImportEncoding: String, Sendable, CaseIterable {
    /// UTF-8, with or without a byte-order mark: the default and what DESIGN.md asks for.
    case utf8 = "utf-8"
    /// Windows-1252 ("ANSI" in Excel on Western European Windows), converted to UTF-8 on
    /// reading. Only on request: a file that merely looks like it is refused.
    case windows1252 = "windows-1252"

    /// Accepts the common spellings (`UTF8`, `cp1252`, `ansi`, `latin1`...).
    public init?(name: String) {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "cp-1252", "windows1252", "ansi", "latin1", "latin-1",
             "iso-8859-1", "iso8859-1":
            self = .windows1252
        default: return nil
        }
    }
}

// MARK: - UTF-8

enum UTF8Validation {
    /// One pass over a record: whether every byte is ASCII and whether a NUL is present.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> (isASCII: Bool, hasNUL: Bool) {
        guard let base = bytes.baseAddress else { return (true, false) }
        let count = bytes.count
        var high: UInt64 = 0
        var zero: UInt64 = 0
        var index = 0
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            high |= word
            zero |= (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            index += 8
        }
        var tailHigh: UInt8 = 0
        var tailZero = false
        while index < count {
            tailHigh |= base[index]
            if base[index] == 0 { tailZero = true }
            index += 1
        }
        let isASCII = high & 0x8080_8080_8080_8080 == 0 && tailHigh & 0x80 == 0
        // The zero-byte trick can report a false zero only next to a byte >= 0x80; recheck.
        var hasNUL = tailZero
        if !hasNUL && zero != 0 {
            hasNUL = firstNUL(bytes) != nil
        }
        return (isASCII, hasNUL)
    }

    static func firstNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        bytes.firstIndex(of: 0)
    }

    /// Offset of the first byte that does not start a valid UTF-8 sequence, or nil.
    static func firstInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            let length = sequenceLength(bytes, at: index)
            if length == 0 { return index }
            index += length
        }
        return nil
    }

    /// Length of the valid UTF-8 sequence starting at `index` (1...4), or 0 when the bytes
    /// there are not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF too).
    static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return 0 }
        for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
            return 0
        }
        return length
    }
}

// MARK: - Windows-1252

enum Windows1252 {
    /// Unicode scalars of 0x80...0x9F; the five unassigned bytes map to the C1 controls,
    /// as the WHATWG Encoding Standard does.
    static let high: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    static func scalar(_ byte: UInt8) -> UInt32 {
        (0x80...0x9F).contains(byte) ? high[Int(byte - 0x80)] : UInt32(byte)
    }

    static func isAssigned(_ byte: UInt8) -> Bool {
        ![0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(byte)
    }

    /// Appends `bytes` converted to UTF-8.
    static func convert(_ bytes: UnsafeBufferPointer<UInt8>, into output: ByteBuffer) {
        output.reserve(bytes.count * 3)
        for byte in bytes {
            if byte < 0x80 {
                output.append(byte)
                continue
            }
            let value = scalar(byte)
            if value < 0x800 {
                output.append(UInt8(0xC0 | (value >> 6)))
                output.append(UInt8(0x80 | (value & 0x3F)))
            } else {
                output.append(UInt8(0xE0 | (value >> 12)))
                output.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
                output.append(UInt8(0x80 | (value & 0x3F)))
            }
        }
    }

    /// Whether bytes that failed as UTF-8 read plausibly as Windows-1252: every high byte
    /// assigned there, and most of them letters or typographic punctuation standing alone
    /// (UTF-8 would have them in runs of two to four).
    static func looksLikeWindows1252(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var highBytes = 0
        var plausible = 0
        for (index, byte) in bytes.enumerated() where byte >= 0x80 {
            guard isAssigned(byte) else { return false }
            highBytes += 1
            let previousIsHigh = index > 0 && bytes[index - 1] >= 0x80
            let nextIsHigh = index + 1 < bytes.count && bytes[index + 1] >= 0x80
            let isLetter = byte >= 0xC0 && byte != 0xD7 && byte != 0xF7
            let isPunctuation = [0x80, 0x85, 0x91, 0x92, 0x93, 0x94, 0x96, 0x97, 0xA0, 0xA7, 0xB0, 0xB4]
                .contains(byte)
            if (isLetter || isPunctuation) && !(previousIsHigh && nextIsHigh) { plausible += 1 }
        }
        return highBytes > 0 && plausible * 2 >= highBytes
    }
}

// MARK: - File signatures

/// Recognises files that are not text, so a wrongly chosen file is refused at once with a
/// name for what it is, instead of a thousand row errors.
enum FileSignature {
    static func identify(_ prefix: UnsafeBufferPointer<UInt8>) -> String? {
        func starts(with signature: [UInt8]) -> Bool {
            prefix.count >= signature.count && zip(prefix, signature).allSatisfy { $0 == $1 }
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "a PNG image" }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if starts(with: Array("GIF8".utf8)) { return "a GIF image" }
        if starts(with: Array("%PDF-".utf8)) { return "a PDF document" }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return "a ZIP archive (an Excel .xlsx or OpenDocument workbook is one): export the sheet as CSV"
        }
        if starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            return "an old Excel .xls workbook: export the sheet as CSV"
        }
        if starts(with: [0x1F, 0x8B]) { return "a gzip archive: decompress it first" }
        if starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return "an executable (ELF)" }
        if starts(with: [0xFF, 0xFE]) || starts(with: [0xFE, 0xFF]) {
            return "UTF-16 text: save it as UTF-8 (in Excel: \"CSV UTF-8\")"
        }
        // No signature: binary when control characters other than tab and line breaks are
        // common, as in UTF-16 without a byte-order mark or any compressed data.
        var controls = 0
        for byte in prefix where byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
            controls += 1
        }
        if prefix.count >= 16, controls * 10 > prefix.count { return "a binary file" }
        return nil
    }
}
