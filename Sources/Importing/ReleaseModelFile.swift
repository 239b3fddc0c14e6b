import Foundation
import ReleaseCore
import Yams

/// Reads release model files (YAML) into ``ReleaseModel`` values.
///
/// The file is walked node by node rather than decoded, so that every problem carries the line
/// and column it comes from and all of them are reported at once: `FILE:LINE:COL: what is wrong`.
/// Unknown keys are errors (a typo in an optional key would otherwise pass silently), with the
/// nearest known key suggested. The model's own rules (unique criterion names, valid codes, a
/// pattern that compiles) come from ``ReleaseModel/validationIssues()``, mapped back to positions.
///
/// ```yaml
/// code: STANDARD
/// name: Standard release
/// version: "2.1"
/// description: Monthly release of one application
/// phases:
///   plan:
///     exit:
///       - name: scope-agreed
///         description: Scope agreed with the business owner
///   build-and-test:
///     exit:
///       - name: tests-finished
///         check: test-booking-finished
///       - name: cab-approved
///   deploy:
///     exit:
///       - name: smoke-tested
///   evaluate-and-close:
///     exit:
///       - name: no-high-deviations
///         check: no-open-high-deviations
/// environments:
///   - environment: TEST-INT
///     duration: 3d
/// roles:
///   - name: release-manager
///     description: Owns the plan
/// versioning: semver            # or calver, or {pattern: 'R-\d{4}\.\d{2}'}
/// documentation:
///   - Release notes
/// ```
public enum ReleaseModelFile {
    /// Reads and parses the file at `path`; messages name the file as `path` is written.
    public static func load(path: String) throws(ReleaseModelFileError) -> ReleaseModel {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: path, reason: "the file is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses model text; `file` is only used in messages.
    public static func parse(_ text: String, file: String) throws(ReleaseModelFileError) -> ReleaseModel {
        // In NFC, so the model's code, criteria and roles are stored as codes are (ReleaseCore's CodeKind).
        let body = CodeKind.canonical(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        let root: Node?
        do {
            root = try Yams.compose(yaml: body)
        } catch {
            throw .invalid(file: file, problems: [syntaxProblem(error)])
        }
        guard let root else {
            throw .invalid(file: file, problems: [.init(line: 1, column: 1, message: "the file is empty; a release model needs at least code, name and version")])
        }
        var reader = ModelReader()
        let model = reader.model(from: root)
        reader.addValidationIssues(of: model)
        guard reader.problems.isEmpty else {
            throw .invalid(file: file, problems: reader.sortedProblems)
        }
        return model
    }

    private static func syntaxProblem(_ error: any Error) -> ReleaseModelFileError.Problem {
        guard let yamlError = error as? YamlError else {
            return .init(line: 1, column: 1, message: "YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return .init(line: mark.line, column: mark.column, message: "YAML syntax: \(prefix)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return .init(line: context.mark.line, column: context.mark.column, message: "duplicate key \(keys) in one mapping")
        default:
            return .init(line: 1, column: 1, message: "YAML: \(yamlError)")
        }
    }
}

/// Why a model file was refused: it could not be read, or it has problems (all of them, in file order).
public enum ReleaseModelFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case invalid(file: String, problems: [Problem])

    public struct Problem: Sendable, Hashable {
        public let line: Int
        public let column: Int
        public let message: String

        public init(line: Int, column: Int, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }
    }

    public var problems: [Problem] {
        switch self {
        case .unreadable: []
        case .invalid(_, let problems): problems
        }
    }

    /// One `FILE:LINE:COL: message` line per problem.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the release model: \(reason)"
        case .invalid(let file, let problems):
            problems.map { "\(file):\($0.line):\($0.column): \($0.message)" }.joined(separator: "\n")
        }
    }
}

/// Walks the node tree, collecting problems and remembering where each value came from.
private struct ModelReader {
    /// Yams's `Mark` cannot be made outside Yams; this is the same pair.
    struct Position {
        var line: Int
        var column: Int

        static let start = Position(line: 1, column: 1)
    }

    private(set) var problems: [ReleaseModelFileError.Problem] = []
    /// Where each value sits, to place the model's own validation issues.
    private var marks: [ModelPath: Position] = [:]
    /// Paths that already have a problem, so validation does not report them twice.
    private var reported: Set<ModelPath> = []

    var sortedProblems: [ReleaseModelFileError.Problem] {
        problems.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    private static let topKeys = [
        "code", "name", "version", "description", "phases", "environments", "roles", "versioning", "documentation",
    ]

    mutating func model(from root: Node) -> ReleaseModel {
        var model = ReleaseModel(code: "", name: "", version: "")
        guard let fields = mapping(root, at: [], known: Self.topKeys, required: ["code", "name", "version"]) else {
            return model
        }
        model.code = fields["code"].flatMap { text($0, at: ["code"]) } ?? ""
        model.name = fields["name"].flatMap { text($0, at: ["name"]) } ?? ""
        model.version = fields["version"].flatMap { text($0, at: ["version"]) } ?? ""
        model.description = fields["description"].flatMap { text($0, at: ["description"]) } ?? ""
        if let node = fields["phases"] { model.phases = phases(node) }
        if let node = fields["environments"] {
            model.environments = list(node, at: ["environments"]) { reader, item, path in
                reader.requiredEnvironment(item, at: path)
            }
        }
        if let node = fields["roles"] {
            model.roles = list(node, at: ["roles"]) { reader, item, path in reader.role(item, at: path) }
        }
        if let node = fields["versioning"] { model.versioning = versioning(node) }
        if let node = fields["documentation"] {
            model.documentation = list(node, at: ["documentation"]) { reader, item, path in reader.text(item, at: path) }
        }
        return model
    }

    mutating func addValidationIssues(of model: ReleaseModel) {
        for issue in model.validationIssues() where !isReported(issue.path) {
            let mark = nearestMark(for: issue.path)
            problems.append(.init(line: mark.line, column: mark.column, message: issue.description))
        }
    }

    // MARK: Sections

    private mutating func phases(_ node: Node) -> ReleaseModel.Phases {
        var phases = ReleaseModel.Phases()
        let path: ModelPath = ["phases"]
        guard let fields = mapping(node, at: path, known: ReleaseActivity.allCases.map(\.rawValue), required: []) else {
            return phases
        }
        for activity in ReleaseActivity.allCases {
            guard let phaseNode = fields[activity.rawValue] else { continue }
            let phasePath = path.appending(activity.rawValue)
            guard let boundaries = mapping(phaseNode, at: phasePath, known: ["entry", "exit"], required: []) else { continue }
            var phase = ReleaseModel.Phase()
            if let entry = boundaries["entry"] {
                phase.entry = list(entry, at: phasePath.appending("entry")) { reader, item, itemPath in
                    reader.criterion(item, at: itemPath)
                }
            }
            if let exit = boundaries["exit"] {
                phase.exit = list(exit, at: phasePath.appending("exit")) { reader, item, itemPath in
                    reader.criterion(item, at: itemPath)
                }
            }
            phases[activity] = phase
        }
        return phases
    }

    private mutating func criterion(_ node: Node, at path: ModelPath) -> ReleaseModel.Criterion? {
        guard let fields = mapping(node, at: path, known: ["name", "check", "description"], required: ["name"]),
            let name = fields["name"].flatMap({ text($0, at: path.appending("name")) })
        else { return nil }
        var criterion = ReleaseModel.Criterion(name: name)
        if let checkNode = fields["check"], let word = text(checkNode, at: path.appending("check")) {
            do {
                criterion.check = try CriterionCheck(parsing: word)
            } catch {
                report(checkNode, at: path.appending("check"), error.description)
            }
        }
        criterion.description = fields["description"].flatMap { text($0, at: path.appending("description")) } ?? ""
        return criterion
    }

    private mutating func requiredEnvironment(_ node: Node, at path: ModelPath) -> ReleaseModel.RequiredEnvironment? {
        guard let fields = mapping(node, at: path, known: ["environment", "duration"], required: ["environment", "duration"]),
            let environment = fields["environment"].flatMap({ text($0, at: path.appending("environment")) }),
            let durationNode = fields["duration"],
            let durationText = text(durationNode, at: path.appending("duration"))
        else { return nil }
        do {
            let seconds = try Durations.seconds(in: durationText)
            return .init(environment: environment, durationSeconds: seconds)
        } catch {
            report(durationNode, at: path.appending("duration"), error.description)
            return nil
        }
    }

    private mutating func role(_ node: Node, at path: ModelPath) -> ReleaseModel.Role? {
        guard let fields = mapping(node, at: path, known: ["name", "description"], required: ["name"]),
            let name = fields["name"].flatMap({ text($0, at: path.appending("name")) })
        else { return nil }
        let description = fields["description"].flatMap { text($0, at: path.appending("description")) } ?? ""
        return .init(name: name, description: description)
    }

    private mutating func versioning(_ node: Node) -> VersioningRule? {
        let path: ModelPath = ["versioning"]
        if case .mapping = node {
            guard let fields = mapping(node, at: path, known: ["pattern"], required: ["pattern"]),
                let pattern = fields["pattern"].flatMap({ text($0, at: path.appending("pattern")) })
            else { return nil }
            return .pattern(pattern)
        }
        guard let word = text(node, at: path) else { return nil }
        switch word {
        case "semver": return .semver
        case "calver": return .calver
        default:
            let hint = Suggestions.didYouMean(word, in: ["semver", "calver"])
            report(node, at: path, "unknown versioning rule '\(word)'\(hint): use semver, calver or a mapping {pattern: REGEX}")
            return nil
        }
    }

    // MARK: Node access

    /// The known keys of a mapping; reports a non-mapping, unknown keys and missing required keys.
    private mutating func mapping(
        _ node: Node, at path: ModelPath, known: [String], required: [String]
    ) -> [String: Node]? {
        remember(node, at: path)
        guard case .mapping(let mapping) = node else {
            if isNull(node), required.isEmpty { return [:] }
            report(node, at: path, "expected a mapping (key: value lines)\(place(path)), found \(kind(of: node))")
            return nil
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                report(keyNode, at: nil, "keys must be plain words\(place(path))")
                continue
            }
            let key = keyScalar.string
            guard known.contains(key) else {
                let suggestion = Suggestions.nearest(to: key, in: known)
                let hint = suggestion.map { " (did you mean \($0)?)" } ?? "; known keys\(place(path)): \(known.joined(separator: ", "))"
                report(keyNode, at: nil, "unknown key '\(key)'\(place(path))\(hint)")
                continue
            }
            fields[key] = value
        }
        for key in required where fields[key] == nil {
            report(node, at: path.appending(key), "missing key '\(key)'\(place(path))")
        }
        return fields
    }

    /// A list whose items are read by `item`; items that fail are left out (their problems are reported).
    private mutating func list<Item>(
        _ node: Node, at path: ModelPath, item: (inout ModelReader, Node, ModelPath) -> Item?
    ) -> [Item] {
        remember(node, at: path)
        guard case .sequence(let sequence) = node else {
            if isNull(node) { return [] }
            report(node, at: path, "expected a list (lines starting with '- ') at \(path), found \(kind(of: node))")
            return []
        }
        var items: [Item] = []
        for (index, element) in sequence.enumerated() {
            let itemPath = path.appending(index)
            remember(element, at: itemPath)
            if let value = item(&self, element, itemPath) { items.append(value) }
        }
        return items
    }

    /// A scalar's text; reports lists, mappings and empty values.
    private mutating func text(_ node: Node, at path: ModelPath) -> String? {
        remember(node, at: path)
        guard case .scalar(let scalar) = node else {
            report(node, at: path, "expected text at \(path), found \(kind(of: node))")
            return nil
        }
        if isNull(node) {
            report(node, at: path, "\(path): must not be empty")
            return nil
        }
        return scalar.string
    }

    private func isNull(_ node: Node) -> Bool { node.null != nil }

    private func kind(of node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar: isNull(node) ? "nothing" : "'\(node.scalar?.string ?? "")'"
        }
    }

    private func place(_ path: ModelPath) -> String {
        path.components.isEmpty ? "" : " in \(path)"
    }

    // MARK: Positions

    private mutating func remember(_ node: Node, at path: ModelPath) {
        if let mark = node.mark, marks[path] == nil { marks[path] = Position(line: mark.line, column: mark.column) }
    }

    private mutating func report(_ node: Node, at path: ModelPath?, _ message: String) {
        let position = node.mark.map { Position(line: $0.line, column: $0.column) } ?? .start
        problems.append(.init(line: position.line, column: position.column, message: message))
        if let path { reported.insert(path) }
    }

    private func isReported(_ path: ModelPath) -> Bool {
        var current: ModelPath? = path
        while let candidate = current {
            if reported.contains(candidate) { return true }
            current = candidate.parent
        }
        return false
    }

    private func nearestMark(for path: ModelPath) -> Position {
        var current: ModelPath? = path
        while let candidate = current {
            if let mark = marks[candidate] { return mark }
            current = candidate.parent
        }
        return .start
    }
}
