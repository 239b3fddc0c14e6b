import ReleaseCore

/// A free-text option checked by ReleaseCore's text rules (length, control characters), as a
/// usage error (exit 64) that names the option: `--title: a title is at most 200 characters…`.
func checkedText(_ value: String, _ field: TextField, option: String) throws -> String {
    do { return try TextRules.checked(value, as: field) } catch { throw CLIError(.usage, "\(option): \(error)") }
}

func checkedTextIfGiven(_ value: String?, _ field: TextField, option: String) throws -> String? {
    try value.map { try checkedText($0, field, option: option) }
}
