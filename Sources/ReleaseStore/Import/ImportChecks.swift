import Foundation
import Postgres
import ReleaseCore

/// What only the database can see in a file, checked set-based over the staged rows.
extension ImportSession {
    /// Everything the database knows that the file alone does not, checked set-based over the
    /// staged rows; call after `summarise`. `skipped` are releases already left out (their
    /// dependents are reported as depending on a skipped release).
    public func check(login: String, skipped: Set<StagedRelease> = []) throws -> [StagedIssue] {
        try require("check", at: .summarised)
        var issues = try unwritableGroups(login: login)
        issues += try plansOfExistingReleases()
        issues += try inconsistentUnits()
        issues += try unknownDependencies(skipped: skipped)
        return issues.sorted { ($0.line, $0.field, $0.message) < ($1.line, $1.field, $1.message) }
    }

    /// Checks only the dependencies again, after releases were left out.
    public func checkDependencies(skipped: Set<StagedRelease>) throws -> [StagedIssue] {
        try require("checkDependencies", at: .summarised)
        return try unknownDependencies(skipped: skipped)
    }

    private func unwritableGroups(login: String) throws -> [StagedIssue] {
        try db.query("""
            SELECT ir.grp, min(ir.first_line) AS line, bool_or(ir.group_id IS NULL) AS unknown
            FROM import_release ir
            WHERE ir.group_id IS NULL
               OR NOT (ir.group_id = ANY ((SELECT relplan_groups_with_role(current_user, \(Self.writerRoles)::text[]))::integer[]))
            GROUP BY ir.grp ORDER BY 2
            """).rows.map { row in
            let (group, line, unknown) = try row.decode((String, Int, Bool).self)
            let message = unknown
                ? "unknown group \(group)"
                : "\(login) may not write group \(group): \(login) is not a manager or release-manager of \(group)"
            return StagedIssue(line: line, field: "group", message: message, got: group, scope: .group(group))
        }
    }

    /// A release already in the database under another plan is refused: an import describes
    /// releases, and moving one between plans is a decision about the plans, not a data load.
    private func plansOfExistingReleases() throws -> [StagedIssue] {
        try db.query("""
            SELECT ir.grp, ir.release, ir.first_line, ir.plan, p.code AS existing
            FROM import_release ir
            JOIN release r ON r.group_id = ir.group_id AND r.code = ir.release
            JOIN release_plan p ON p.id = r.plan_id
            WHERE p.code <> ir.plan
            ORDER BY ir.first_line
            """).rows.map { row in
            let (group, code, line, plan, existing) = try row.decode((String, String, Int, String, String).self)
            let release = StagedRelease(group: group, code: code)
            return StagedIssue(
                line: line, field: "plan",
                message: "release \(release) exists in plan \(existing); an import does not move releases between plans "
                    + "(give plan \(existing), or create the release under a new code)",
                got: plan, scope: .release(release))
        }
    }

    /// A unit given different kind, target or version on two rows; names both lines.
    private func inconsistentUnits() throws -> [StagedIssue] {
        var issues: [StagedIssue] = []
        // (A target's length is checked by the reader, row by row.)
        // The rows of units whose values differ, in file order; the first row's values are the reference.
        let differing = try db.query("""
            SELECT EXISTS (SELECT 1 FROM import_unit_repeated WHERE kind <> kind_max OR target <> target_max OR version <> version_max)
                AS differing
            """).first?.decode(Bool.self, "differing") ?? false
        guard differing else { return issues }
        let rows = try db.query("""
            SELECT s.grp, s.release, s.package, s.unit, s.line, s.unit_kind, s.target, s.version
            FROM import_staging s
            JOIN (SELECT grp, release, package, unit FROM import_unit_repeated
                  WHERE kind <> kind_max OR target <> target_max OR version <> version_max) u
              ON u.grp = s.grp AND u.release = s.release AND u.package = s.package AND u.unit = s.unit
            ORDER BY s.grp, s.release, s.package, s.unit, s.line
            """).rows
        struct Reference {
            var key: [String]
            var line: Int
            var values: [String?]
            var reported = false
        }
        var reference: Reference?
        let fields = ["unit_kind", "target", "version"]
        for row in rows {
            let (group, release, package, unit, line, kind, target, version)
                = try row.decode((String, String, String, String, Int, String?, String?, String?).self)
            let key = [group, release, package, unit]
            let values = [kind, target, version]
            guard var current = reference, current.key == key else {
                reference = Reference(key: key, line: line, values: values)
                continue
            }
            if current.values[2] == nil, let version = values[2] { current.values[2] = version }  // empty: not given
            guard !current.reported,
                  let index = values.indices.first(where: { values[$0] != nil && current.values[$0] != nil && values[$0] != current.values[$0] })
            else {
                reference = current
                continue
            }
            current.reported = true
            reference = current
            let staged = StagedRelease(group: key[0], code: key[1])
            issues.append(StagedIssue(
                line: line, field: fields[index],
                message: "differs from line \(current.line) (\"\(current.values[index] ?? "")\") for unit \(key[2])/\(key[3]) of \(staged)",
                got: values[index], scope: .release(staged)))
        }
        return issues
    }

    private func unknownDependencies(skipped: Set<StagedRelease>) throws -> [StagedIssue] {
        let missing = try db.query("""
            SELECT d.grp, d.release, d.dep_group, d.dep_code, d.first_line
            FROM import_dependency d
            WHERE NOT EXISTS (SELECT 1 FROM import_release ir WHERE ir.grp = d.dep_group AND ir.release = d.dep_code)
              AND NOT EXISTS (SELECT 1 FROM release r JOIN management_group g ON g.id = r.group_id
                              WHERE g.code = d.dep_group AND r.code = d.dep_code)
            ORDER BY d.first_line, d.dep_group, d.dep_code
            """).rows.map {
            let (group, code, dependencyGroup, dependencyCode, line) = try $0.decode((String, String, String, String, Int).self)
            return (release: StagedRelease(group: group, code: code),
                    dependency: StagedRelease(group: dependencyGroup, code: dependencyCode), line: line)
        }
        guard !missing.isEmpty else { return [] }
        // Candidates for "did you mean": the group's releases in the database and in the file.
        var candidates: [String: [String]] = [:]
        let groups = Set(missing.map(\.dependency.group)).sorted()
        for row in try db.query("""
            SELECT g.code AS grp, g.code || '/' || r.code AS ref FROM release r JOIN management_group g ON g.id = r.group_id
            WHERE g.code = ANY (\(groups)::text[])
            UNION ALL
            SELECT grp, grp || '/' || release FROM import_release WHERE grp = ANY (\(groups)::text[])
            """).rows {
            candidates[try row.decode(String.self, "grp"), default: []].append(try row.decode(String.self, "ref"))
        }
        let knownGroups = try knownCodes().groups
        var suggestions: [StagedRelease: String] = [:]
        return missing.map { item in
            let text = item.dependency.description
            let message: String
            if skipped.contains(item.dependency) {
                message = "depends on \(text), which is skipped, so \(item.release) is skipped too"
            } else if !knownGroups.contains(item.dependency.group) {
                message = "unknown release \(text): there is no group \(item.dependency.group)"
                    + Suggestions.didYouMean(item.dependency.group, in: knownGroups)
            } else {
                let hint = suggestions[item.dependency]
                    ?? Suggestions.didYouMean(text, in: candidates[item.dependency.group] ?? [])
                suggestions[item.dependency] = hint
                message = "unknown release \(text): it is neither in the database nor in the file" + hint
            }
            return StagedIssue(line: item.line, field: "depends_on", message: message, got: text, scope: .release(item.release))
        }
    }
}
