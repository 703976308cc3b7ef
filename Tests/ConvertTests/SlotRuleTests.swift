import Foundation
import Testing
@testable import Convert
import ModelFormat

/// The slot rules of spec/binary-format.md hold in the JSON dump reader as in the `.mkf` reader (both list slots with
/// their names): a JSON dump of an Adam (AMSGrad) checkpoint, one entry edited.
@Suite struct SlotRuleTests {
    static func read(_ edit: (String) -> String) throws -> Model {
        let text = String(decoding: try JSONDump.encode(TestModels.checkpoint(.f32)), as: UTF8.self)
        let edited = edit(text)
        #expect(edited != text, "the edit changed nothing")
        return try Array(edited.utf8).withUnsafeBytes { try JSONDump.decode($0, source: "m.json") }
    }

    @Test func misnamedSlotIsRefused() {
        #expect(throws: ModelError.slotNameMismatch(tensor: "optimizer/dense/kernel/m", expected: "optimizer/dense/kernel/momentum")) {
            try Self.read { $0.replacingOccurrences(of: #""name":"optimizer/dense/kernel/momentum""#, with: #""name":"optimizer/dense/kernel/m""#) }
        }
    }

    @Test func secondEntryForOneSlotIsRefused() {
        #expect(throws: ModelError.duplicateSlot(parameter: "dense/kernel", slot: "momentum", tensors: ["optimizer/dense/kernel/momentum", "optimizer/dense/kernel/velocity"])) {
            try Self.read { $0.replacingOccurrences(of: #""parameter":"dense/kernel","slot":"velocity""#, with: #""parameter":"dense/kernel","slot":"momentum""#) }
        }
    }

    @Test func slotTheOptimizerDoesNotKeepIsRefused() {
        let renamed = { (t: String) in
            t.replacingOccurrences(of: #""name":"optimizer/dense/kernel/velocity_hat","role":"optimizer_slot","parameter":"dense/kernel","slot":"velocity_hat""#,
                                   with: #""name":"optimizer/dense/kernel/average_gradient","role":"optimizer_slot","parameter":"dense/kernel","slot":"average_gradient""#)
        }
        #expect(throws: ModelError.unusedSlot(tensor: "optimizer/dense/kernel/average_gradient", optimizer: "adam with amsgrad",
                                              keeps: ["momentum", "velocity", "velocity_hat"])) { try Self.read(renamed) }
    }
}
