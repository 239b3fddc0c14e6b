import Foundation
import PackagePlugin

/// Compiles `sql/*.sql` into the ReleaseStore module, so the `relplan` binary carries its own
/// schema and runs from anywhere, with no resource folder beside it.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let sqlFolder = context.package.directoryURL.appending(path: "sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: sqlFolder.path())
            .filter { $0.hasSuffix(".sql") }
            .sorted()
            .map { sqlFolder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL migrations",
                executable: try context.tool(named: "embed-sql").url,
                arguments: [output.path()] + files.map { $0.path() },
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
