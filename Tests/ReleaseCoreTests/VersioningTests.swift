import Foundation
import Testing
@testable import ReleaseCore

@Suite("Versioning rules")
struct VersioningTests {
    @Test("Semantic versions", arguments: ["0.0.0", "4.2.0", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
                                           "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0-rc-1"])
    func semverAccepts(version: String) throws {
        try VersioningRule.semver.check(version)
    }

    @Test("Not semantic versions", arguments: ["1.0", "v1.0.0", "01.0.0", "1.02.0", "1.0.0-", "1.0.0-01", "1.0.0+",
                                               "1.0.0-alpha..1", "1.0.0.0", "1.a.0", "", "1.0.0-al_pha"])
    func semverRefuses(version: String) {
        #expect(throws: VersionCheckError.self) { try VersioningRule.semver.check(version) }
    }

    @Test("Calendar versions", arguments: ["2027.03", "2027.3", "27.03", "2027.03.1", "2027.12.31", "2027.03-hotfix", "2027.03.2-rc.1"])
    func calverAccepts(version: String) throws {
        try VersioningRule.calver.check(version)
    }

    @Test("Not calendar versions", arguments: ["2027", "2027.13", "2027.00", "2027-03", "207.03", "2027.03.", "2027.03.1.2", "2027.003", "2027.03-"])
    func calverRefuses(version: String) {
        #expect(throws: VersionCheckError.self) { try VersioningRule.calver.check(version) }
    }

    @Test("A pattern must match the whole version")
    func pattern() throws {
        let rule = VersioningRule.pattern(#"R-\d{4}\.\d{2}"#)
        try rule.check("R-2027.03")
        #expect(throws: VersionCheckError(version: "R-2027.03b", rule: rule, reason: .doesNotMatchPattern(#"R-\d{4}\.\d{2}"#))) {
            try rule.check("R-2027.03b")
        }
        #expect(throws: VersionCheckError.self) { try rule.check("xR-2027.03") }
        let alternatives = VersioningRule.pattern("a|ab")
        try alternatives.check("ab")
    }

    @Test("A broken pattern is reported, not matched")
    func brokenPattern() {
        let rule = VersioningRule.pattern("R-(\\d+")
        #expect(rule.patternProblem != nil)
        #expect(VersioningRule.semver.patternProblem == nil)
        #expect {
            try rule.check("R-1")
        } throws: { error in
            "\(error)".hasPrefix("the versioning pattern does not compile: ")
        }
    }

    @Test("A matcher checks many versions with one compiled pattern")
    func matcher() throws {
        let matcher = try VersionMatcher(rule: .pattern("[0-9]+"))
        #expect(matcher.matches("42"))
        #expect(!matcher.matches("4a"))
        #expect(!matcher.matches(""))
    }

    @Test("Messages say which rule was broken and why")
    func messages() {
        #expect {
            try VersioningRule.semver.check("1.02.0")
        } throws: { error in
            "\(error)" == "version '1.02.0' is not a semantic version: minor '02' has a leading zero"
        }
        #expect {
            try VersioningRule.calver.check("2027.13")
        } throws: { error in
            "\(error)" == "version '2027.13' is not a calendar version: month '13' must be 1 to 12"
        }
    }
}
