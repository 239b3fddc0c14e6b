import Foundation

/// Just enough of multipart/form-data (RFC 7578) for the import form: named parts, a file's
/// bytes kept as sent (a CSV may be cp1252).
enum Multipart {
    struct Part {
        var name: String
        var filename: String?
        var body: Data
    }

    /// The `boundary` parameter of a Content-Type, unquoted.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            return value.isEmpty || value.count > 70 ? nil : value
        }
        return nil
    }

    /// The parts between `--boundary` lines; malformed parts are left out.
    static func parts(_ data: Data, boundary: String) -> [Part] {
        let bytes = [UInt8](data)
        let delimiter = [UInt8]("--\(boundary)".utf8)
        var starts: [Int] = []
        var i = 0
        while let found = find(delimiter, in: bytes, from: i) {
            starts.append(found)
            i = found + delimiter.count
        }
        var parts: [Part] = []
        for (index, start) in starts.enumerated() where index + 1 < starts.count {
            var from = start + delimiter.count
            // The delimiter line ends in CRLF; the part ends in CRLF before the next delimiter.
            guard from + 2 <= bytes.count, bytes[from] == 13, bytes[from + 1] == 10 else { continue }
            from += 2
            var to = starts[index + 1]
            if to - 2 >= from, bytes[to - 2] == 13, bytes[to - 1] == 10 { to -= 2 }
            guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: from), headerEnd <= to else { continue }
            let headers = String(decoding: bytes[from..<headerEnd], as: UTF8.self)
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                  let name = parameter("name", in: String(disposition)) else { continue }
            parts.append(Part(name: name, filename: parameter("filename", in: String(disposition)), body: Data(bytes[(headerEnd + 4)..<to])))
        }
        return parts
    }

    /// `name="value"` in a Content-Disposition line.
    static func parameter(_ name: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            let value = pair[1]
            return value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? String(value.dropFirst().dropLast()) : value
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        let first = needle[0]
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
