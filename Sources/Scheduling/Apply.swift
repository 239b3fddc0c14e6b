import Foundation
import ReleaseCore

/// Why a resolution could not be applied to a snapshot.
public enum ResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A proposal names a release the snapshot does not hold.
    case unknownRelease(proposal: Int, release: String)
    /// A proposal moves a booking the release does not have.
    case unknownBooking(proposal: Int, release: String, bookingID: Int64)
    /// A `move-window` proposal without a new window or deployment, or a `retime` without a deployment.
    case incompleteMove(proposal: Int, release: String)

    public var description: String {
        switch self {
        case .unknownRelease(let proposal, let release):
            "proposal \(proposal + 1): release \(release) is not in the snapshot"
        case .unknownBooking(let proposal, let release, let bookingID):
            "proposal \(proposal + 1): release \(release) has no booking \(bookingID)"
        case .incompleteMove(let proposal, let release):
            "proposal \(proposal + 1): move of \(release) lacks its new window or deployment"
        }
    }
}

extension Snapshot {
    /// The snapshot as it would be with every proposal carried out. Pure: used by tests and by
    /// the importer's dry run.
    public func applying(_ resolution: Resolution) throws(ResolutionError) -> Snapshot {
        var result = self
        var position: [String: Int] = [:]
        for (i, release) in releases.enumerated() where position[release.key] == nil { position[release.key] = i }
        for (number, proposal) in resolution.proposals.enumerated() {
            guard let r = position[proposal.release] else {
                throw .unknownRelease(proposal: number, release: proposal.release)
            }
            switch proposal.action {
            case .moveWindow:
                guard let window = proposal.newWindow, let deploy = proposal.newDeploy else {
                    throw .incompleteMove(proposal: number, release: proposal.release)
                }
                result.releases[r].window = window
                result.releases[r].deploy = deploy
            case .retime:
                guard let deploy = proposal.newDeploy else { throw .incompleteMove(proposal: number, release: proposal.release) }
                result.releases[r].deploy = deploy
            case .shiftBooking:
                break
            }
            for move in proposal.bookingMoves {
                guard let b = result.releases[r].bookings.firstIndex(where: { $0.id == move.bookingID }) else {
                    throw .unknownBooking(proposal: number, release: proposal.release, bookingID: move.bookingID)
                }
                result.releases[r].bookings[b].interval = move.to
            }
        }
        return result
    }
}
