// Engine throughput on in-memory data, for tools/benchmarks/engine_bench.py (which runs Keras beside it):
// a 784-256relu-128relu-10softmax MLP, Adam, categorical cross-entropy; training samples/s at one batch size and
// prediction samples/s at another, the median of several repeats. Prints one JSON object.
import Foundation
import ModelFormat
import ReferenceEngine

func argument(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}

let trainRows = argument("--train-rows", 6400)
let predictRows = argument("--predict-rows", 10000)
let trainBatch = argument("--train-batch", 64)
let predictBatch = argument("--predict-batch", 1000)
let repeats = argument("--repeats", 5)
let warmups = argument("--warmup", 1)

let architecture = try ArchitectureSpec.parse("784-256relu-128relu-10softmax")
var model = ModelInitializer.initialize(architecture: architecture, seed: 0, dtype: .f32)
model.optimizer = OptimizerState(config: .adam(AdamConfig()))

/// A 64-bit LCG: inputs uniform in [0, 1), labels uniform in 0..<10.
struct LCG {
    var state: UInt64 = 12345
    mutating func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / 9_007_199_254_740_992.0
    }
}
func makeData() -> (x: [Double], labels: [Double]) {
    var generator = LCG()
    let x = (0..<(max(trainRows, predictRows) * 784)).map { _ in generator.uniform() }
    let labels = (0..<trainRows).map { _ in Double(Int(generator.uniform() * 10)) }
    return (x, labels)
}
let (x, labels) = makeData()

func median(_ values: [Double]) -> Double { let s = values.sorted(); return s[s.count / 2] }
/// Wall-clock seconds of `body`; its CPU seconds (all threads of the process) go to `cpu`.
func seconds(cpu: inout Double, _ body: () throws -> Void) rethrows -> Double {
    func processCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    let startCPU = processCPU()
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    cpu = processCPU() - startCPU
    return wall
}

var options = TrainingOptions()
options.loss = Loss(kind: .sparseCategoricalCrossentropy)
options.batchSize = trainBatch
options.stop = .epochs(1)
let data = TrainingSet(inputs: Array(x[0..<(trainRows * 784)]), targets: labels, rows: trainRows, targetColumns: 1)
var trainTimes: [Double] = [], trainCPU: [Double] = []
var lastLoss = 0.0
for r in 0..<(warmups + repeats) {
    var cpu = 0.0
    let time = try seconds(cpu: &cpu) {
        let trained = try Training.run(model, data: data, options: options)
        lastLoss = trained.training?.lossHistory.last ?? .nan
    }
    if r >= warmups { trainTimes.append(time); trainCPU.append(cpu) }
}

let predictInputs = Array(x[0..<(predictRows * 784)]).map { Float($0) }
var predictTimes: [Double] = [], predictCPU: [Double] = []
for r in 0..<(warmups + repeats) {
    var cpu = 0.0
    let time = try seconds(cpu: &cpu) {
        _ = try Inference.predict(model, inputs: predictInputs, rows: predictRows, batchSize: predictBatch, as: Float.self)
    }
    if r >= warmups { predictTimes.append(time); predictCPU.append(cpu) }
}

let result: [String: Any] = [
    "train_samples_per_s": Double(trainRows) / median(trainTimes),
    "predict_samples_per_s": Double(predictRows) / median(predictTimes),
    "train_seconds": trainTimes, "predict_seconds": predictTimes, "epoch_loss": lastLoss,
    "train_cpu_seconds": trainCPU, "predict_cpu_seconds": predictCPU,
    "train_rows": trainRows, "predict_rows": predictRows, "train_batch": trainBatch, "predict_batch": predictBatch,
]
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
