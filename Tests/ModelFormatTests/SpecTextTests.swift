import Foundation
import Testing
@testable import ModelFormat
@testable import ModelHDF5

/// The spec's own words, read from spec/*.md, held against the code: the defaults table of spec/binary-format.md
/// against what `HeaderSchema` takes for each absent member, the names it lists against the names the reader accepts,
/// and spec/hdf5-layout.md's pre-open checks against `HDF5Guard`.
@Suite struct SpecTextTests {
    static func spec(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.root.deletingLastPathComponent().appendingPathComponent("spec/\(name)"), encoding: .utf8)
    }

    /// The lines of `text` from the heading `heading` to the next heading of any level.
    static func section(_ text: String, _ heading: String) -> [Substring] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return [] }
        let rest = lines[(start + 1)...]
        return Array(rest.prefix { !$0.hasPrefix("#") })
    }

    /// Rows `| \`object\`, … | \`member\` | \`default JSON\` | …` of the defaults table: (object, member) → default.
    static func defaultsTable() throws -> [String: [String: JSONValue]] {
        var table: [String: [String: JSONValue]] = [:]
        for line in section(try spec("binary-format.md"), "### Defaults") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let unquote = { (s: String) in s.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            let value = try JSONParser.parse(Array(unquote(cells[2]).utf8))
            for object in cells[0].split(separator: ",") {
                table[unquote(object.trimmingCharacters(in: .whitespaces)), default: [:]][unquote(cells[1])] = value
            }
        }
        return table
    }

    /// For each object the table speaks of: a written example with no member at its default, and the reader's
    /// round trip (read, then write again).
    static let objects: [(String, JSONValue, @Sendable (JSONValue) throws -> JSONValue)] = [
        ("dense", HeaderSchema.json(Layer(name: "d", kind: .dense(DenseConfig(units: 3, activation: .relu, useBias: false)))), layer),
        ("batch_normalization", HeaderSchema.json(Layer(name: "b", kind: .batchNormalization(BatchNormalizationConfig(momentum: 0.5, epsilon: 0.25, center: false, scale: false)))), layer),
        ("layer_normalization", HeaderSchema.json(Layer(name: "l", kind: .layerNormalization(LayerNormalizationConfig(epsilon: 0.25, center: false, scale: false)))), layer),
        ("leaky_relu", HeaderSchema.json(Activation.leakyRelu(negativeSlope: 0.5)), activation),
        ("elu", HeaderSchema.json(Activation.elu(alpha: 0.5)), activation),
        ("gelu", HeaderSchema.json(Activation.gelu(approximate: true)), activation),
        ("sgd", HeaderSchema.json(OptimizerState(config: .sgd(SGDConfig(learningRate: 0.5, momentum: 0.5, nesterov: true, formulation: .pytorch)), iteration: 7)), optimizer),
        ("adam", HeaderSchema.json(OptimizerState(config: .adam(AdamConfig(learningRate: 0.5, beta1: 0.5, beta2: 0.75, epsilon: 0.25, amsgrad: true, formulation: .pytorch)), iteration: 7)), optimizer),
        ("rmsprop", HeaderSchema.json(OptimizerState(config: .rmsprop(RMSpropConfig(learningRate: 0.5, rho: 0.5, momentum: 0.5, epsilon: 0.25, centered: true)), iteration: 7)), optimizer),
        ("training", HeaderSchema.json(TrainingState(loss: Loss(kind: .mae, fromLogits: true), epoch: 2, step: 5, batchSize: 4, shuffle: true,
                                                      rng: RNGState(algorithm: "modelkit-counter-v1", state: [3]), positionInEpoch: 3, lossHistory: [1])), training),
    ]
    static func layer(_ v: JSONValue) throws -> JSONValue { HeaderSchema.json(try HeaderSchema.layer(v, path: "layer")) }
    static func activation(_ v: JSONValue) throws -> JSONValue { HeaderSchema.json(try HeaderSchema.activation(v, path: "activation")) }
    static func optimizer(_ v: JSONValue) throws -> JSONValue { HeaderSchema.json(try HeaderSchema.optimizer(v)) }
    static func training(_ v: JSONValue) throws -> JSONValue { HeaderSchema.json(try HeaderSchema.training(v)) }

    /// JSON equality, numbers compared by value (`0` and `0.0` alike).
    static func same(_ a: JSONValue?, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.integer?, .integer), (.integer?, .number), (.number?, .integer), (.number?, .number):
            return (try? HeaderSchema.float(a!, path: "")) == (try? HeaderSchema.float(b, path: ""))
        default: return a == b
        }
    }

    /// Every member of every object is either in the table, and then absent or `null` reads as the stated default,
    /// or not, and then a reader refuses the object without it.
    @Test(arguments: objects.map(\.0)) func absentMemberIsTheSpecsDefaultOrRefused(object: String) throws {
        let (_, written, roundTrip) = Self.objects.first { $0.0 == object }!
        let defaults = try Self.defaultsTable()[object] ?? [:]
        guard case .object(let members) = written else { Issue.record("not an object"); return }
        for (member, _) in members {
            let without = JSONValue.object(members.filter { $0.0 != member })
            let null = JSONValue.object(members.map { $0.0 == member ? ($0.0, .null) : $0 })
            if let stated = defaults[member] {
                for variant in [without, null] {
                    let read = try roundTrip(variant)
                    #expect(Self.same(read[member], stated), "\(object).\(member): read as \(read[member]?.text ?? "nothing"), the spec says \(stated.text)")
                }
            } else {
                #expect(throws: ModelError.self, "\(object).\(member) is optional in the reader but has no default in the spec") { try roundTrip(without) }
            }
        }
        for member in defaults.keys { #expect(members.contains { $0.0 == member }, "\(object).\(member): in the spec's table but never written") }
    }

    @Test func lossNamesAndAliasesAreTheSpecs() throws {
        let text = Self.section(try Self.spec("binary-format.md"), "### training").joined(separator: "\n")
        for kind in LossKind.allCases { #expect(text.contains("`\(kind.rawValue)`"), "loss \(kind.rawValue)") }
        for (alias, kind) in [("mse", LossKind.mse), ("mae", .mae)] {
            #expect(LossKind(name: alias) == kind)
            #expect(text.contains("`\(alias)`"), "alias \(alias) is read but not in the spec")
        }
    }

    @Test func activationNamesObjectsAndParametersAreTheSpecs() throws {
        let text = Self.section(try Self.spec("binary-format.md"), "### architecture").joined(separator: "\n")
        for name in Activation.allNames + ["swish"] { #expect(text.contains("`\(name)`"), "activation \(name)") }
        #expect(text.contains(#"`{"name": "relu"}`"#), "the object form of an activation without parameters is read but not in the spec")
        #expect(try HeaderSchema.activation(.object([("name", .string("relu"))]), path: "a") == .relu)
        // Only the listed names: the empty string is not one.
        #expect(throws: ModelError.self) { try HeaderSchema.activation(.string(""), path: "a") }
        #expect(throws: ModelError.self) { try HeaderSchema.activation(.object([("name", .string(""))]), path: "a") }
        // Parameters are finite numbers.
        #expect(throws: ModelError.self) { try HeaderSchema.activation(.object([("name", .string("elu")), ("alpha", .string("NaN"))]), path: "a") }
        #expect(throws: ModelError.self) { try HeaderSchema.activation(.object([("name", .string("leaky_relu")), ("negative_slope", .string("Infinity"))]), path: "a") }
    }

    @Test func nullOptimizerTrainingAndMetadataMeanAbsent() throws {
        let text = Self.section(try Self.spec("binary-format.md"), "## Header JSON").joined(separator: "\n")
        #expect(text.contains("`optimizer` and `training` are optional (absent or `null` when the model has none)"))
        let kernel = [UInt8](repeating: 0, count: 8)
        let crc = CRC32C.checksum(kernel)
        let header = #"{"architecture":\#(oneTensorArchitecture),"tensors":[{"name":"d/kernel","role":"weight","dtype":"f32","shape":[2,1],"offset":0,"length":8,"crc32c":\#(crc)}],"optimizer":null,"training":null,"metadata":null}"#
        let model = try decode(craftMKF(header: header, data: kernel, tensorCRCs: [crc]))
        #expect(model.optimizer == nil && model.training == nil && model.metadata.isEmpty)
    }

    @Test func hdf5PreOpenChecksAreStatedInProse() throws {
        let rules = Self.section(try Self.spec("hdf5-layout.md"), "## Reading rules").joined(separator: "\n")
        #expect(!rules.contains("Sources/"), "the reading rules point at a source file instead of stating the checks")
        for fact in ["`GCOL`", "free-space object", "size 0", "1, 2, 4 or 8", "\(HDF5.maxCollectionsForDescriptorScan) collections", "512"] {
            #expect(rules.contains(fact), "spec/hdf5-layout.md's reading rules do not state: \(fact)")
        }
    }
}
