import Foundation
import Postgres
import ReleaseCore

/// The dry run: what the merge will do, release by release.
extension ImportSession {
    /// What `merge` will do, release by release, in file order; call between `prepareMerge` and `merge`.
    public func preview() throws -> [ReleasePreview] {
        try require("preview", at: .prepared)
        var previews: [StagedRelease: ReleasePreview] = [:]
        var order: [StagedRelease] = []
        func key(_ row: Row) throws -> StagedRelease {
            StagedRelease(group: try row.decode(String.self, "grp"), code: try row.decode(String.self, "release"))
        }
        func add(_ release: StagedRelease, _ change: FieldChange) {
            previews[release]?.changes.append(change)
            if previews[release]?.state == .unchanged { previews[release]?.state = .changed }
        }
        func text(_ value: String?) -> PreviewValue? { value.map(PreviewValue.text) }

        for row in try db.query("""
            SELECT d.grp, d.release, d.existed, d.changed, d.plan, d.old_title, d.new_title, ow.code AS old_window, nw.code AS new_window,
                   d.old_deploy_start, d.old_deploy_end, d.new_deploy_start, d.new_deploy_end,
                   d.old_priority, d.new_priority, to_char(d.old_deadline, 'YYYY-MM-DD') AS old_deadline,
                   to_char(d.new_deadline, 'YYYY-MM-DD') AS new_deadline, coalesce(uc.n, 0) AS units, coalesce(bc.n, 0) AS bookings
            FROM import_release_diff d
            LEFT JOIN service_window ow ON ow.id = d.old_window_id LEFT JOIN service_window nw ON nw.id = d.new_window_id
            LEFT JOIN (SELECT release_no, count(*) AS n FROM import_unit GROUP BY 1) uc
                   ON uc.release_no = d.release_no
            LEFT JOIN (SELECT release_no, count(*) AS n FROM import_staged_booking GROUP BY 1) bc
                   ON bc.release_no = d.release_no
            ORDER BY d.first_line
            """).rows {
            let release = try key(row)
            order.append(release)
            let existed = try row.decode(Bool.self, "existed")
            let oldDeploy = try range(row, "old_deploy_start", "old_deploy_end")
            let newDeploy = try range(row, "new_deploy_start", "new_deploy_end")
            var changes: [FieldChange] = []
            if !existed {
                changes.append(FieldChange(field: "plan", from: nil, to: .text(try row.decode(String.self, "plan"))))
                if let title = try row.decode(String?.self, "new_title"), !title.isEmpty { changes.append(FieldChange(field: "title", from: nil, to: .text(title))) }
                if let window = try row.decode(String?.self, "new_window") { changes.append(FieldChange(field: "window", from: nil, to: .text(window))) }
                if let newDeploy { changes.append(FieldChange(field: "deployment", from: nil, to: newDeploy)) }
                changes.append(FieldChange(field: "priority", from: nil, to: .text(String(try row.decode(Int.self, "new_priority")))))
                if let deadline = try row.decode(String?.self, "new_deadline") { changes.append(FieldChange(field: "deadline", from: nil, to: .text(deadline))) }
                let units = try row.decode(Int.self, "units")
                let bookings = try row.decode(Int.self, "bookings")
                if units > 0 { changes.append(FieldChange(field: "units", from: nil, to: .text(String(units)))) }
                if bookings > 0 { changes.append(FieldChange(field: "bookings", from: nil, to: .text(String(bookings)))) }
                previews[release] = ReleasePreview(release: release, state: .created, changes: changes)
                continue
            }
            func compare(_ field: String, _ old: PreviewValue?, _ new: PreviewValue?) {
                if old != new { changes.append(FieldChange(field: field, from: old, to: new)) }
            }
            compare("title", text(try row.decode(String?.self, "old_title")), text(try row.decode(String?.self, "new_title")))
            compare("window", text(try row.decode(String?.self, "old_window")), text(try row.decode(String?.self, "new_window")))
            compare("deployment", oldDeploy, newDeploy)
            compare("priority", text(try row.decode(Int?.self, "old_priority").map(String.init)),
                    text(try row.decode(Int?.self, "new_priority").map(String.init)))
            compare("deadline", text(try row.decode(String?.self, "old_deadline")), text(try row.decode(String?.self, "new_deadline")))
            previews[release] = ReleasePreview(release: release, state: changes.isEmpty ? .unchanged : .changed, changes: changes)
        }

        // Parts added to or changed in existing releases.
        for row in try db.query("""
            SELECT DISTINCT x.grp, x.release, x.dep_group || '/' || x.dep_code AS dependency
            FROM import_dependency x JOIN import_release_diff d ON d.release_no = x.release_no
            LEFT JOIN management_group dg ON dg.code = x.dep_group
            LEFT JOIN release dep ON dep.group_id = dg.id AND dep.code = x.dep_code
            WHERE d.existed AND (dep.id IS NULL OR NOT EXISTS (
                SELECT 1 FROM release_dependency e WHERE e.release_id = d.release_id AND e.depends_on_id = dep.id))
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "depends_on", from: nil, to: .text(try row.decode(String.self, "dependency"))))
        }
        for row in try db.query("""
            SELECT DISTINCT s.grp, s.release, s.package
            FROM import_staging s JOIN import_release_diff d ON d.release_no = s.release_no
            WHERE d.existed AND s.package IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM release_package e WHERE e.release_id = d.release_id AND e.code = s.package)
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "package", from: nil, to: .text(try row.decode(String.self, "package"))))
        }
        for row in try db.query("""
            SELECT u.grp, u.release, u.package || '/' || u.unit AS unit,
                   e.kind || ' ' || e.target_code || coalesce(' ' || e.version, '') AS old_unit,
                   u.kind || ' ' || u.target || coalesce(' ' || coalesce(u.version, e.version), '') AS new_unit
            FROM import_unit u JOIN import_release_diff d ON d.release_no = u.release_no
            LEFT JOIN release_package p ON p.release_id = d.release_id AND p.code = u.package
            LEFT JOIN release_unit e ON e.package_id = p.id AND e.code = u.unit
            WHERE d.existed AND (e.id IS NULL OR (e.kind, e.target_code, e.version)
                                 IS DISTINCT FROM (u.kind, u.target, coalesce(u.version, e.version)))
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "unit " + (try row.decode(String.self, "unit")),
                                          from: text(try row.decode(String?.self, "old_unit")), to: text(try row.decode(String?.self, "new_unit"))))
        }
        for row in try db.query("""
            SELECT DISTINCT s.grp, s.release, s.environment, s.env_start, s.env_end
            FROM import_staging s JOIN import_release_diff d ON d.release_no = s.release_no
            JOIN environment e ON e.code = s.environment
            WHERE d.existed AND NOT EXISTS (
                SELECT 1 FROM environment_booking x
                WHERE x.release_id = d.release_id AND x.environment_id = e.id AND x.during = tstzrange(s.env_start, s.env_end))
            ORDER BY 1, 2, 4, 3
            """).rows {
            add(try key(row), FieldChange(field: "booking " + (try row.decode(String.self, "environment")), from: nil,
                                          to: .range(try row.decode(Date.self, "env_start"), try row.decode(Date.self, "env_end"))))
        }
        return order.compactMap { previews[$0] }
    }

    private func range(_ row: Row, _ start: String, _ end: String) throws -> PreviewValue? {
        guard let from = try row.decode(Date?.self, start), let to = try row.decode(Date?.self, end) else { return nil }
        return .range(from, to)
    }
}
