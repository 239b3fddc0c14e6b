import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Testing
import TestSupport

/// `Releases.book` books in one statement when a planner of the group books by codes (the role
/// checked in the statement), and reads who the person is only when that does not apply, to say
/// exactly why not. Every actor of the policy matrix tries: only CRM's planners book, without a
/// read of their identity; everyone else is refused in the store's words, after one read.
@Suite("Booking: one statement for a planner, the person read only for a refusal")
struct BookingFastPathTests {
    @Test("every actor books CRM's release; only its planners succeed, and they never read who they are")
    func onlyPlannersAndNoIdentityRead() throws {
        try withPolicyFixture { f in
            let ref = try ReleaseRef(group: "CRM", code: "R-2027.03")
            let start = Date(timeIntervalSince1970: 1_900_000_000)
            var booked: [Actor] = []
            for actor in Actor.allCases where actor != .notAUser {
                let db = try f.connect(actor)
                var reads = 0
                func me() throws -> Identity {
                    reads += 1
                    return try Identity.current(db)
                }
                do {
                    let booking = try Releases(db).book(ref, environment: "SPARE-ENV", start: start, end: start.addingTimeInterval(3600),
                                                        confirm: false, by: try me())
                    booked.append(actor)
                    #expect(reads == 0, "\(actor) booked in one statement")
                    #expect(booking.status == .tentative && booking.release == "CRM/R-2027.03")
                } catch let error as StoreError {
                    guard case .permissionDenied = error else {
                        Issue.record("\(actor): \(error)")
                        continue
                    }
                    #expect(reads == 1, "\(actor) was refused after reading who they are")
                }
            }
            #expect(Set(booked) == Actor.crmPlanners)
            // The planners booked the same time: one booking, updated in place.
            let stored = try f.superuser().query(
                "SELECT count(*) FROM environment_booking WHERE release_id = \(f.crmOpen) AND environment_id = \(f.spareEnvironment)"
            ).first?.decode(Int.self)
            #expect(stored == 1)
        }
    }
}
