import Foundation
import Importing
import ReleaseStore

/// `import FILE`: reads the export (`-`: standard input), checks every row against the file's rules
/// and the database, and merges it (or with `dryRun` shows what it would change), in one transaction.
public struct ImportFile: UseCase {
    /// The path, or `-` for standard input.
    public let file: String
    public let options: ImportOptions
    /// A YAML mapping of a foreign export's columns and formats.
    public let mappingPath: String?
    public let mode: ImportErrorMode
    public let dryRun: Bool
    public let rejectsPath: String?
    public let zone: TimeZone

    public init(file: String, options: ImportOptions, mappingPath: String? = nil, mode: ImportErrorMode = .abort, dryRun: Bool = false,
                rejectsPath: String? = nil, zone: TimeZone) {
        self.file = file
        self.options = options
        self.mappingPath = mappingPath
        self.mode = mode
        self.dryRun = dryRun
        self.rejectsPath = rejectsPath
        self.zone = zone
    }

    public func run(in session: DatabaseSession) throws -> ImportOutcome {
        let me = try session.person()
        let input = try ImportInput(file)
        defer { input.cleanUp() }
        do {
            var options = self.options
            if let mappingPath { options.mapping = try ImportMapping.load(path: mappingPath) }
            let importer = Importer(db: session.db, identity: me, input: input, options: options, mode: mode, dryRun: dryRun,
                                    rejectsPath: rejectsPath, zone: zone)
            return try importer.run()
        } catch let failure as ImportFailure {
            throw ImportRefusal(issues: failure.issues, omitted: 0, input: input)
        } catch let rejection as ImportRejection {
            throw ImportRefusal(issues: rejection.issues, omitted: rejection.omitted, input: input)
        }
    }
}

/// An import refused before anything was written: every problem as FILE:LINE: field: what is
/// wrong (the file as the person named it), and one line that says nothing was imported.
public struct ImportRefusal: Error, CustomStringConvertible {
    public let problems: [String]
    public let description: String

    init(issues: [ImportIssue], omitted: Int, input: ImportInput) {
        problems = ImportOutput.problemLines(issues, omitted: omitted, rename: input.rename)
        description = ImportOutput.refusal(issues, omitted: omitted, file: input.displayName)
    }
}
