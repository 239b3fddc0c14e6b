import Testing
@testable import ReleaseCore

@Suite("Did-you-mean suggestions")
struct SuggestionsTests {
    let windows = ["SW-2027-03-14", "SW-2027-03-11", "SW-2027-04-11", "SW-2027-03-28"]

    @Test func swappedDigitsSuggestTheSwap() {
        #expect(Suggestions.unknown("window", "SW-2027-03-41", among: windows)
            == "unknown window SW-2027-03-41 (did you mean SW-2027-03-14?)")
    }

    @Test func caseIsIgnored() {
        #expect(Suggestions.nearest(to: "crm", in: ["CRM", "HR"]) == "CRM")
        #expect(Suggestions.nearest(to: "sw-2027-03-28", in: windows) == "SW-2027-03-28")
        #expect(Suggestions.nearest(to: "TEST-INT", in: ["test-int", "test-ext"]) == "test-int")
    }

    @Test func farCodesAreNotSuggested() {
        #expect(Suggestions.nearest(to: "PROD", in: ["TEST-INT", "STAGING"]) == nil)
        #expect(Suggestions.didYouMean("X", in: ["Y", "Z"]) == "")
        #expect(Suggestions.nearest(to: "", in: ["A"]) == nil)
        #expect(Suggestions.nearest(to: "R-2027.03", in: [String]()) == nil)
    }

    @Test func tiesAreBrokenTheSameWayWhateverTheOrder() {
        // SW-2027-03-12 is one substitution from both; the code-point order decides.
        let candidates = ["SW-2027-03-13", "SW-2027-03-11"]
        #expect(Suggestions.nearest(to: "SW-2027-03-12", in: candidates) == "SW-2027-03-11")
        #expect(Suggestions.nearest(to: "SW-2027-03-12", in: candidates.reversed()) == "SW-2027-03-11")
        // A candidate of the same length wins over an equally distant longer one.
        #expect(Suggestions.nearest(to: "R-2027.3", in: ["R-2027.03", "R-2027.4"]) == "R-2027.4")
    }

    @Test func distance() {
        #expect(Suggestions.editDistance("abc", "abc") == 0)
        #expect(Suggestions.editDistance("ABC", "abc") == 0)
        #expect(Suggestions.editDistance("abc", "acb") == 0.5)
        #expect(Suggestions.editDistance("abc", "abd") == 1)
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("", "abc") == 3)
        #expect(Suggestions.editDistance("förvaltningsgrupp", "FÖRVALTNINGSGRUPP") == 0)
    }

    @Test func fieldNameTypos() {
        let fields = ["group", "plan", "release", "release_title", "deploy_start", "deploy_end", "environment"]
        #expect(Suggestions.nearest(to: "relase_title", in: fields) == "release_title")
        #expect(Suggestions.nearest(to: "deploy_strat", in: fields) == "deploy_start")
        #expect(Suggestions.nearest(to: "enviroment", in: fields) == "environment")
    }
}
