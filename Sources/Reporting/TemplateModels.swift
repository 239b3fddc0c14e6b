import Foundation
import Mustache

// Mustache finds a view model's fields through `MustacheParent` here instead of `Mirror`:
// reflection made the timeline of a large report take seconds (every bar's every field, and
// every lookup that climbs the context stack, built a mirror of each enclosing object).
// Keep these in step with the fields the templates use; a field missing here renders as empty.

extension HTMLPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "digest": self.digest
        case "timeline": self.timeline
        default: nil
        }
    }
}

extension ReportDigest: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": self.title
        case "scope": self.scope
        case "date": self.date
        case "generated": self.generated
        case "generatedUTC": self.generatedUTC
        case "zone": self.zone
        case "horizon": self.horizon
        case "newCount": self.newCount
        case "openCount": self.openCount
        case "resolvedCount": self.resolvedCount
        case "sections": self.sections
        case "proposals": self.proposals
        case "hasProposals": self.hasProposals
        case "proposalsMore": self.proposalsMore
        case "coordination": self.coordination
        case "hasCoordination": self.hasCoordination
        case "windows": self.windows
        case "hasWindows": self.hasWindows
        case "windowsMore": self.windowsMore
        case "freezes": self.freezes
        case "hasFreezes": self.hasFreezes
        case "freezesMore": self.freezesMore
        case "textLanguage": self.textLanguage
        default: nil
        }
    }
}

extension ReportDigest.ConflictSection: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": self.key
        case "title": self.title
        case "items": self.items
        case "hasItems": self.hasItems
        case "count": self.count
        case "more": self.more
        default: nil
        }
    }
}

extension ReportDigest.ConflictLine: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "status": self.status
        case "type": self.type
        case "severity": self.severity
        case "resource": self.resource
        case "releases": self.releases
        case "message": self.message
        case "age": self.age
        default: nil
        }
    }
}

extension ReportDigest.ProposalLine: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "release": self.release
        case "action": self.action
        case "from": self.from
        case "to": self.to
        case "reason": self.reason
        case "proposedBy": self.proposedBy
        case "proposedAt": self.proposedAt
        default: nil
        }
    }
}

extension ReportDigest.CoordinationGroup: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "group": self.group
        case "waitingOnOthers": self.waitingOnOthers
        case "hasWaitingOnOthers": self.hasWaitingOnOthers
        case "othersWaitingOnYou": self.othersWaitingOnYou
        case "hasOthersWaitingOnYou": self.hasOthersWaitingOnYou
        default: nil
        }
    }
}

extension ReportDigest.WindowLine: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "code": self.code
        case "when": self.when
        case "kind": self.kind
        case "load": self.load
        case "isFull": self.isFull
        case "isOver": self.isOver
        case "percent": self.percent
        case "releases": self.releases
        default: nil
        }
    }
}

extension ReportDigest.FreezeLine: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "code": self.code
        case "when": self.when
        case "scope": self.scope
        case "reason": self.reason
        default: nil
        }
    }
}

extension Timeline: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "width": self.width
        case "height": self.height
        case "lanesBottom": self.lanesBottom
        case "gridTop": self.gridTop
        case "gridLines": self.gridLines
        case "axisLabels": self.axisLabels
        case "headers": self.headers
        case "lanes": self.lanes
        case "globalFreezes": self.globalFreezes
        case "legend": self.legend
        case "notes": self.notes
        case "now": self.now
        default: nil
        }
    }
}

extension Timeline.NowMark: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": self.x
        case "labelX": self.labelX
        case "labelY": self.labelY
        case "anchor": self.anchor
        case "text": self.text
        case "title": self.title
        default: nil
        }
    }
}

extension Timeline.GridLine: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": self.x
        case "kind": self.kind
        default: nil
        }
    }
}

extension Timeline.AxisLabel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": self.x
        case "y": self.y
        case "text": self.text
        case "kind": self.kind
        default: nil
        }
    }
}

extension Timeline.Header: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "y": self.y
        case "text": self.text
        default: nil
        }
    }
}

extension Timeline.Rect: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": self.x
        case "y": self.y
        case "width": self.width
        case "height": self.height
        case "title": self.title
        case "caption": self.caption
        case "captionX": self.captionX
        case "captionY": self.captionY
        default: nil
        }
    }
}

extension Timeline.Bar: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": self.x
        case "y": self.y
        case "width": self.width
        case "height": self.height
        case "fill": self.fill
        case "classes": self.classes
        case "title": self.title
        case "isConflict": self.isConflict
        case "barLabel": self.barLabel
        case "labelX": self.labelX
        case "labelY": self.labelY
        default: nil
        }
    }
}

extension Timeline.Lane: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "kind": self.kind
        case "code": self.code
        case "y": self.y
        case "height": self.height
        case "isStriped": self.isStriped
        case "label": self.label
        case "labelY": self.labelY
        case "title": self.title
        case "slot": self.slot
        case "slotClasses": self.slotClasses
        case "note": self.note
        case "noteX": self.noteX
        case "noteAnchor": self.noteAnchor
        case "noteClasses": self.noteClasses
        case "freezes": self.freezes
        case "bars": self.bars
        default: nil
        }
    }
}

extension Timeline.LegendEntry: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "colour": self.colour
        default: nil
        }
    }
}
