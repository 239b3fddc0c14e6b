import Foundation

/// The fields of the CSV import format (DESIGN.md §4), named as the header spells them.
public enum ImportField: String, Sendable, CaseIterable, Comparable {
    case group
    case plan
    case planTitle = "plan_title"
    case changeRef = "change_ref"
    case release
    case releaseTitle = "release_title"
    case window
    case deployStart = "deploy_start"
    case deployEnd = "deploy_end"
    case priority
    case deadline
    case dependsOn = "depends_on"
    case package
    case unit
    case unitKind = "unit_kind"
    case target
    case version
    case environment
    case envStart = "env_start"
    case envEnd = "env_end"

    /// The header name in the file format.
    public var name: String { rawValue }

    /// The Swedish header name, accepted as well.
    public var swedishName: String {
        switch self {
        case .group: return "förvaltningsgrupp"
        case .plan: return "releaseplan"
        case .planTitle: return "planrubrik"
        case .changeRef: return "ändringsärende"
        case .release: return "release"
        case .releaseTitle: return "releaserubrik"
        case .window: return "servicefönster"
        case .deployStart: return "driftsättning_start"
        case .deployEnd: return "driftsättning_slut"
        case .priority: return "prioritet"
        case .deadline: return "senast"
        case .dependsOn: return "beroende_av"
        case .package: return "releasepaket"
        case .unit: return "releaseenhet"
        case .unitKind: return "enhetstyp"
        case .target: return "mål"
        case .version: return "version"
        case .environment: return "miljö"
        case .envStart: return "miljö_start"
        case .envEnd: return "miljö_slut"
        }
    }

    /// A header or field name in English or Swedish, in any case, with spaces or hyphens
    /// for underscores, composed or decomposed (`mål` typed on a Mac arrives decomposed).
    public init?(name: String) {
        let key = Self.normalized(name)
        guard let field = Self.byName[key] else { return nil }
        self = field
    }

    /// Every name a header may use, for suggestions.
    public static let allNames: [String] = allCases.flatMap { [$0.name, $0.swedishName] }

    /// Trimmed, NFC, lower case, spaces and hyphens as underscores.
    public static func normalized(_ name: String) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            .precomposedStringWithCanonicalMapping.lowercased()
        var out = String.UnicodeScalarView()
        for scalar in trimmed.unicodeScalars {
            out.append(scalar == " " || scalar == "-" ? "_" : scalar)
        }
        return String(out)
    }

    public static func < (lhs: ImportField, rhs: ImportField) -> Bool {
        lhs.index < rhs.index
    }

    /// Position in `allCases`, for tables indexed by field (a jump table, no hashing).
    var index: Int {
        switch self {
        case .group: return 0
        case .plan: return 1
        case .planTitle: return 2
        case .changeRef: return 3
        case .release: return 4
        case .releaseTitle: return 5
        case .window: return 6
        case .deployStart: return 7
        case .deployEnd: return 8
        case .priority: return 9
        case .deadline: return 10
        case .dependsOn: return 11
        case .package: return 12
        case .unit: return 13
        case .unitKind: return 14
        case .target: return 15
        case .version: return 16
        case .environment: return 17
        case .envStart: return 18
        case .envEnd: return 19
        }
    }

    private static let byName: [String: ImportField] = {
        var names = [String: ImportField]()
        for field in allCases {
            names[field.name] = field
            names[normalized(field.swedishName)] = field
        }
        return names
    }()
}
