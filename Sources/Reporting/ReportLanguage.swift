import Foundation

/// Which language the text people wrote is in (release titles, freeze reasons), so HTML can say
/// so with `lang` and a screen reader reads "Lönekörning" in Swedish. The report's own words are
/// English.
///
/// Taken from the locale (`LC_ALL`, then `LC_MESSAGES`, then `LANG`: `sv_SE.UTF-8` → `sv`) when
/// it names a language other than English, else from the report's zone for the zones whose
/// country has one national language (`Europe/Stockholm` → `sv`), else unknown (no `lang`).
public enum ReportLanguage {
    static let byZone: [String: String] = [
        "Europe/Stockholm": "sv", "Europe/Oslo": "nb", "Europe/Copenhagen": "da", "Europe/Berlin": "de",
        "Europe/Vienna": "de", "Europe/Paris": "fr", "Europe/Amsterdam": "nl", "Europe/Rome": "it",
        "Europe/Madrid": "es", "Europe/Lisbon": "pt", "Europe/Warsaw": "pl", "Europe/Prague": "cs",
        "Europe/Reykjavik": "is", "Atlantic/Reykjavik": "is", "Europe/Tallinn": "et", "Europe/Riga": "lv",
        "Europe/Vilnius": "lt", "Asia/Tokyo": "ja",
    ]

    public static func forUserText(zone: TimeZone, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[key], !value.isEmpty else { continue }
            let language = value.prefix { $0.isLetter }.lowercased()
            // The first one set decides; C, POSIX and English say nothing about the users' language.
            if language.count < 2 || language == "c" || language == "posix" || language == "en" { break }
            return language
        }
        return byZone[zone.identifier]
    }
}
