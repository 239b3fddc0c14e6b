import Foundation

/// The report templates (`Sources/Reporting/Templates/`), compiled into the binary at build time.
enum Templates {
    static func text(_ name: String) -> String? {
        embedded.first { $0.file == name }?.text
    }
}
