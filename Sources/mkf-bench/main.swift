// .mkf save and load timings on one large model, for tools/benchmarks/mkf_bench.py, which times safetensors, h5py
// and NumPy on the same tensors and calls this program in turn with them, so that the load of a shared machine
// drifts over every format alike.
//   mkf-bench prepare --dir DIR [--arch SPEC]   makes a Glorot-initialised model with Adam slots filled with
//       deterministic values; writes DIR/model.mkf, and the tensors raw to DIR/tensors.bin with DIR/tensors.json
//       (name, dtype, shape, offset, length), so that the Python side stores the very same bytes
//   mkf-bench time OP --dir DIR                  times OP once and prints the seconds; OP is one of
//       save          MKFFile.write of the model held in memory, atomic and durable (temporary file, fsync, rename,
//                     fsync of the folder)
//       save_nosync   the same without the fsyncs
//       load_verify   MKFFile.read with every CRC32C checked (reads every byte)
//       load          MKFFile.read without checksums: memory-maps, reads no tensor data
//       load_touch    load, then one read per 4 KiB page of every tensor (the least that using the weights costs)
import Foundation
import ModelFormat

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mkf-bench: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail("usage: mkf-bench prepare|time OP --dir DIR [--arch SPEC]") }
let directory = option("--dir", ".build/bench/mkf")
let path = directory + "/model.mkf"

/// Adam's momentum and velocity, filled from a 64-bit LCG so that no tensor is all zeros (which some codecs favour).
func filled(like t: Tensor, seed: UInt64) -> Tensor {
    var state = seed
    let storage = TensorStorage(count: t.byteCount) { buffer in
        let floats = buffer.bindMemory(to: Float.self)
        for i in floats.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            floats[i] = Float(Int32(truncatingIfNeeded: state >> 32)) * 1e-12
        }
    }
    return Tensor(dtype: t.dtype, shape: t.shape, storage: storage)
}

func prepare() throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let spec = option("--arch", "1024-4096relu-4096relu-1024relu-10softmax")
    let architecture = try ArchitectureSpec.parse(spec)
    var model = ModelInitializer.initialize(architecture: architecture, seed: 1, dtype: .f32)
    var slots: [String: [String: Tensor]] = [:]
    for (i, p) in architecture.parameters.enumerated() where p.trainable {
        let w = model.weights[p.fullName]!
        slots[p.fullName] = ["momentum": filled(like: w, seed: UInt64(2 * i)),
                             "velocity": filled(like: w, seed: UInt64(2 * i + 1))]
    }
    model.optimizer = OptimizerState(config: .adam(AdamConfig()), iteration: 100, slots: slots)
    try MKFFile.write(model, path: path)

    // The same tensors, raw, in .mkf's canonical order: weights by parameter order, then slots.
    var order: [(String, Tensor)] = architecture.parameters.map { ($0.fullName, model.weights[$0.fullName]!) }
    for p in architecture.parameters where p.trainable {
        for slot in ["momentum", "velocity"] { order.append((NamedTensor.slotName(parameter: p.fullName, slot: slot), slots[p.fullName]![slot]!)) }
    }
    var manifest: [String] = []
    var raw = Data()
    for (name, t) in order {
        manifest.append("{\"name\":\"\(name)\",\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":\(t.shape),"
                        + "\"offset\":\(raw.count),\"length\":\(t.byteCount)}")
        raw.append(contentsOf: t.bytes)
    }
    try raw.write(to: URL(fileURLWithPath: directory + "/tensors.bin"))
    try ("[" + manifest.joined(separator: ",\n") + "]\n").write(toFile: directory + "/tensors.json", atomically: true,
                                                                 encoding: .utf8)
}

/// The model in anonymous memory, as the Python side holds its arrays (a mapped file would be a different source).
func ownedModel() throws -> Model {
    var model = try MKFFile.read(path: path)
    model.weights = model.weights.mapValues { t in
        Tensor(dtype: t.dtype, shape: t.shape, storage: TensorStorage(copying: t.bytes))
    }
    if var optimizer = model.optimizer {
        optimizer.slots = optimizer.slots.mapValues { slots in
            slots.mapValues { t in Tensor(dtype: t.dtype, shape: t.shape, storage: TensorStorage(copying: t.bytes)) }
        }
        model.optimizer = optimizer
    }
    return model
}

/// Times `body` after a sync(), so that no run pays for the writeback of an earlier one.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    sync()
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func touchEveryPage(_ model: Model) -> UInt8 {
    var sink: UInt8 = 0
    var tensors = Array(model.weights.values)
    for slots in model.optimizer?.slots.values.map({ Array($0.values) }) ?? [] { tensors += slots }
    for t in tensors { for i in stride(from: 0, to: t.byteCount, by: 4096) { sink &+= t.bytes[i] } }
    return sink
}

switch arguments[1] {
case "prepare":
    try prepare()
case "time":
    guard arguments.count >= 3 else { fail("time needs an operation") }
    var elapsed: Double
    switch arguments[2] {
    case "save", "save_nosync":
        let model = try ownedModel()
        // The target is deleted first (untimed), as the Python side does: freeing the old file's cached pages when
        // the rename replaces it is not the writer's cost.
        let target = directory + "/saved.mkf"
        unlink(target)
        elapsed = try seconds { try MKFFile.write(model, path: target, durable: arguments[2] == "save") }
    case "load_verify":
        elapsed = try seconds { _ = try MKFFile.read(path: path, verifyChecksums: true) }
    case "load":
        elapsed = try seconds { _ = try MKFFile.read(path: path, verifyChecksums: false) }
    case "load_touch":
        var sink: UInt8 = 0
        elapsed = try seconds { sink = touchEveryPage(try MKFFile.read(path: path, verifyChecksums: false)) }
        if sink == 1 { elapsed += 0 }  // keeps the reads from being optimised away
    default:
        fail("unknown operation \(arguments[2])")
    }
    print(elapsed)
default:
    fail("unknown mode \(arguments[1])")
}
