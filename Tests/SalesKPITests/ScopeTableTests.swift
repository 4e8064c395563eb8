import TestSupport
import Testing

@testable import SalesKPI

@Suite("Scope table")
struct ScopeTableTests {
    /// Against a plain dictionary of keys, through interning that grows the indices many times
    /// over and removals that renumber every scope. Rep ids repeat across regions, and a region
    /// named like a rep, so a lookup that ignored a key's kind or region would find the wrong one.
    @Test("finds every scope a plain dictionary does, through growth and removal")
    func matchesPlainModel() {
        var rng = seededGenerator(41)
        var table = ScopeTable()
        var model: Set<ScopeKey> = []
        for step in 0..<6_000 {
            let region = "r\(rng.next() % 12)"
            let key: ScopeKey =
                switch rng.next() % 20 {
                case 0: .company
                case 1, 2: .region(region)
                default: .rep(rng.next() % 2 == 0 ? "r\(rng.next() % 12)" : "rep-\(rng.next() % 900)", in: region)
                }
            let (i, isNew) = table.intern(key)
            #expect(isNew == model.insert(key).inserted)
            #expect(table.keys[i] == key)
            if step % 1_000 == 999 {
                // Remove about a third of the scopes; every index after the first gap changes.
                let doomed = Set(table.keys.indices.filter { _ in rng.next() % 3 == 0 })
                let doomedKeys = Set(doomed.map { table.keys[$0] })
                let removed = table.remove(doomed)
                #expect(removed.count == doomed.count)
                #expect(Set(removed) == doomedKeys)
                model.subtract(doomedKeys)
            }
            if step % 250 == 0 { check(table, model) }
        }
        check(table, model)
    }

    private func check(_ table: ScopeTable, _ model: Set<ScopeKey>) {
        #expect(table.count == model.count)
        #expect(Set(table.keys) == model)
        #expect(table.regionCount == model.count { $0.kind == .region })
        for region in (0..<12).map({ "r\($0)" }) {
            #expect(table.repCount(in: region) == model.count { $0.kind == .rep && $0.region == region })
            for rep in (0..<12).map({ "r\($0)" }) + (0..<900).map({ "rep-\($0)" }) + ["missing"] {
                let found = table.find(region: region, rep: rep)
                #expect(
                    found.region.map { table.keys[$0] } == (model.contains(.region(region)) ? .region(region) : nil))
                let repKey = ScopeKey.rep(rep, in: region)
                #expect(found.rep.map { table.keys[$0] } == (model.contains(repKey) ? repKey : nil))
            }
        }
        for key in model { #expect(table.find(key).map { table.keys[$0] } == key) }
        #expect(table.find(.rep("missing", in: "r1")) == nil)
        #expect(table.find(.region("rep-5")) == nil)
    }
}
