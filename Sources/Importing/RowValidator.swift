import Foundation
import ReleaseCore

/// Checks one record against the rules of the import format and collects every problem of
/// the row, each with the row's line and the field as the file names it.
///
/// Works on bytes: no `String` is made for a valid row, so validation keeps up with the
/// reader. Release and plan values given by several rows are checked against each other
/// through `ConsistencyTable`s, whose memory grows with releases and plans, not rows. An
/// empty cell means "not given": rows may each give part of a release, and only two
/// different non-empty values conflict. (Units and bookings, which grow with rows, are
/// left to the merge, which sees the staging table whole.)
struct RowValidator {
    let fileName: String
    let layout: ColumnLayout
    private var parser: TimestampParser
    private let defaultGroup: ByteBuffer?
    private let known: KnownCodes

    private(set) var row = ValidatedRow()
    private(set) var issues: [ImportIssue] = []
    private(set) var releaseInfos: [ReleaseInfo] = []

    private var releases = ConsistencyTable(slotCount: ReleaseSlot.count)
    private var plans = ConsistencyTable(slotCount: 2)
    private let keyScratch = ByteBuffer(capacity: 256)
    /// The NFC forms of the row's codes that were not in NFC; reserved per row for three times
    /// the record's bytes (NFC at most triples UTF-8), so spans into it stay valid for the row.
    private let normalized = ByteBuffer(capacity: 1024)
    /// The last text parsed per field and its value: rows of a release repeat timestamps.
    private var instantMemos = [InstantMemo](repeating: InstantMemo(), count: ImportField.allCases.count)
    private var hashScratch: [UInt64] = []
    private var releaseValues = [UInt64](repeating: 0, count: ReleaseSlot.count)
    private var lastChecked = RepeatedCells()
    private var lastDeadline: CalendarDay?
    private var lastCheckedEntry = -1
    private var suggestionMemo: [String: String] = [:]
    private(set) var units = UnitSightings()

    /// Release-level fields that all rows of a release must agree on.
    enum ReleaseSlot: Int {
        case plan, title, window, deployStart, deployEnd, priority, deadline, dependsOn

        static let count = 8

        var field: ImportField {
            switch self {
            case .plan: return .plan
            case .title: return .releaseTitle
            case .window: return .window
            case .deployStart: return .deployStart
            case .deployEnd: return .deployEnd
            case .priority: return .priority
            case .deadline: return .deadline
            case .dependsOn: return .dependsOn
            }
        }
    }

    static let requiredFields: [ImportField] = [.group, .plan, .release]
    static let codeFields: [ImportField] = [.group, .plan, .release, .window, .package, .unit, .target, .environment]
    static let planFields: [ImportField] = [.planTitle, .changeRef]
    static let unitFields: [ImportField] = [.unit, .unitKind, .target, .version]
    static let unitDetailFields: [ImportField] = [.unitKind, .target, .version]
    static let unitRequiredFields: [ImportField] = [.unitKind, .target]
    static let bookingTimeFields: [ImportField] = [.envStart, .envEnd]

    init(fileName: String, layout: ColumnLayout, parser: TimestampParser, defaultGroup: String?, known: KnownCodes) {
        self.fileName = fileName
        self.layout = layout
        self.parser = parser
        self.known = known
        if let defaultGroup, !defaultGroup.isEmpty {
            let buffer = ByteBuffer(capacity: defaultGroup.utf8.count)
            var copy = CodeKind.canonical(defaultGroup)
            copy.withUTF8 { buffer.append($0) }
            self.defaultGroup = buffer
        } else {
            self.defaultGroup = nil
        }
    }

    // MARK: Validation

    /// Validates `record`; true when the row is valid. `alreadyInvalid` says the reader found
    /// a problem in it: the fields are still checked, but their values are not remembered.
    mutating func validate(_ record: RecordView, line: Int, alreadyInvalid: Bool = false) -> Bool {
        issues.removeAll(keepingCapacity: true)
        normalized.removeAll()
        normalized.reserve(3 * (record.ends.last ?? 0) + 16)
        row.line = line
        row.repeatsReleaseCells = false
        for index in 0..<row.spans.count {
            let column = layout.columnOfField[index]
            row.spans[index] = column >= 0 && column < record.count
                ? Self.trimmed(record.field(column)) : ByteSpan(start: nil, count: 0)
        }
        checkIdentity()
        checkTexts()
        checkDeployment()
        checkPriority()
        checkDeadline()
        checkDependencies()
        checkUnit()
        checkBooking()
        checkKnownCodes()
        checkConsistency(alreadyInvalid: alreadyInvalid)
        guard issues.isEmpty && !alreadyInvalid else { return false }
        noteUnit()
        return true
    }

    /// Marks the release of an unparseable row as bad when its key can still be read.
    mutating func markReleaseInvalid(_ record: RecordView, line: Int) {
        let groupColumn = layout.columnOfField[ImportField.group.index]
        let releaseColumn = layout.columnOfField[ImportField.release.index]
        var group = groupColumn >= 0 && groupColumn < record.count
            ? Self.trimmed(record.field(groupColumn)) : ByteSpan(start: nil, count: 0)
        if group.isEmpty, let defaultGroup { group = defaultGroup.bytes }
        guard releaseColumn >= 0, releaseColumn < record.count else { return }
        let release = Self.trimmed(record.field(releaseColumn))
        guard !group.isEmpty, !release.isEmpty else { return }
        let index = releaseEntry(group: group, release: release, line: line)
        releaseInfos[index].hasInvalidRow = true
    }

    private mutating func checkIdentity() {
        if row[.group].isEmpty, let defaultGroup {
            row.spans[ImportField.group.index] = defaultGroup.bytes
        }
        for field in Self.requiredFields {
            if row[field].isEmpty {
                let hint = field == .group ? " unless a default group is given" : ""
                issue(field, "is required\(hint)")
            }
        }
        for field in Self.codeFields {
            checkCode(field)
        }
    }

    /// Codes follow relplan's one rule, ReleaseCore's `CodeKind.validate`: 1 to 64 letters or
    /// digits of any script, `-`, `_` or `.`, starting with a letter or a digit, stored in NFC.
    /// A code of ASCII letters, digits and `-_.` is decided here on its bytes (the common case,
    /// no `String` made); any other code, and every refused one, goes to `CodeKind.validate`,
    /// whose NFC form replaces the cell. Targets name configuration items as other tools do, so
    /// they only may not hold spaces or control characters; they too are kept in NFC.
    private mutating func checkCode(_ field: ImportField) {
        let value = row[field]
        guard let first = value.first else { return }
        var found: UInt8 = 0
        Self.codeByteKinds.withUnsafeBufferPointer { kinds in
            for byte in value { found |= kinds[Int(byte)] }
        }
        if field == .target {
            if found & 4 != 0 { issue(field, "a target cannot contain spaces or control characters") }
            if found & 8 != 0 { checkUnicodeTarget() }
            return
        }
        if found <= 1, Self.codeByteKinds[Int(first)] == 0, value.count <= Self.maximumCodeLength { return }
        guard let kind = Self.codeKind(of: field) else { return }
        switch canonicalCode(value, kind) {
        case .success(let canonical): row.spans[field.index] = canonical
        case .failure(let invalid): issue(field, Self.message(for: invalid))
        }
    }

    /// `value` as `kind`'s rule has it: its NFC bytes (in `normalized`, valid for this row) or what is wrong.
    private func canonicalCode(_ value: ByteSpan, _ kind: CodeKind) -> Result<ByteSpan, InvalidCode> {
        let text = Self.string(value)
        let canonical: String
        do { canonical = try kind.validate(text) } catch { return .failure(error) }
        return .success(keepNormalized(value, as: canonical))
    }

    /// The free-text fields and their kind in ReleaseCore's table of text limits.
    static let textFields: [(ImportField, TextField)] = [
        (.planTitle, .title), (.changeRef, .changeRef), (.releaseTitle, .title), (.version, .version),
    ]

    /// ReleaseCore's `TextRules` on the bytes: at most so many characters, no control character
    /// (a title may hold line breaks: LF, or CR LF, which is stored as LF).
    private mutating func checkTexts() {
        for (field, kind) in Self.textFields {
            if let problem = Self.textProblem(row[field], kind) { issue(field, problem.description) }
        }
    }

    /// A title as stored: CR LF as LF (the COPY encoder drops the CR the same way).
    static func storedLines(_ text: String) -> String {
        text.replacing("\r\n", with: "\n")
    }

    static func textProblem(_ value: ByteSpan, _ kind: TextField) -> TextProblem? {
        var characters = 0
        var index = 0
        let count = value.count
        while index < count {
            let byte = value[index]
            if byte & 0xC0 != 0x80 { characters += 1 }
            // NUL: the reader's own message says the file may be damaged.
            if (byte < 0x20 && byte != 0) || byte == 0x7F || (byte == 0xC2 && index + 1 < count && value[index + 1] <= 0x9F && value[index + 1] >= 0x80) {
                let lineBreak = byte == 0x0A || (byte == 0x0D && index + 1 < count && value[index + 1] == 0x0A)
                if !(lineBreak && kind.allowsLineBreaks) {
                    let scalar = byte == 0xC2 ? UInt32(value[index + 1]) : UInt32(byte)
                    return .controlCharacter(field: kind, scalar: scalar, position: characters)
                }
                if byte == 0x0D { index += 1 }  // CR LF: one character, as stored
            }
            index += 1
        }
        return characters > kind.maximumLength ? .tooLong(field: kind, length: characters) : nil
    }

    /// `value` itself when `canonical` has the same bytes, else `canonical`'s bytes appended to
    /// `normalized` (reserved at the start of the row, so earlier spans stay valid).
    private func keepNormalized(_ value: ByteSpan, as canonical: String) -> ByteSpan {
        var canonical = canonical
        return canonical.withUTF8 { bytes in
            if bytes.elementsEqual(value) { return value }
            let start = normalized.count
            normalized.append(bytes)
            return ByteSpan(start: normalized.base + start, count: bytes.count)
        }
    }

    private mutating func checkUnicodeTarget() {
        let value = row[.target]
        let text = CodeKind.canonical(Self.string(value))
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            issue(.target, "a target cannot contain spaces or control characters")
        }
        row.spans[ImportField.target.index] = keepNormalized(value, as: text)
    }

    static func message(for invalid: InvalidCode) -> String {
        switch invalid.reason {
        case .empty: "is required"
        case .tooLong: "a code is at most \(maximumCodeLength) characters long"
        case .badFirstCharacter: "a code must start with a letter or a digit"
        case .badCharacter(let scalar):
            "a code may hold only letters, digits, \"-\", \"_\" and \".\" (not \(InvalidCode.shown(scalar)))"
        }
    }

    static func codeKind(of field: ImportField) -> CodeKind? {
        switch field {
        case .group: .group
        case .plan: .plan
        case .release: .release
        case .window: .window
        case .package: .package
        case .unit: .unit
        case .environment: .environment
        default: nil
        }
    }

    static let maximumCodeLength = CodeKind.maximumLength

    /// Per byte, as bits: 0 for ASCII letters and digits, 1 for `-`, `_` and `.` (not first in
    /// a code), 2 for other printable ASCII, 4 for spaces, control characters and DEL, 8 for
    /// the bytes of characters beyond ASCII (left to `CodeKind`).
    static let codeByteKinds: [UInt8] = (UInt8.min...UInt8.max).map { byte in
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return 0
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): return 1
        case 0...0x20, 0x7F: return 4
        case 0x80...: return 8
        default: return 2
        }
    }

    /// A group or release code of a dependency, in NFC, or nil when it is not a code.
    private func dependencyCode(_ bytes: ByteSpan, _ kind: CodeKind) -> ByteSpan? {
        if let first = bytes.first, bytes.count <= Self.maximumCodeLength, Self.codeByteKinds[Int(first)] == 0,
           bytes.allSatisfy({ Self.codeByteKinds[Int($0)] <= 1 }) {
            return bytes
        }
        guard !bytes.isEmpty, case .success(let canonical) = canonicalCode(bytes, kind) else { return nil }
        return canonical
    }

    private mutating func checkDeployment() {
        (row.deployStart, row.deployEnd) = checkRange(start: .deployStart, end: .deployEnd)
        let hasStart = !row[.deployStart].isEmpty
        let hasEnd = !row[.deployEnd].isEmpty
        if hasStart && !hasEnd {
            issue(.deployEnd, "is required when \(layout.displayName(of: .deployStart)) is given")
        } else if hasEnd && !hasStart {
            issue(.deployStart, "is required when \(layout.displayName(of: .deployEnd)) is given")
        }
    }

    private mutating func checkBooking() {
        let environment = row[.environment]
        (row.envStart, row.envEnd) = checkRange(start: .envStart, end: .envEnd)
        if environment.isEmpty {
            if !row[.envStart].isEmpty || !row[.envEnd].isEmpty {
                issue(.environment, "is required when \(given(Self.bookingTimeFields)) given")
            }
            return
        }
        for field in Self.bookingTimeFields where row[field].isEmpty {
            issue(field, "is required for a booking of environment \(Self.string(environment))")
        }
    }

    /// Parses a start/end pair and checks that the end comes after the start.
    private mutating func checkRange(start: ImportField, end: ImportField) -> (Int64?, Int64?) {
        let startValue = parseInstant(start)
        let endValue = parseInstant(end)
        if let startValue, let endValue, endValue <= startValue {
            let shown = ImportIssue.shown(row[start])
            issue(end, "must be after \(layout.displayName(of: start)) \"\(shown)\"")
        }
        return (startValue, endValue)
    }

    private mutating func parseInstant(_ field: ImportField) -> Int64? {
        let value = row[field]
        guard !value.isEmpty else { return nil }
        if let micros = instantMemos[field.index].value(for: value) { return micros }
        do throws(TimestampParseError) {
            let micros = try parser.unixMicroseconds(utf8: value)
            instantMemos[field.index].remember(value, micros)
            return micros
        } catch {
            issue(field, error.problem)
            return nil
        }
    }

    private mutating func checkPriority() {
        row.priority = nil
        let value = row[.priority]
        guard !value.isEmpty else { return }
        // ReleaseCore's rule, the same as the CLI's `--priority`.
        guard let priority = Priority(digit: value) else {
            issue(.priority, "must be a whole number from 1 (highest) to 5 (lowest)")
            return
        }
        row.priority = priority.value
    }

    private mutating func checkDeadline() {
        row.deadline = nil
        row.deadlineEnd = nil
        let value = row[.deadline]
        guard !value.isEmpty else { return }
        let memo = ImportField.deadline.index
        if let end = instantMemos[memo].value(for: value) {
            row.deadline = lastDeadline
            row.deadlineEnd = end
            return
        }
        do throws(TimestampParseError) {
            let day = try parser.day(utf8: value)
            let end = parser.startOfDay(CalendarDay(daysSinceEpoch: day.daysSinceEpoch + 1))
            row.deadline = day
            row.deadlineEnd = end
            lastDeadline = day
            instantMemos[memo].remember(value, end)
        } catch {
            issue(.deadline, error.problem)
        }
    }

    /// `G/C|G/C|C`: a bare code means a release of the row's own group.
    private mutating func checkDependencies() {
        row.dependencies.removeAll(keepingCapacity: true)
        let value = row[.dependsOn]
        guard !value.isEmpty, let base = value.baseAddress else { return }
        var pieceStart = 0
        for index in 0...value.count where index == value.count || value[index] == UInt8(ascii: "|") {
            let piece = Self.trimmed(ByteSpan(start: base + pieceStart, count: index - pieceStart))
            pieceStart = index + 1
            guard !piece.isEmpty, let pieceBase = piece.baseAddress else { continue }
            let group: ByteSpan, release: ByteSpan
            if let slash = piece.firstIndex(of: UInt8(ascii: "/")) {
                group = Self.trimmed(ByteSpan(start: pieceBase, count: slash))
                release = Self.trimmed(ByteSpan(start: pieceBase + slash + 1, count: piece.count - slash - 1))
            } else {
                group = row[.group]
                release = piece
                if group.isEmpty { return }  // the missing group is reported already
            }
            guard let group = dependencyCode(group, .group), let release = dependencyCode(release, .release) else {
                issue(.dependsOn, "expected releases as GROUP/CODE separated by \"|\", e.g. HR/PAY-7|CRM/R-2027.02")
                return
            }
            if group.elementsEqual(row[.group]), release.elementsEqual(row[.release]) {
                issue(.dependsOn, "a release cannot depend on itself")
                return
            }
            row.dependencies.append((group, release))
        }
    }

    private mutating func checkUnit() {
        let hasUnit = !row[.unit].isEmpty
        let hasDetails = !row[.unitKind].isEmpty || !row[.target].isEmpty || !row[.version].isEmpty
        if (hasUnit || hasDetails) && row[.package].isEmpty {
            issue(.package, "is required when \(given(hasUnit ? Self.unitFields : Self.unitDetailFields)) given")
        }
        if !hasUnit {
            if hasDetails { issue(.unit, "is required when \(given(Self.unitDetailFields)) given") }
            return
        }
        for field in Self.unitRequiredFields where row[field].isEmpty {
            issue(field, "is required for unit \(Self.string(row[.unit]))")
        }
        // The database's limit, in characters (code points), as PostgreSQL counts them.
        if row[.target].count > 200, Self.string(row[.target]).unicodeScalars.count > 200 {
            issue(.target, "a target is at most 200 characters long")
        }
    }

    /// "unit_kind and target are" for the non-empty ones of `fields` (an error path only).
    private func given(_ fields: [ImportField]) -> String {
        let names = fields.filter { !row[$0].isEmpty }.map { layout.displayName(of: $0) }
        return Self.list(names) + (names.count == 1 ? " is" : " are")
    }

    private mutating func checkKnownCodes() {
        check(.group, "group", known.groups)
        check(.window, "service window", known.windows)
        check(.environment, "environment", known.environments)
        check(.unitKind, "unit kind", known.unitKinds)
    }

    private mutating func check(_ field: ImportField, _ noun: String, _ codes: Set<String>?) {
        guard let codes, !row[field].isEmpty else { return }
        let value = Self.string(row[field])
        guard !codes.contains(value) else { return }
        // The same typo tends to repeat on many rows; the search is over every known code.
        let key = "\(field.index)/\(value)"
        let hint = suggestionMemo[key] ?? Suggestions.didYouMean(value, in: codes)
        if suggestionMemo.count < 10_000 { suggestionMemo[key] = hint }
        issue(field, "unknown \(noun)" + hint)
    }

    // MARK: Consistency across rows

    private mutating func checkConsistency(alreadyInvalid: Bool) {
        let group = row[.group]
        let release = row[.release]
        guard !group.isEmpty, !release.isEmpty else { return }
        let isValidSoFar = issues.isEmpty && !alreadyInvalid
        if isValidSoFar, lastCheckedEntry >= 0, lastChecked.matches(row) {
            // The same release and values as the row before, which passed: nothing can differ.
            releaseInfos[lastCheckedEntry].rowCount += 1
            row.releaseNumber = lastCheckedEntry
            row.repeatsReleaseCells = true
            return
        }
        let entry = releaseEntry(group: group, release: release, line: row.line)
        row.releaseNumber = entry
        releaseInfos[entry].rowCount += 1
        for slot in 0..<ReleaseSlot.count {
            guard let kind = ReleaseSlot(rawValue: slot) else { continue }
            releaseValues[slot] = releaseValue(kind)
            if let earlier = releases.conflict(entry: entry, slot: slot, value: releaseValues[slot]) {
                issue(kind.field, "differs from line \(earlier) for release \(releaseInfos[entry].key)")
            }
        }
        var planEntry = -1
        if !row[.plan].isEmpty {
            makeKey(group, row[.plan])
            planEntry = plans.entry(for: keyScratch.bytes).index
            for (slot, field) in Self.planFields.enumerated() {
                if let earlier = plans.conflict(entry: planEntry, slot: slot, value: Self.hash(row[field])) {
                    issue(field, "differs from line \(earlier) for plan \(Self.string(group))/\(Self.string(row[.plan]))")
                }
            }
        }
        guard issues.isEmpty && !alreadyInvalid else {
            releaseInfos[entry].hasInvalidRow = true
            lastCheckedEntry = -1
            return
        }
        for slot in 0..<ReleaseSlot.count {
            releases.record(entry: entry, slot: slot, value: releaseValues[slot], line: row.line)
        }
        if planEntry >= 0 {
            for (slot, field) in Self.planFields.enumerated() {
                plans.record(entry: planEntry, slot: slot, value: Self.hash(row[field]), line: row.line)
            }
        }
        lastChecked.remember(row)
        lastCheckedEntry = entry
    }

    /// Notes the unit of a valid row, for `UnitSightings.mayRepeat`.
    private mutating func noteUnit() {
        guard !units.mayRepeat, !row[.unit].isEmpty else { return }
        var hash = StableHash.seed
        StableHash.combine(row[.group], into: &hash)
        StableHash.combine(row[.release], into: &hash)
        StableHash.combine(row[.package], into: &hash)
        StableHash.combine(row[.unit], into: &hash)
        units.see(StableHash.finish(hash))
    }

    private mutating func releaseValue(_ slot: ReleaseSlot) -> UInt64 {
        switch slot {
        case .plan: return Self.hash(row[.plan])
        case .title: return Self.hash(row[.releaseTitle])
        case .window: return Self.hash(row[.window])
        case .deployStart: return Self.hash(row.deployStart)
        case .deployEnd: return Self.hash(row.deployEnd)
        case .priority: return Self.hash(row.priority.map(Int64.init))
        case .deadline: return Self.hash(row.deadline.map { Int64($0.daysSinceEpoch) })
        case .dependsOn: return dependencyHash()
        }
    }

    private mutating func releaseEntry(group: ByteSpan, release: ByteSpan, line: Int) -> Int {
        makeKey(group, release)
        let (index, isNew) = releases.entry(for: keyScratch.bytes)
        if isNew {
            releaseInfos.append(ReleaseInfo(
                key: ReleaseKey(group: Self.string(group), release: Self.string(release)),
                firstLine: line, rowCount: 0, hasInvalidRow: false))
        }
        return index
    }

    private func makeKey(_ first: ByteSpan, _ second: ByteSpan) {
        keyScratch.removeAll()
        keyScratch.append(first)
        keyScratch.append(0x1F)
        keyScratch.append(second)
    }


    /// Order-insensitive: `A|B` and `B|A` are the same dependencies.
    private mutating func dependencyHash() -> UInt64 {
        guard !row.dependencies.isEmpty else { return 0 }
        hashScratch.removeAll(keepingCapacity: true)
        for (group, release) in row.dependencies {
            var hash = StableHash.seed
            StableHash.combine(group, into: &hash)
            StableHash.combine(Int64(UInt8(ascii: "/")), into: &hash)
            StableHash.combine(release, into: &hash)
            hashScratch.append(hash)
        }
        hashScratch.sort()
        var hash = StableHash.seed
        var previous: UInt64?
        for value in hashScratch where value != previous {
            StableHash.combine(Int64(bitPattern: value), into: &hash)
            previous = value
        }
        return StableHash.finish(hash)
    }

    // MARK: Typed rows

    /// The current valid row with `String`s and `Date`s.
    func makeRow() -> ImportRow {
        func text(_ field: ImportField) -> String? {
            row[field].isEmpty ? nil : Self.string(row[field])
        }
        func date(_ micros: Int64?) -> Date? {
            micros.map { Date(timeIntervalSince1970: Double($0) / 1_000_000) }
        }
        return ImportRow(
            line: row.line, group: Self.string(row[.group]), plan: Self.string(row[.plan]),
            planTitle: text(.planTitle).map(Self.storedLines), changeRef: text(.changeRef), release: Self.string(row[.release]),
            releaseTitle: text(.releaseTitle).map(Self.storedLines), window: text(.window),
            deployStart: date(row.deployStart), deployEnd: date(row.deployEnd), priority: row.priority,
            deadline: row.deadline.flatMap { day in
                date(row.deadlineEnd).map { ImportDeadline(day: day, end: $0) }
            },
            dependsOn: row.dependencies.map { ReleaseKey(group: Self.string($0.group), release: Self.string($0.release)) },
            package: text(.package), unit: text(.unit), unitKind: text(.unitKind), target: text(.target),
            version: text(.version), environment: text(.environment),
            envStart: date(row.envStart), envEnd: date(row.envEnd))
    }

    // MARK: Helpers

    private mutating func issue(_ field: ImportField, _ message: String) {
        issues.append(ImportIssue(
            file: fileName, line: row.line, field: layout.displayName(of: field), message: message,
            got: ImportIssue.shown(row[field])))
    }

    static func trimmed(_ span: ByteSpan) -> ByteSpan {
        guard let base = span.baseAddress else { return span }
        var start = 0
        var end = span.count
        while start < end, span[start] == 0x20 || span[start] == 0x09 { start += 1 }
        while end > start, span[end - 1] == 0x20 || span[end - 1] == 0x09 { end -= 1 }
        return ByteSpan(start: base + start, count: end - start)
    }


    static func string(_ span: ByteSpan) -> String {
        String(decoding: span, as: UTF8.self)
    }

    static func list(_ names: [String]) -> String {
        switch names.count {
        case 0: return ""
        case 1: return names[0]
        default: return names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1]
        }
    }

    private static func hash(_ span: ByteSpan) -> UInt64 {
        span.isEmpty ? 0 : StableHash.of(span)
    }

    private static func hash(_ value: Int64?) -> UInt64 {
        guard let value else { return 0 }
        var hash = StableHash.seed
        StableHash.combine(value, into: &hash)
        return StableHash.finish(hash)
    }
}
