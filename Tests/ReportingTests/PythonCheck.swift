import Foundation
import Testing

/// Runs an independent checker written in Python on a rendered file, so the tests do not grade
/// the renderer's output with the renderer's own idea of the format.
///
/// python3 (and, for calendars, the `icalendar` package) are required: when missing, the test
/// fails and says how to install them; it never skips.
enum PythonCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `contents` to a temporary file, runs `python3 -c script FILE` and decodes the JSON
    /// the script prints.
    static func run(_ script: String, on contents: String, fileExtension: String, arguments: [String] = []) throws -> Any {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(UUID().uuidString).\(fileExtension)")
        try Data(contents.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, file.path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start python3 through /usr/bin/env: \(error). Install python3 (apt-get install -y python3).")
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0: break
        case 127: throw Failure(description: "python3 is not installed: apt-get install -y python3 (\(stderr))")
        case 3: throw Failure(description: "a Python package the check needs is missing: \(stderr)python3 -m pip install icalendar")
        default: throw Failure(description: "python3 check failed (exit \(process.terminationStatus)):\n\(stderr)")
        }
        do {
            return try JSONSerialization.jsonObject(with: stdout)
        } catch {
            throw Failure(description: "python3 check printed no JSON: \(String(decoding: stdout, as: UTF8.self))\n\(stderr)")
        }
    }
}
