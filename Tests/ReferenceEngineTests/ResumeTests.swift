import Testing
import ModelFormat
@testable import ReferenceEngine

/// N steps in one run equal k steps, a checkpoint, then N − k resumed steps: every weight, slot, counter, RNG word
/// and loss-history entry bit for bit.
struct ResumeTests {
    static let architecture = Architecture(inputShape: [6], layers: [
        dense("d1", 16, .tanh), Layer(name: "drop", kind: .dropout(rate: 0.25)),
        Layer(name: "bn", kind: .batchNormalization(BatchNormalizationConfig())), dense("d2", 8, .relu), dense("out", 3, .softmax),
    ])

    static func data() -> TrainingSet {
        var random = TestRandom(9)
        let rows = 23  // batches of 5: four full ones and a last one of 3
        let x = random.values(rows * 6, -2, 2)
        let labels = (0..<rows).map { _ in Double(Int(random.next() * 3)) }
        return TrainingSet(inputs: x, targets: labels, rows: rows, targetColumns: 1)
    }

    static let optimizers: [OptimizerConfig] = [
        .adam(AdamConfig(learningRate: 0.01)), .sgd(SGDConfig(learningRate: 0.05, momentum: 0.9, nesterov: true)),
        .rmsprop(RMSpropConfig(learningRate: 0.01, momentum: 0.5, centered: true)), .adam(AdamConfig(amsgrad: true, formulation: .pytorch)),
    ]

    func options(_ optimizer: OptimizerConfig, shuffle: Bool, stop: TrainingStop, resume: Bool) -> TrainingOptions {
        var o = TrainingOptions()
        o.optimizer = optimizer
        o.loss = Loss(kind: .sparseCategoricalCrossentropy)
        o.batchSize = resume ? nil : 5
        o.shuffle = resume ? nil : shuffle
        o.seed = 42
        o.stop = stop
        o.resume = resume
        return o
    }

    @Test(arguments: [false, true], [0, 3, 4, 5, 9, 13])
    func stepsThenResumeEqualsOneRun(shuffle: Bool, k: Int64) throws {
        for (i, optimizer) in Self.optimizers.enumerated() {
            let start = randomModel(Self.architecture, dtype: i % 2 == 0 ? .f32 : .f64, seed: 5)
            let straight = try Training.run(start, data: Self.data(), options: options(optimizer, shuffle: shuffle, stop: .steps(14), resume: false))
            let first = try Training.run(start, data: Self.data(), options: options(optimizer, shuffle: shuffle, stop: .steps(k), resume: false))
            let resumed = try Training.run(first, data: Self.data(), options: options(optimizer, shuffle: shuffle, stop: .steps(14 - k), resume: true))
            #expect(resumed == straight, "\(optimizer.kindName) shuffle=\(shuffle) k=\(k)")
            #expect(straight.training?.step == 14 && straight.training?.epoch == 2 && straight.training?.positionInEpoch == 20)
            #expect(straight.training?.lossHistory.count == 2)
            #expect(first != straight || k == 14)
        }
    }

    @Test func epochsResumeUpToTheGivenEpoch() throws {
        let start = randomModel(Self.architecture, dtype: .f32, seed: 6)
        let optimizer = Self.optimizers[0]
        let straight = try Training.run(start, data: Self.data(), options: options(optimizer, shuffle: true, stop: .epochs(3), resume: false))
        let first = try Training.run(start, data: Self.data(), options: options(optimizer, shuffle: true, stop: .steps(7), resume: false))
        let resumed = try Training.run(first, data: Self.data(), options: options(optimizer, shuffle: true, stop: .epochs(3), resume: true))
        #expect(resumed == straight)
        #expect(straight.training?.epoch == 3 && straight.training?.step == 15 && straight.training?.lossHistory.count == 3)
    }

    @Test func shuffleChangesTheOrderAndTheSeedMatters() throws {
        let rng = CounterRNG(seed: 1)
        let a = rng.permutation(count: 50, epoch: 0), b = rng.permutation(count: 50, epoch: 1)
        #expect(a.sorted() == Array(0..<50) && b.sorted() == Array(0..<50))
        #expect(a != b && a != Array(0..<50))
        #expect(CounterRNG(seed: 2).permutation(count: 50, epoch: 0) != a)
        #expect(rng.permutation(count: 50, epoch: 0) == a)
    }

    @Test func dropoutKeepsAboutTheRightShare() {
        let keep: [Bool] = CounterRNG(seed: 3).dropoutKeep(count: 20000, step: 4, layerIndex: 1, keepProbability: Float(0.75))
        let share = Double(keep.filter { $0 }.count) / 20000
        #expect(abs(share - 0.75) < 0.02)
    }

    @Test func resumeWithoutStateIsATypedError() throws {
        let start = randomModel(Self.architecture, dtype: .f32, seed: 6)
        #expect(throws: ModelError.invalidValue(field: "training", message: "--resume needs a checkpoint with a training state; this model has none")) {
            try Training.run(start, data: Self.data(), options: options(Self.optimizers[0], shuffle: false, stop: .steps(1), resume: true))
        }
    }

    @Test func badLabelsAreATypedError() throws {
        let start = randomModel(Self.architecture, dtype: .f32, seed: 6)
        var data = Self.data()
        data.targets[4] = 3
        #expect(throws: ModelError.invalidValue(field: "targets row 5", message: "label 3.0 is not an integer class in 0..<3")) {
            try Training.run(start, data: data, options: options(Self.optimizers[0], shuffle: false, stop: .steps(1), resume: false))
        }
    }
}
