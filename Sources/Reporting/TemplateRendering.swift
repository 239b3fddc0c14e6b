import Foundation
import Mustache

/// Renders a view model with one of the embedded Mustache templates.
enum TemplateRendering {
    static func render(_ viewModel: Any, template name: String) throws(ReportError) -> String {
        guard let text = Templates.text(name) else { throw .templateMissing(name: name) }
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: text)
        } catch {
            throw .templateInvalid(name: name, reason: String(describing: error))
        }
        return template.render(viewModel)
    }
}
