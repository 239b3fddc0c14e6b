import Foundation

/// The abbreviations people know a zone's times by (`CET`, `CEST`), for the calendar's
/// `TZNAME`. Foundation on Linux answers `GMT+1`; the zone database says `CET`.
public struct ZoneAbbreviations: Sendable, Equatable {
    public var standard: String
    /// nil for a zone without summer time.
    public var daylight: String?

    public init(standard: String, daylight: String?) {
        self.standard = standard
        self.daylight = daylight
    }

    public func name(daylight isDaylight: Bool) -> String {
        isDaylight ? daylight ?? standard : standard
    }

    /// The names of the zone's current rule, read from the footer of its TZif file (RFC 8536
    /// §3.3: a POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3`) under `TZDIR`, else
    /// /usr/share/zoneinfo. nil when there is no such file or it says only numbers (`<+03>-3`).
    public static func system(for zone: TimeZone, environment: [String: String] = ProcessInfo.processInfo.environment) -> ZoneAbbreviations? {
        let identifier = zone.identifier
        guard !identifier.contains(".."), !identifier.hasPrefix("/") else { return nil }
        let folder = environment["TZDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/zoneinfo"
        guard let data = FileManager.default.contents(atPath: folder + "/" + identifier), data.starts(with: Array("TZif".utf8)),
              data.count > 5, data[data.startIndex + 4] >= UInt8(ascii: "2") else { return nil }
        // The footer is the last line: between the last two newlines.
        let bytes = [UInt8](data)
        guard bytes.last == 0x0A, let open = bytes.dropLast().lastIndex(of: 0x0A) else { return nil }
        return parse(posixTZ: String(decoding: bytes[(open + 1)..<(bytes.count - 1)], as: UTF8.self))
    }

    /// `CET-1CEST,M3.5.0,M10.5.0/3` → CET, CEST; `JST-9` → JST; `<+03>-3` → nil (numbers only).
    static func parse(posixTZ text: String) -> ZoneAbbreviations? {
        var rest = Substring(text)
        func name() -> String? {
            if rest.first == "<" {
                guard let close = rest.firstIndex(of: ">") else { return nil }
                let quoted = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                return String(quoted)
            }
            let letters = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(letters.count)
            return letters.count >= 3 ? String(letters) : nil
        }
        guard let standard = name() else { return nil }
        rest = rest.drop { $0 == "+" || $0 == "-" || $0.isNumber || $0 == ":" }
        let daylight = rest.isEmpty || rest.first == "," ? nil : name()
        func isWord(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { CharacterSet.letters.contains($0) } }
        guard isWord(standard) else { return nil }
        return ZoneAbbreviations(standard: standard, daylight: daylight.flatMap { isWord($0) ? $0 : nil })
    }
}
