import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Parameters round-trip exactly")
struct ParameterTests {
    @Test("strings: empty, unicode, quotes, injection attempts, large texts")
    func strings() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, v text)")
            let values = [
                "", "å ä ö Å Ä Ö", "emoji 🚀👩‍💻", "it's \"quoted\" \\ backslash",
                "'; DROP TABLE release; --", "$1 $2 %s {}", String(repeating: "x", count: 2_000_000),
                "line\nbreak\ttab\r\n",
            ]
            for (index, value) in values.enumerated() {
                try db.execute("INSERT INTO t (id, v) VALUES ($1, $2)", [index, value])
            }
            for (index, value) in values.enumerated() {
                let back = try db.query("SELECT v FROM t WHERE id = $1", [index]).first?.decode(String.self)
                #expect(back == value)
            }
            #expect(try db.query("SELECT to_regclass('release') IS NOT NULL").first?.decode(Bool.self) == true)
        }
    }

    @Test("NULLs of every type")
    func nulls() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let row = try #require(
                try db.query(
                    "SELECT $1::text, $2::bigint, $3::boolean, $4::timestamptz, $5::uuid, $6::text[]",
                    [String?.none, Int?.none, Bool?.none, Date?.none, UUID?.none, [String]?.none]
                ).first)
            for column in 0..<6 { #expect(row.isNull(column)) }
            #expect(try row.decode(String?.self, 0) == nil)
            #expect(try row.decode(Int?.self, 1) == nil)
            #expect(throws: PostgresError.self) { try row.decode(String.self, 0) }
        }
    }

    @Test("numbers, booleans, UUIDs, doubles")
    func scalars() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let uuid = UUID()
            let row = try #require(
                try db.query("SELECT $1::bigint, $2::int, $3::boolean, $4::float8, $5::uuid, $6::bigint",
                             [Int64.max, Int32.min, true, 0.1, uuid, -42]).first)
            #expect(try row.decode(Int64.self, 0) == Int64.max)
            #expect(try row.decode(Int32.self, 1) == Int32.min)
            #expect(try row.decode(Bool.self, 2) == true)
            #expect(try row.decode(Double.self, 3) == 0.1)
            #expect(try row.decode(UUID.self, 4) == uuid)
            #expect(try row.decode(Int.self, 5) == -42)
        }
    }

    @Test("timestamps with zones keep the instant, to the microsecond")
    func timestamps() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let instant = Date(timeIntervalSince1970: 1_805_000_000.123456)
            let row = try #require(
                try db.query("SELECT $1::timestamptz, '2027-03-14 18:00+01'::timestamptz, $1::timestamptz AT TIME ZONE 'Europe/Stockholm'",
                             [instant]).first)
            let back = try row.decode(Date.self, 0)
            #expect(abs(back.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode(Date.self, 1) == Date(timeIntervalSince1970: 1_805_043_600))
            let before1970 = Date(timeIntervalSince1970: -86_400 * 365.25 * 30)
            let old = try db.query("SELECT $1::timestamptz", [before1970]).first?.decode(Date.self)
            #expect(old == before1970)
        }
    }

    @Test("arrays of strings and integers, with quotes, commas, braces and unicode")
    func arrays() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let strings = ["a", "b,c", "{d}", "e\"f", "g\\h", "NULL", "", "ö 🚀"]
            let back = try db.query("SELECT $1::text[]", [strings]).first?.decode([String].self)
            #expect(back == strings)
            let numbers: [Int64] = [1, -2, Int64.max]
            #expect(try db.query("SELECT $1::bigint[]", [numbers]).first?.decode([Int64].self) == numbers)
            #expect(try db.query("SELECT cardinality($1::text[])", [[String]()]).first?.decode(Int.self) == 0)
        }
    }

    @Test("a value with a NUL byte is refused before it is cut short")
    func nulByte() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            #expect(throws: PostgresError.self) { try db.query("SELECT $1::text", ["a\u{0}b"]) }
        }
    }

    @Test("decoding a column as the wrong type says which column and what it holds")
    func mismatch() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let row = try #require(try db.query("SELECT 'abc'::text AS code").first)
            do {
                _ = try row.decode(Int.self, "code")
                Issue.record("decoding text as Int should fail")
            } catch let error as PostgresError {
                #expect(error.kind == .decoding)
                #expect(error.message.contains("code"))
                #expect(error.message.contains("abc"))
            }
            #expect(throws: PostgresError.self) { try row.decode(String.self, "missing") }
        }
    }
}
