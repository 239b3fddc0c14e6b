import Foundation
import PackagePlugin

/// Compiles text files into the module that needs them, so the `relplan` binary carries its own
/// schema and templates and runs from anywhere, with no resource folder beside it:
/// `sql/*.sql` into ReleaseStore (as `Migration.embedded`), and `Sources/Reporting/Templates/*`
/// into Reporting (as `Templates.embedded`), `Sources/RelplanServer/Assets/*`, `openapi.yaml` and the report's HTML template into
/// RelplanServer (as `Assets.embedded`).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let (folder, typeName): (URL, String)
        switch target.name {
        case "Reporting": (folder, typeName) = (context.package.directoryURL.appending(path: "Sources/Reporting/Templates"), "Templates")
        case "RelplanServer": (folder, typeName) = (context.package.directoryURL.appending(path: "Sources/RelplanServer/Assets"), "Assets")
        default: (folder, typeName) = (context.package.directoryURL.appending(path: "sql"), "Migration")
        }
        var files = try FileManager.default.contentsOfDirectory(atPath: folder.path(percentEncoded: false))
            .filter { !$0.hasPrefix(".") }
            .sorted()
            .map { folder.appending(path: $0) }
        if target.name == "RelplanServer" {
            // The report's template too: the server's pages take their look from its stylesheet.
            files.append(context.package.directoryURL.appending(path: "openapi.yaml"))
            files.append(context.package.directoryURL.appending(path: "Sources/Reporting/Templates/report.html.mustache"))
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "Embedded\(typeName).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files into \(target.name)",
                executable: try context.tool(named: "embed-sql").url,
                arguments: [output.path(percentEncoded: false), typeName] + files.map { $0.path(percentEncoded: false) },
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
