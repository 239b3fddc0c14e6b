import Foundation
import Postgres
import Testing
import TestSupport

@Suite("COPY")
struct CopyTests {
    @Test("100,000 rows arrive whole and read back with COPY TO")
    func bulk() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("CREATE TABLE staging (n int, label text)")
            let stored = try db.copyIn("COPY staging (n, label) FROM STDIN") { writer in
                for n in 0..<100_000 { try writer.write("\(n)\tlabel å \(n)\n") }
            }
            #expect(stored == 100_000)
            let row = try #require(try db.query("SELECT count(*), sum(n), count(DISTINCT label) FROM staging").first)
            let (count, sum, labels) = try row.decode((Int, Int, Int).self)
            #expect(count == 100_000)
            #expect(sum == 4_999_950_000)
            #expect(labels == 100_000)
            var read = 0
            try db.copyOut("COPY staging TO STDOUT") { _ in read += 1 }
            #expect(read == 100_000)
        }
    }

    @Test("a COPY aborted mid-way leaves nothing, and the connection stays usable")
    func aborted() throws {
        struct Stop: Error {}
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("CREATE TABLE staging (n int)")
            #expect(throws: Stop.self) {
                try db.copyIn("COPY staging (n) FROM STDIN", chunkSize: 4096) { writer in
                    for n in 0..<50_000 {
                        try writer.write("\(n)\n")
                        if n == 30_000 { throw Stop() }
                    }
                }
            }
            #expect(try db.query("SELECT count(*) FROM staging").first?.decode(Int.self) == 0)
        }
    }

    @Test("a bad row fails the whole COPY with the server's message")
    func badRow() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("CREATE TABLE staging (n int)")
            do {
                try db.copyIn("COPY staging (n) FROM STDIN") { writer in
                    try writer.write("1\n2\nthree\n4\n")
                }
                Issue.record("COPY should fail")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22P02")
            }
            #expect(try db.query("SELECT count(*) FROM staging").first?.decode(Int.self) == 0)
        }
    }
}
