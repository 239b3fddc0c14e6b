/// A statement and its parameters, written as one string in which every interpolated value
/// becomes a `$n` parameter: `"SELECT id FROM release WHERE code = \(code)"` sends
/// `… WHERE code = $1` with `code` beside it (postgres-nio's `PostgresQuery` is the model).
///
/// There is no interpolation that pastes text: values are binds, `\(identifier:)` quotes a name
/// as PostgreSQL does, and `\(fragment)` splices another `SQL` (renumbering its parameters).
/// Text from elsewhere becomes SQL only through `SQL(unsafeSQL:)`, which says what it is.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement as sent, with `$1`, `$2` … where the values go.
    public private(set) var text: String
    /// The values, in the order of their `$n`.
    public private(set) var binds: [PostgresValue]

    public init(stringLiteral value: String) {
        text = value
        binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
    }

    /// Text that is SQL already (a whole statement chosen from constants, a migration), with the
    /// values of its own `$n` placeholders. Never text that holds a value someone typed.
    public init(unsafeSQL text: String, binds: [any PostgresEncodable] = []) {
        self.text = text
        self.binds = binds.map(\.postgresValue)
    }

    public var description: String { text }

    /// Joins two pieces; the second's parameters are renumbered after the first's.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var interpolation = StringInterpolation(literalCapacity: lhs.text.utf8.count + rhs.text.utf8.count, interpolationCount: 2)
        interpolation.appendInterpolation(lhs)
        interpolation.appendInterpolation(rhs)
        return SQL(stringInterpolation: interpolation)
    }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        public typealias StringLiteralType = String
        var text = ""
        var binds: [PostgresValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 3 * interpolationCount)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        /// A value: becomes the next `$n`.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            binds.append(value.postgresValue)
            text += "$\(binds.count)"
        }

        /// A name (a login, a role) where SQL wants an identifier, quoted as `PQescapeIdentifier`
        /// quotes it: in double quotes, each double quote doubled.
        public mutating func appendInterpolation(identifier: String) {
            text += SQL.quotedIdentifier(identifier)
        }

        /// Another piece of SQL, its `$n` renumbered after the parameters before it.
        public mutating func appendInterpolation(_ fragment: SQL) {
            guard !fragment.binds.isEmpty else {
                text += fragment.text
                return
            }
            text += SQL.renumbered(fragment.text, by: binds.count)
            binds += fragment.binds
        }
    }

    /// `name` as a quoted identifier (`"Ann ""the"" admin"`).
    public static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Shifts every `$n` outside quotes and comments by `offset`.
    static func renumbered(_ text: String, by offset: Int) -> String {
        guard offset > 0 else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var quote: Unicode.Scalar?
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                result.unicodeScalars.append(scalar)
                if scalar == open { quote = nil }
                index += 1
                continue
            }
            if scalar == "'" || scalar == "\"" {
                quote = scalar
            } else if scalar == "$", index + 1 < scalars.count, isDigit(scalars[index + 1]),
                      index == 0 || !isIdentifierPart(scalars[index - 1]) {
                var end = index + 1
                var number = 0
                while end < scalars.count, isDigit(scalars[end]) {
                    number = number * 10 + Int(scalars[end].value - 48)
                    end += 1
                }
                result += "$\(number + offset)"
                index = end
                continue
            }
            result.unicodeScalars.append(scalar)
            index += 1
        }
        return result
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    private static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || isDigit(scalar)
    }
}
