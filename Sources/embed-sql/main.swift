// Writes a Swift file holding the given SQL files as string literals (see Plugins/EmbedMigrations).
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: embed-sql OUTPUT.swift FILE.sql...\n".utf8))
    exit(64)
}
var source = "// Generated from sql/ by embed-sql; do not edit.\n\nextension Migration {\n"
source += "    static let embedded: [(file: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let text = try String(contentsOf: url, encoding: .utf8)
    // A raw string with enough #s that nothing in the SQL can close it.
    var hashes = "#"
    while text.contains("\"" + hashes) { hashes += "#" }
    source += "        (\"\(url.lastPathComponent)\", \(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)),\n"
}
source += "    ]\n}\n"
try source.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
