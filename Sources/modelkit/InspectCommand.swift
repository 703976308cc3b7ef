import ArgumentParser
import Convert
import ModelFormat

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a model: layers, output shapes, parameter counts, dtypes, optimizer, training state, format.",
        discussion: "For .mkf files only the header is read, never tensor data.")

    @Argument(help: "The model file.") var file: String
    @Flag(help: "Machine-readable JSON instead of the table.") var json = false
    @OptionGroup var input: ModelInput

    func run() throws {
        let options = input.readOptions()
        let s = try ModelFiles.summary(path: file, format: try input.format(of: file), options: options)
        try input.refuseUnusedFlags(file, used: options.usage)
        print(json ? SummaryText.json(s, file: file).text : SummaryText.table(s, file: file), terminator: json ? "\n" : "")
    }
}

/// Renders a `ModelSummary` as a Keras-style table or as JSON.
enum SummaryText {
    struct Row { var name, type, outputShape: String; var params: Int; var dtype: String; var inbound = "" }

    static func elements(_ t: ModelSummary.TensorInfo) -> Int { t.shape.reduce(1, *) }

    /// One row per layer: the framework's graph when the model came from one (its class names, inbound layers),
    /// else ModelKit's architecture; none for weights without layers (`tensorTable` lists them).
    static func rows(_ s: ModelSummary) -> [Row] {
        let byName = Dictionary(s.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if let graph = s.graph {
            let shapes = graph.outputShapes()
            return graph.layers.map { layer in
                let owned = layer.tensors.compactMap { byName[$0] }
                let shape = shapes[layer.name].map { "(" + $0.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + ")" } ?? "-"
                let inbound = (layer.inbound.first ?? []).map(\.layer).joined(separator: ", ")
                return Row(name: layer.name, type: layer.type, outputShape: shape, params: owned.reduce(0) { $0 + elements($1) },
                           dtype: owned.first?.dtype.rawValue ?? "-", inbound: inbound)
            }
        }
        guard let architecture = s.architecture else { return [] }
        var width = architecture.inputWidth
        return architecture.layers.map { layer in
            let params = layer.parameters(inputWidth: width)
            width = layer.outputWidth(inputWidth: width)
            let type: String
            switch layer.kind {
            case .dense(let c): type = "Dense, \(c.activation.name)"
            case .activation(let a): type = "Activation, \(a.name)"
            case .dropout(let r): type = "Dropout, rate \(r)"
            case .batchNormalization: type = "BatchNormalization"
            case .layerNormalization: type = "LayerNormalization"
            }
            let shape = (["None"] + architecture.inputShape.dropLast().map(String.init) + [String(width)]).joined(separator: ", ")
            return Row(name: layer.name, type: type, outputShape: "(\(shape))",
                       params: params.reduce(0) { $0 + $1.shape.reduce(1, *) },
                       dtype: params.first.flatMap { byName[$0.fullName]?.dtype.rawValue } ?? "-")
        }
    }

    /// Total weights, and trainable ones when ModelKit's architecture says which (nil otherwise).
    static func counts(_ s: ModelSummary) -> (total: Int, trainable: Int?) {
        let weights = s.tensors.filter { !$0.name.hasPrefix(NamedTensor.slotPrefix) }
        let total = weights.reduce(0) { $0 + elements($1) }
        guard let ps = s.architecture?.parameters, s.graph == nil else { return (total, nil) }
        return (total, ps.filter(\.trainable).reduce(0) { $0 + $1.shape.reduce(1, *) })
    }

    /// Weights without layers: every tensor with its dtype, shape and bytes.
    static func tensorTable(_ s: ModelSummary) -> String {
        let weights = s.tensors.filter { !$0.name.hasPrefix(NamedTensor.slotPrefix) }
        let w0 = max(24, (weights.map(\.name.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
        var out = pad("Tensor", w0) + pad("dtype", 8) + pad("Shape", 20) + "Bytes\n"
        var bytes = 0
        for t in weights {
            let size = elements(t) * t.dtype.byteSize
            bytes += size
            out += pad(t.name, w0) + pad(t.dtype.rawValue, 8) + pad("[" + t.shape.map(String.init).joined(separator: ", ") + "]", 20) + "\(size)\n"
        }
        return out + "\(weights.count) tensors, \(bytes) bytes; no architecture (weights only)\n"
    }

    /// `slotCount` comes from the summary's tensor list: a header-only read of `.mkf` leaves `o.slots` empty.
    static func optimizerText(_ o: OptimizerState, slotCount: Int) -> String {
        let h: String
        switch o.config {
        case .sgd(let c): h = "learning_rate=\(c.learningRate), momentum=\(c.momentum), nesterov=\(c.nesterov), \(c.formulation.rawValue) formulation"
        case .adam(let c): h = "learning_rate=\(c.learningRate), beta1=\(c.beta1), beta2=\(c.beta2), epsilon=\(c.epsilon), amsgrad=\(c.amsgrad), \(c.formulation.rawValue) formulation"
        case .rmsprop(let c): h = "learning_rate=\(c.learningRate), rho=\(c.rho), momentum=\(c.momentum), epsilon=\(c.epsilon), centered=\(c.centered)"
        }
        var text = "\(o.config.kindName) (\(h)), iteration \(o.iteration), \(slotCount) slot tensors"
        if let u = o.unrecorded {
            text += "; not recorded in the file: \(u.keys.joined(separator: ", ")) (the values shown are assumed; give them with --optimizer to train or convert)"
        }
        return text
    }

    static func table(_ s: ModelSummary, file: String) -> String {
        var out = "Model: \(file)\n"
        let rows = rows(s)
        if rows.isEmpty, s.architecture == nil {
            out += tensorTable(s)
        } else {
            let showInbound = s.graph != nil
            let header = Row(name: "Layer (type)", type: "", outputShape: "Output Shape", params: 0, dtype: "dtype")
            let first = ([header] + rows).map { $0.type.isEmpty ? $0.name : "\($0.name) (\($0.type))" }
            let w0 = max(28, first.map(\.count).max()! + 2), w1 = max(16, rows.map(\.outputShape.count).max() ?? 0) + 2
            func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
            let line = String(repeating: "─", count: w0 + w1 + 20 + (showInbound ? 24 : 0)) + "\n"
            out += line + pad(first[0], w0) + pad("Output Shape", w1) + pad("Param #", 12) + (showInbound ? pad("dtype", 8) + "Connected to" : "dtype") + "\n" + line
            if let architecture = s.architecture, s.graph == nil {
                out += pad("input", w0) + pad("(None, " + architecture.inputShape.map(String.init).joined(separator: ", ") + ")", w1) + pad("0", 12) + "-\n"
            }
            for (i, r) in rows.enumerated() {
                out += pad(first[i + 1], w0) + pad(r.outputShape, w1) + pad(String(r.params), 12)
                out += (showInbound ? pad(r.dtype, 8) + (r.inbound.isEmpty ? "-" : r.inbound) : r.dtype) + "\n"
            }
            out += line
        }
        let (total, trainable) = counts(s)
        out += "Total params: \(total)\n"
        if let trainable { out += "Trainable params: \(trainable)\nNon-trainable params: \(total - trainable)\n" }
        if let graph = s.graph {
            out += "Graph: \(graph.origin), \(graph.layers.count) layers; "
            out += s.architecture != nil ? "the engine runs it\n" : "kept verbatim (inspect, check, convert and diff; the engine does not run it)\n"
        }
        out += "Optimizer: " + (s.optimizer.map { optimizerText($0, slotCount: s.tensors.filter { $0.name.hasPrefix("optimizer/") }.count) } ?? "none") + "\n"
        if let t = s.training {
            out += "Training: loss \(t.loss.kind.rawValue)\(t.loss.fromLogits ? " (from logits)" : ""), epoch \(t.epoch), step \(t.step), batch size \(t.batchSize), shuffle \(t.shuffle), position in epoch \(t.positionInEpoch)\n"
        } else {
            out += "Training: none\n"
        }
        if !s.metadata.isEmpty { out += "Metadata: \(s.metadata.keys.sorted().joined(separator: ", "))\n" }
        out += "Format: \(s.format.rawValue)\(s.version.map { " version \($0)" } ?? "")"
        if let size = s.fileSize { out += ", \(size) bytes" }
        return out + "\n"
    }

    /// Layer types as files name them: the framework's class names for a graph, ModelKit's type names otherwise.
    static func layerTypes(_ s: ModelSummary) -> [String] {
        s.graph?.layers.map(\.type) ?? s.architecture?.layers.map(\.kind.typeName) ?? []
    }

    static func json(_ s: ModelSummary, file: String) -> JSONValue {
        let (total, trainable) = counts(s)
        var m: [(String, JSONValue)] = [
            ("file", .string(file)), ("format", .string(s.format.rawValue)),
            ("version", s.version.map { .string($0) } ?? .null),
            ("file_size", s.fileSize.map { .integer(Int64($0)) } ?? .null),
            ("input_shape", s.architecture.map { .array($0.inputShape.map { .integer(Int64($0)) }) } ?? .null),
            ("layers", .array(zip(layerTypes(s), rows(s)).map { type, r in
                var layer: [(String, JSONValue)] = [("name", .string(r.name)), ("type", .string(type)), ("output_shape", .string(r.outputShape)),
                                                    ("params", .integer(Int64(r.params))), ("dtype", .string(r.dtype))]
                if s.graph != nil { layer.append(("inbound", .array(r.inbound.isEmpty ? [] : r.inbound.components(separatedBy: ", ").map { .string($0) }))) }
                return .object(layer)
            })),
            ("total_params", .integer(Int64(total))), ("trainable_params", trainable.map { .integer(Int64($0)) } ?? .null),
            ("non_trainable_params", trainable.map { .integer(Int64(total - $0)) } ?? .null),
            ("tensors", .array(s.tensors.map { .object([("name", .string($0.name)), ("dtype", .string($0.dtype.rawValue)),
                                                        ("shape", .array($0.shape.map { .integer(Int64($0)) }))]) })),
            ("architecture", s.architecture.map(HeaderSchema.json) ?? .null),
            ("graph", s.graph.map(HeaderSchema.json) ?? .null),
        ]
        m.append(("optimizer", s.optimizer.map(HeaderSchema.json) ?? .null))
        // Settings whose values in "optimizer" are assumed, not read from the file.
        m.append(("optimizer_unrecorded", .array((s.optimizer?.unrecorded?.keys ?? []).map { .string($0) })))
        m.append(("training", s.training.map(HeaderSchema.json) ?? .null))
        m.append(("metadata", HeaderSchema.json(s.metadata)))
        return .object(m)
    }
}
