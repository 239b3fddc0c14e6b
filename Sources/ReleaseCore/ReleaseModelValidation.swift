import Foundation

/// Where in a release model a value sits, spelled as in a model file: `phases.deploy.exit[1].name`.
///
/// File readers map a path back to the line and column the value came from.
public struct ModelPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public enum Component: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }
    }

    public var components: [Component]

    public init(_ components: [Component]) {
        self.components = components
    }

    public init(arrayLiteral elements: Component...) {
        self.components = elements
    }

    public func appending(_ key: String) -> ModelPath { ModelPath(components + [.key(key)]) }
    public func appending(_ index: Int) -> ModelPath { ModelPath(components + [.index(index)]) }

    /// The path one level up; nil for the root.
    public var parent: ModelPath? {
        components.isEmpty ? nil : ModelPath(Array(components.dropLast()))
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// One thing wrong with a release model, and where.
public struct ModelIssue: Sendable, Hashable, CustomStringConvertible {
    public let path: ModelPath
    public let message: String

    public init(path: ModelPath, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.components.isEmpty ? message : "\(path): \(message)" }
}

/// A release model with problems; lists them all.
public struct InvalidReleaseModel: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let issues: [ModelIssue]

    public init(code: String, issues: [ModelIssue]) {
        self.code = code
        self.issues = issues
    }

    public var description: String {
        "release model '\(code)' is not valid:\n" + issues.map { "  - \($0)" }.joined(separator: "\n")
    }
}

extension ReleaseModel {
    /// Throws when ``validationIssues()`` finds anything.
    public func validate() throws(InvalidReleaseModel) {
        let issues = validationIssues()
        guard issues.isEmpty else { throw InvalidReleaseModel(code: code, issues: issues) }
    }

    /// Every problem, in the order the fields appear in a model file.
    ///
    /// Criterion names are unique across the whole model (people tick them by name); environment
    /// codes and role names are codes; durations are positive; a versioning pattern compiles.
    public func validationIssues() -> [ModelIssue] {
        var issues: [ModelIssue] = []
        func check(_ kind: CodeKind, _ value: String, at path: ModelPath) {
            do {
                try kind.validate(value)
            } catch {
                issues.append(ModelIssue(path: path, message: error.description))
            }
        }
        func requireText(_ value: String, at path: ModelPath) {
            if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                issues.append(ModelIssue(path: path, message: "must not be empty"))
            }
        }

        check(.model, code, at: ["code"])
        requireText(name, at: ["name"])
        do { _ = try TextRules.checked(name, as: .name) } catch { issues.append(ModelIssue(path: ["name"], message: error.description)) }
        requireText(version, at: ["version"])

        var criterionPaths: [String: ModelPath] = [:]
        for activity in ReleaseActivity.allCases {
            for boundary in PhaseBoundary.allCases {
                let listPath: ModelPath = ["phases", .key(activity.rawValue), .key(boundary.rawValue)]
                let criteria = phases[activity][boundary]
                if activity == .plan, boundary == .entry, !criteria.isEmpty {
                    issues.append(ModelIssue(
                        path: listPath,
                        message: "plan has no entry criteria: every release starts planned"))
                }
                for (index, criterion) in criteria.enumerated() {
                    let namePath = listPath.appending(index).appending("name")
                    check(.criterion, criterion.name, at: namePath)
                    if let earlier = criterionPaths[criterion.name] {
                        issues.append(ModelIssue(
                            path: namePath,
                            message: "criterion name '\(criterion.name)' is already used at \(earlier)"))
                    } else {
                        criterionPaths[criterion.name] = listPath.appending(index)
                    }
                }
            }
        }

        var environmentPaths: [String: ModelPath] = [:]
        for (index, required) in environments.enumerated() {
            let path: ModelPath = ["environments", .index(index)]
            check(.environment, required.environment, at: path.appending("environment"))
            if let earlier = environmentPaths[required.environment] {
                issues.append(ModelIssue(
                    path: path.appending("environment"),
                    message: "environment '\(required.environment)' is already required at \(earlier)"))
            } else {
                environmentPaths[required.environment] = path
            }
            if required.durationSeconds <= 0 {
                issues.append(ModelIssue(path: path.appending("duration"), message: "duration must be longer than zero"))
            } else if required.durationSeconds > Durations.maximumSeconds {
                issues.append(ModelIssue(
                    path: path.appending("duration"),
                    message: "duration is longer than \(Durations.maximumSeconds / 86_400) days"))
            }
        }

        var rolePaths: [String: ModelPath] = [:]
        for (index, role) in roles.enumerated() {
            let path: ModelPath = ["roles", .index(index), "name"]
            check(.role, role.name, at: path)
            if let earlier = rolePaths[role.name] {
                issues.append(ModelIssue(path: path, message: "role '\(role.name)' is already listed at \(earlier)"))
            } else {
                rolePaths[role.name] = ["roles", .index(index)]
            }
        }

        if case .pattern(let pattern) = versioning {
            if pattern.isEmpty {
                issues.append(ModelIssue(path: ["versioning", "pattern"], message: "must not be empty"))
            } else if let problem = versioning?.patternProblem {
                issues.append(ModelIssue(path: ["versioning", "pattern"], message: "pattern does not compile: \(problem)"))
            }
        }

        var documentPaths: [String: ModelPath] = [:]
        for (index, item) in documentation.enumerated() {
            let path: ModelPath = ["documentation", .index(index)]
            let key = item.trimmingCharacters(in: .whitespacesAndNewlines)
            if key.isEmpty {
                issues.append(ModelIssue(path: path, message: "must not be empty"))
            } else if let earlier = documentPaths[key] {
                issues.append(ModelIssue(path: path, message: "documentation item '\(key)' is already listed at \(earlier)"))
            } else {
                documentPaths[key] = path
            }
        }
        return issues
    }
}
