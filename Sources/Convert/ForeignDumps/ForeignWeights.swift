import Foundation
import ModelFormat

/// Maps weights named by another tool onto an architecture given with `--arch` (spec/foreign-formats.md, "Naming").
///
/// - `.keras`: names are parameter full names, `<layer>/<param>` (`dense_1/kernel`); in file names, where '/' cannot
///   appear, `<layer>__<param>` or `<layer>.<param>`; a trailing `:0` (TensorFlow variable names) is ignored. Kernels
///   are `[in, out]`.
/// - `.torch`: PyTorch `state_dict` names `<prefix>.<param>` (`0.weight`, `fc2.bias`). Prefixes are sorted in natural
///   order (numbers by value: `2` before `10`) and the i-th prefix is the i-th layer of the architecture that has
///   parameters. Linear `weight` is `[out, in]` and is transposed to our `[in, out]` kernel; `bias` is the bias;
///   BatchNorm `weight`/`bias`/`running_mean`/`running_var` are gamma/beta/moving mean/moving variance
///   (`num_batches_tracked` is ignored); LayerNorm `weight`/`bias` are gamma/beta.
///
/// Every parameter must be present exactly once with its expected shape; a 1-D parameter also accepts `[1, n]` and
/// `[n, 1]` (a CSV row or column). Extra tensors are refused.
enum ForeignWeights {
    /// A model of weights another tool wrote (in `order`): weights-only, or, when the reader was given `--arch`, the
    /// architecture with the weights mapped onto it (and the use of `--arch` recorded).
    static func model(_ tensors: [String: Tensor], order: [String], metadata: Metadata = [:], options: ReadOptions,
                      describe: (String) -> String) throws(ModelError) -> Model {
        let model: Model
        if let architecture = options.architecture {
            options.usage.noteArchitectureUsed()
            model = Model(architecture: architecture,
                          weights: try map(tensors, architecture: architecture, layout: options.layout, describe: describe))
        } else {
            model = Model(tensors: order.compactMap { name in tensors[name].map { (name, $0) } }, metadata: metadata)
        }
        try model.validate()
        return model
    }

    /// `tensors` by their foreign names; `describe` says where a name came from, for messages ("file 'w/0.weight.csv'").
    static func map(_ tensors: [String: Tensor], architecture: Architecture, layout: WeightLayout,
                    describe: (String) -> String) throws(ModelError) -> [String: Tensor] {
        var assignment: [String: (source: String, transpose: Bool)] = [:]   // parameter full name → source name
        let specs = architecture.parameters
        let specByName = Dictionary(uniqueKeysWithValues: specs.map { ($0.fullName, $0) })
        switch layout {
        case .keras:
            for name in tensors.keys.sorted() {
                let full = kerasName(name)
                guard specByName[full] != nil else {
                    throw ModelError.unexpectedTensor("\(describe(name)) (read as '\(full)'; the architecture's parameters are \(specs.map(\.fullName).joined(separator: ", ")))")
                }
                if let previous = assignment[full] {
                    throw ModelError.duplicateName("\(full) (from \(describe(previous.source)) and \(describe(name)))")
                }
                assignment[full] = (name, false)
            }
        case .torch:
            var groups: [String: [String: String]] = [:]  // prefix → param → source name
            for name in tensors.keys {
                guard let dot = name.lastIndex(of: ".") else {
                    throw ModelError.unexpectedTensor("\(describe(name)): PyTorch names are <prefix>.<param>, like 0.weight")
                }
                let prefix = String(name[..<dot]), param = String(name[name.index(after: dot)...])
                if param == "num_batches_tracked" { continue }
                groups[prefix, default: [:]][param] = name
            }
            let layers = architecture.layers.enumerated().filter { !$0.element.parameters(inputWidth: 1).isEmpty }
            let prefixes = groups.keys.sorted(by: naturalOrder)
            guard prefixes.count <= layers.count else {
                let extra = prefixes[layers.count]
                throw ModelError.unexpectedTensor("\(describe(groups[extra]!.values.sorted().first!)): prefix '\(extra)' is layer \(layers.count + 1) with parameters, but the architecture has \(layers.count)")
            }
            for (prefix, (_, layer)) in zip(prefixes, layers) {
                let mapping: [String: String]
                switch layer.kind {
                case .dense: mapping = ["weight": "kernel", "bias": "bias"]
                case .batchNormalization: mapping = ["weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"]
                case .layerNormalization: mapping = ["weight": "gamma", "bias": "beta"]
                default: mapping = [:]
                }
                for (param, source) in groups[prefix]!.sorted(by: { $0.key < $1.key }) {
                    guard let short = mapping[param], specByName["\(layer.name)/\(short)"] != nil else {
                        throw ModelError.unexpectedTensor("\(describe(source)): layer '\(layer.name)' (\(layer.kind.typeName)) has no PyTorch parameter '\(param)'")
                    }
                    let isKernel: Bool
                    if case .dense = layer.kind { isKernel = short == "kernel" } else { isKernel = false }
                    assignment["\(layer.name)/\(short)"] = (source, isKernel)
                }
            }
        }
        var weights: [String: Tensor] = [:]
        for spec in specs {
            guard let (source, transpose) = assignment[spec.fullName] else {
                throw ModelError.missingTensor("\(spec.fullName) (\(layout == .torch ? "PyTorch" : "Keras") layout; no file or tensor maps to it)")
            }
            let t = tensors[source]!
            let expected = transpose ? [spec.shape[1], spec.shape[0]] : spec.shape
            let vectorForms = spec.shape.count == 1 ? [[1, spec.shape[0]], [spec.shape[0], 1]] : []
            guard t.shape == expected || vectorForms.contains(t.shape) else {
                let note = transpose ? " (PyTorch [out, in])" : (spec.shortName == "kernel" ? " (Keras [in, out])" : "")
                throw ModelError.shapeMismatch(name: spec.fullName, expected: expected, detail: "\(describe(source)) has shape \(t.shape)\(note)")
            }
            weights[spec.fullName] = transpose ? transposed(t) : reshaped(t, spec.shape)
        }
        return weights
    }

    /// `dense_1__kernel`, `dense_1.kernel`, `dense_1/kernel:0` → `dense_1/kernel`.
    static func kerasName(_ name: String) -> String {
        var n = name
        if n.hasSuffix(":0") { n.removeLast(2) }
        if n.contains("/") { return n }
        if let r = n.range(of: "__", options: .backwards) { return n.replacingCharacters(in: r, with: "/") }
        if let dot = n.lastIndex(of: ".") { return n.replacingCharacters(in: dot...dot, with: "/") }
        return n
    }

    /// Natural order: runs of digits compare by value (`2` < `10`), the rest character by character.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        var i = a.unicodeScalars.makeIterator(), j = b.unicodeScalars.makeIterator()
        var x = i.next(), y = j.next()
        func number(_ first: Unicode.Scalar, _ it: inout String.UnicodeScalarView.Iterator, _ next: inout Unicode.Scalar?) -> (Int, String) {
            var s = String(first)
            next = it.next()
            while let c = next, c.properties.numericType == .decimal { s.unicodeScalars.append(c); next = it.next() }
            return (Int(s) ?? Int.max, s)
        }
        while let c = x, let d = y {
            if c.properties.numericType == .decimal && d.properties.numericType == .decimal {
                let (u, us) = number(c, &i, &x), (v, vs) = number(d, &j, &y)
                if u != v { return u < v }
                if us != vs { return us < vs }
                continue
            }
            if c != d { return c.value < d.value }
            x = i.next(); y = j.next()
        }
        return x == nil && y != nil
    }

    static func reshaped(_ t: Tensor, _ shape: [Int]) -> Tensor {
        t.shape == shape ? t : Tensor(dtype: t.dtype, shape: shape, storage: t.storage)
    }

    /// A 2-D tensor transposed, `[rows, cols]` → `[cols, rows]`, any dtype.
    static func transposed(_ t: Tensor) -> Tensor {
        let (rows, cols, size) = (t.shape[0], t.shape[1], t.dtype.byteSize)
        let src = t.bytes
        let storage = TensorStorage(count: t.byteCount) { out in
            for r in 0..<rows {
                for c in 0..<cols {
                    let from = (r * cols + c) * size, to = (c * rows + r) * size
                    for k in 0..<size { out[to + k] = src[from + k] }
                }
            }
        }
        return Tensor(dtype: t.dtype, shape: [cols, rows], storage: storage)
    }
}
