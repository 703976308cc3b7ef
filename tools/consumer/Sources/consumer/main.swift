import Convert
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

// Loads a model file through the library and prints what it holds: `consumer FILE`.
let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    print("usage: consumer FILE")
    exit(2)
}
do {
    let model = try ModelFiles.load(path: arguments[1])
    let layers = model.graph?.layers.count ?? model.engineArchitecture?.layers.count ?? 0
    print("\(arguments[1]): \(layers) layers, \(model.weights.count) weight tensors, optimizer \(model.optimizer?.config.kindName ?? "none")")
} catch {
    print("error: \(error)")
    exit(1)
}
