/// A five-character SQLSTATE the server reports (`23505`, `40001` …), with names for the ones
/// relplan acts on, so code says `.uniqueViolation` instead of comparing strings.
///
/// Matches in `switch` and `catch … where` by value (`case .uniqueViolation:`) and by class
/// (`case SQLState.Class.integrityConstraintViolation:`); a literal (`"23505"`) is a state too.
public struct SQLState: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public var description: String { rawValue }

    /// The first two characters: the class every state of a kind shares (`23` integrity constraints).
    public var `class`: Class { Class(rawValue: String(rawValue.prefix(2))) }

    /// The class of a state, for matching a whole family (`22` data exceptions, `23` constraints).
    public struct Class: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let dataException = Class(rawValue: "22")
        public static let integrityConstraintViolation = Class(rawValue: "23")
        public static let invalidTransactionState = Class(rawValue: "25")
        public static let transactionRollback = Class(rawValue: "40")
        public static let syntaxErrorOrAccessRuleViolation = Class(rawValue: "42")
        public static let insufficientResources = Class(rawValue: "53")
        public static let objectNotInPrerequisiteState = Class(rawValue: "55")
        public static let operatorIntervention = Class(rawValue: "57")

        /// `case SQLState.Class.dataException:` against a state.
        public static func ~= (pattern: Class, value: SQLState?) -> Bool { value?.class == pattern }
    }

    // Class 22 and 23: the data is wrong.
    /// Also "cached plan must not change result type": a prepared statement outlived its table's shape.
    public static let featureNotSupported: SQLState = "0A000"
    public static let invalidParameterValue: SQLState = "22023"
    public static let notNullViolation: SQLState = "23502"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let uniqueViolation: SQLState = "23505"
    public static let checkViolation: SQLState = "23514"
    public static let exclusionViolation: SQLState = "23P01"
    // Class 25: the transaction cannot do it.
    public static let readOnlySQLTransaction: SQLState = "25006"
    public static let inFailedSQLTransaction: SQLState = "25P02"
    // Class 40: the transaction was rolled back and may be run again.
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    // Class 42: the statement or its privileges.
    public static let insufficientPrivilege: SQLState = "42501"
    public static let syntaxError: SQLState = "42601"
    public static let undefinedTable: SQLState = "42P01"
    public static let undefinedObject: SQLState = "42704"
    // Class 53, 55 and 57: the server cannot now.
    public static let tooManyConnections: SQLState = "53300"
    public static let lockNotAvailable: SQLState = "55P03"
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let crashShutdown: SQLState = "57P02"
    public static let cannotConnectNow: SQLState = "57P03"
    // Class P0: PL/pgSQL's RAISE EXCEPTION without a state of its own.
    public static let raiseException: SQLState = "P0001"
}
