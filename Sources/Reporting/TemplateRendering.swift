import Foundation
import Mustache
import Synchronization

/// Renders a view model with one of the embedded Mustache templates.
enum TemplateRendering {
    /// Parsed once per process: the nightly run renders a report per group with the same templates.
    private static let parsed = Mutex<[String: MustacheTemplate]>([:])

    static func render(_ viewModel: Any, template name: String) throws(ReportError) -> String {
        if let template = parsed.withLock({ $0[name] }) { return template.render(viewModel) }
        guard let text = Templates.text(name) else { throw .templateMissing(name: name) }
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: text)
        } catch {
            throw .templateInvalid(name: name, reason: String(describing: error))
        }
        parsed.withLock { $0[name] = template }
        return template.render(viewModel)
    }
}
