import Foundation
import Postgres
import Scheduling

/// Writes the same generated portfolio the scheduling benchmark uses into a database, with COPY,
/// so `relplan conflicts` and the nightly report can be timed on it end to end.
enum DatabaseSeed {
    static func run(conninfo: String, releases count: Int) throws -> [String: Double] {
        let snapshot = SchedulingBench.generateSnapshot(
            releases: count, bookingsPerRelease: 5, windows: max(1, count / 50), environments: max(5, count / 500),
            conflictShare: 0.05, seed: 42)
        let db = try Connection(conninfo: conninfo)
        let clock = ContinuousClock()
        let started = clock.now
        try db.transaction { db in
            // The generator's data is consistent by construction; triggers (audit, capacity) are for people.
            try db.execute("SET LOCAL session_replication_role = replica", simple: true)
            let groups = Array(Set(snapshot.releases.map(\.group))).sorted()
            try db.copyIn("COPY management_group (code, name) FROM STDIN") { w in
                for g in groups { try w.write("\(g)\tGroup \(g)\n") }
            }
            try db.execute("INSERT INTO release_plan (group_id, code, title) SELECT id, 'PLAN', 'Benchmark plan' FROM management_group")
            try db.copyIn("COPY environment (code, name, kind, capacity) FROM STDIN") { w in
                for e in snapshot.environments { try w.write("\(e.code)\t\(e.code)\t\(e.kind.rawValue)\t\(e.capacity)\n") }
            }
            try db.copyIn("COPY service_window (code, starts_at, ends_at, capacity, kind) FROM STDIN") { w in
                for x in snapshot.windows {
                    try w.write("\(x.code)\t\(PostgresTimestamp.format(x.interval.start))\t\(PostgresTimestamp.format(x.interval.end))\t\(x.capacity)\t\(x.kind.rawValue)\n")
                }
            }
            try db.copyIn("COPY change_freeze (code, starts_at, ends_at, reason) FROM STDIN") { w in
                for f in snapshot.freezes where f.environment == nil {
                    try w.write("\(f.code)\t\(PostgresTimestamp.format(f.interval.start))\t\(PostgresTimestamp.format(f.interval.end))\t\(f.reason.isEmpty ? "benchmark" : f.reason)\n")
                }
            }
            let targets = Set(snapshot.releases.flatMap(\.targets)).union(snapshot.targetParents.values).union(snapshot.targetParents.keys)
            try db.copyIn("COPY target (code) FROM STDIN") { w in for t in targets.sorted() { try w.write("\(t)\n") } }
            for (child, parent) in snapshot.targetParents.sorted(by: { $0.key < $1.key }) {
                try db.execute("UPDATE target SET part_of = $2 WHERE code = $1", [child, parent])
            }
            try db.execute("CREATE TEMP TABLE seed_release (grp text, code text, window_code text, s timestamptz, e timestamptz, priority int, status text, implementer text, deadline timestamptz)")
            try db.copyIn("COPY seed_release FROM STDIN") { w in
                for r in snapshot.releases {
                    let code = String(r.key.split(separator: "/").last ?? "")
                    try w.write("\(r.group)\t\(code)\t\(r.window ?? "\\N")\t\(r.deploy.map { PostgresTimestamp.format($0.start) } ?? "\\N")\t\(r.deploy.map { PostgresTimestamp.format($0.end) } ?? "\\N")\t\(r.priority)\t\(r.status.rawValue)\t\(r.implementer ?? "\\N")\t\(r.deadline.map(PostgresTimestamp.format) ?? "\\N")\n")
                }
            }
            try db.execute("""
                INSERT INTO release (group_id, plan_id, code, window_id, deploy_start, deploy_end, priority, status, implementer, deadline)
                SELECT g.id, p.id, s.code, w.id, s.s, s.e, s.priority, s.status, s.implementer, (s.deadline - interval '1 second')::date
                FROM seed_release s JOIN management_group g ON g.code = s.grp JOIN release_plan p ON p.group_id = g.id
                LEFT JOIN service_window w ON w.code = s.window_code
                """)
            try db.execute("CREATE TEMP TABLE seed_booking (key text, env text, s timestamptz, e timestamptz, status text)")
            try db.copyIn("COPY seed_booking FROM STDIN") { w in
                for r in snapshot.releases {
                    for b in r.bookings {
                        try w.write("\(r.key)\t\(b.environment)\t\(PostgresTimestamp.format(b.interval.start))\t\(PostgresTimestamp.format(b.interval.end))\ttentative\n")
                    }
                }
            }
            try db.execute("""
                INSERT INTO environment_booking (group_id, release_id, environment_id, during, status, exclusive)
                SELECT r.group_id, r.id, e.id, tstzrange(b.s, b.e), b.status, e.capacity = 1
                FROM seed_booking b JOIN management_group g ON g.code = split_part(b.key, '/', 1)
                JOIN release r ON r.group_id = g.id AND r.code = split_part(b.key, '/', 2) JOIN environment e ON e.code = b.env
                ON CONFLICT DO NOTHING
                """)
            try db.execute("""
                INSERT INTO release_package (group_id, release_id, code) SELECT group_id, id, 'core' FROM release
                """)
            try db.execute("CREATE TEMP TABLE seed_unit (key text, target text)")
            try db.copyIn("COPY seed_unit FROM STDIN") { w in
                for r in snapshot.releases { for t in r.targets { try w.write("\(r.key)\t\(t)\n") } }
            }
            try db.execute("""
                INSERT INTO release_unit (group_id, package_id, code, kind, target_code, version)
                SELECT p.group_id, p.id, 'u-' || row_number() OVER (PARTITION BY p.id ORDER BY u.target), 'application', u.target, '1.0.0'
                FROM seed_unit u JOIN management_group g ON g.code = split_part(u.key, '/', 1)
                JOIN release r ON r.group_id = g.id AND r.code = split_part(u.key, '/', 2) JOIN release_package p ON p.release_id = r.id
                """)
            try db.execute("CREATE TEMP TABLE seed_dep (key text, dep text)")
            try db.copyIn("COPY seed_dep FROM STDIN") { w in
                for r in snapshot.releases { for d in r.dependsOn { try w.write("\(r.key)\t\(d)\n") } }
            }
            try db.execute("""
                INSERT INTO release_dependency (group_id, release_id, depends_on_id)
                SELECT r.group_id, r.id, d.id FROM seed_dep s
                JOIN management_group g ON g.code = split_part(s.key, '/', 1) JOIN release r ON r.group_id = g.id AND r.code = split_part(s.key, '/', 2)
                JOIN management_group dg ON dg.code = split_part(s.dep, '/', 1) JOIN release d ON d.group_id = dg.id AND d.code = split_part(s.dep, '/', 2)
                ON CONFLICT DO NOTHING
                """)
        }
        try db.execute("VACUUM ANALYZE", simple: true)
        let (seconds, attoseconds) = (clock.now - started).components
        let bookings = snapshot.releases.reduce(0) { $0 + $1.bookings.count }
        let sample = snapshot.releases.first.map(\.key) ?? ""
        FileHandle.standardError.write(Data("seeded \(snapshot.releases.count) releases, \(bookings) bookings, \(snapshot.windows.count) windows, \(snapshot.environments.count) environments; sample release \(sample)\n".utf8))
        return ["seed_s": Double(seconds) + Double(attoseconds) / 1e18, "releases": Double(snapshot.releases.count), "bookings": Double(bookings)]
    }
}
