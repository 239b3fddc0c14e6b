import Foundation

/// How to read an import file.
public struct ImportOptions: Sendable {
    /// The group of rows that leave the group empty (`--group`); a row's own group wins.
    public var defaultGroup: String?
    /// The zone of timestamps without an offset and of deadlines (`--tz`, else `TZ`, else UTC).
    public var timeZone: TimeZone
    /// Header mapping, formats, delimiter and encoding for foreign exports.
    public var mapping: ImportMapping
    /// Overrides the mapping's delimiter and the detection.
    public var delimiter: UInt8?
    /// Overrides the mapping's encoding; UTF-8 when neither says.
    public var encoding: ImportEncoding?
    /// Codes known to exist, checked with "did you mean" suggestions; nil skips the check.
    public var knownCodes: KnownCodes
    /// At most this many issues are kept; the rest are only counted.
    public var maximumIssues: Int
    /// Approximate size of the COPY chunks handed out.
    public var chunkSize: Int
    /// Bytes per read from the file.
    public var readSize: Int
    /// Rows between progress reports.
    public var progressInterval: Int

    public init(
        defaultGroup: String? = nil, timeZone: TimeZone = .gmt, mapping: ImportMapping = ImportMapping(),
        delimiter: UInt8? = nil, encoding: ImportEncoding? = nil, knownCodes: KnownCodes = KnownCodes(),
        maximumIssues: Int = 1000, chunkSize: Int = 1 << 20, readSize: Int = 1 << 20,
        progressInterval: Int = 100_000
    ) {
        self.defaultGroup = defaultGroup
        self.timeZone = timeZone
        self.mapping = mapping
        self.delimiter = delimiter
        self.encoding = encoding
        self.knownCodes = knownCodes
        self.maximumIssues = maximumIssues
        self.chunkSize = chunkSize
        self.readSize = readSize
        self.progressInterval = progressInterval
    }
}

/// Codes the database already has, so that a typo gets "did you mean" at validation time
/// instead of a foreign-key error at merge time. A nil set is not checked.
public struct KnownCodes: Sendable {
    public var groups: Set<String>?
    public var windows: Set<String>?
    public var environments: Set<String>?
    public var unitKinds: Set<String>?

    public init(
        groups: Set<String>? = nil, windows: Set<String>? = nil, environments: Set<String>? = nil,
        unitKinds: Set<String>? = nil
    ) {
        self.groups = groups
        self.windows = windows
        self.environments = environments
        self.unitKinds = unitKinds
    }
}

/// How far a run has come, for a progress line.
public struct ImportProgress: Sendable, Hashable {
    /// Data rows read so far (blank rows and the header not counted).
    public var rowsRead: Int
    public var bytesRead: Int
    /// The file's size, when it is a regular file.
    public var totalBytes: Int?

    /// 0...1 when the size is known.
    public var fraction: Double? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return min(1, Double(bytesRead) / Double(totalBytes))
    }
}
