import Testing
import ModelFormat

@Suite struct SpecParserTests {
    @Test func architectureChains() throws {
        let a = try ArchitectureSpec.parse("4-8relu-6tanh-3softmax")
        #expect(a.inputShape == [4])
        #expect(a.layers.map(\.name) == ["dense", "dense_1", "dense_2"])
        #expect(a.layers[2].kind == .dense(DenseConfig(units: 3, activation: .softmax)))
        // 4·8+8 + 8·6+6 + 6·3+3
        #expect(a.parameterCount == 40 + 54 + 21)
        let b = try ArchitectureSpec.parse("784-256relu-10")
        #expect(b.layers[1].kind == .dense(DenseConfig(units: 10, activation: .linear)))
        let c = try ArchitectureSpec.parse("8-16-bn-relu-dropout0.25-ln-3sigmoid")
        #expect(c.layers.map(\.kind.typeName) == ["dense", "batch_normalization", "activation", "dropout", "layer_normalization", "dense"])
        #expect(c.layers[3].kind == .dropout(rate: 0.25))
    }

    @Test func badChainsPointAtTheItem() {
        for (spec, fragment) in [("", "item 1"), ("4", "at least one layer"), ("4-8relu--3", "item 3 ''"), ("4-8foo-3", "item 2 '8foo'"),
                                 ("x-3", "item 1 'x'"), ("4-0relu", "item 2"), ("4-dropout1.5", "item 2"), ("4-99999999999999999999", "item 2")] {
            do {
                _ = try ArchitectureSpec.parse(spec)
                Issue.record("accepted '\(spec)'")
            } catch {
                #expect(error.description.contains(fragment), "'\(spec)': \(error)")
            }
        }
    }

    @Test func optimizers() throws {
        #expect(try OptimizerSpec.parse("adam") == .adam(AdamConfig()))
        #expect(try OptimizerSpec.parse("adam:lr=0.001,beta1=0.8") == .adam(AdamConfig(learningRate: 0.001, beta1: 0.8)))
        #expect(try OptimizerSpec.parse("sgd:lr=0.1,momentum=0.9,nesterov=true") == .sgd(SGDConfig(learningRate: 0.1, momentum: 0.9, nesterov: true)))
        #expect(try OptimizerSpec.parse("rmsprop:lr=0.001,centered=true") == .rmsprop(RMSpropConfig(learningRate: 0.001, centered: true)))
        #expect(try OptimizerSpec.parse("sgd:momentum=0.9,formulation=pytorch") == .sgd(SGDConfig(momentum: 0.9, formulation: .pytorch)))
        for bad in ["adagrad", "adam:lr", "adam:lr=abc", "adam:beta3=1", "sgd:lr=-1", "adam:lr=nan", "sgd:momentum=1.5", "sgd:nesterov=maybe"] {
            #expect(throws: ModelError.self, "\(bad)") { try OptimizerSpec.parse(bad) }
        }
    }

    @Test func losses() throws {
        #expect(try LossSpec.parse("mse") == Loss(kind: .mse))
        #expect(try LossSpec.parse("categorical_crossentropy:from_logits=true") == Loss(kind: .categoricalCrossentropy, fromLogits: true))
        #expect(throws: ModelError.self) { try LossSpec.parse("hinge") }
    }
}
