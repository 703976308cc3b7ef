/// The `--arch` chain syntax: the input width, then one item per layer, separated by `-`.
///
///     4-8relu-6tanh-3softmax     Dense layers: a width followed by an optional activation (none means linear)
///     784-256relu-10             input width 784, Dense 256 relu, Dense 10 linear
///     8-16-bn-relu-dropout0.25-3sigmoid
///                                `bn` BatchNormalization, `ln` LayerNormalization, `dropoutR` Dropout(rate R),
///                                a bare activation name an Activation layer
///
/// Layers are named as Keras names them: `dense`, `dense_1`, …, `batch_normalization`, `dropout`, `activation`.
public enum ArchitectureSpec {
    public static func parse(_ spec: String) throws(ModelError) -> Architecture {
        let items = spec.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        func fail(_ index: Int, _ message: String) -> ModelError {
            let column = items[..<index].reduce(1) { $0 + $1.count + 1 }
            return ModelError.parse(source: "--arch '\(spec)'", line: 1, column: column, message: "item \(index + 1) '\(items[index])': \(message)")
        }
        guard let inputWidth = Int(items[0]), inputWidth > 0, inputWidth <= 1 << 24 else {
            throw fail(0, "expected the input width, a positive integer")
        }
        guard items.count > 1 else { throw fail(0, "expected at least one layer after the input width") }
        var layers: [Layer] = []
        var counts: [String: Int] = [:]
        func name(_ base: String) -> String {
            let n = counts[base, default: 0]
            counts[base] = n + 1
            return n == 0 ? base : "\(base)_\(n)"
        }
        for index in 1..<items.count {
            let item = items[index]
            guard !item.isEmpty else { throw fail(index, "empty item (two '-' in a row, or a trailing '-')") }
            let digits = item.prefix(while: \.isNumber)
            if !digits.isEmpty {
                guard let units = Int(digits), units > 0, units <= 1 << 24 else { throw fail(index, "width must be a positive integer up to 2^24") }
                let rest = String(item.dropFirst(digits.count))
                guard let activation = Activation(name: rest) else {
                    throw fail(index, "unknown activation '\(rest)' (known: \(Activation.allNames.joined(separator: ", ")))")
                }
                layers.append(Layer(name: name("dense"), kind: .dense(DenseConfig(units: units, activation: activation))))
            } else if item == "bn" {
                layers.append(Layer(name: name("batch_normalization"), kind: .batchNormalization(BatchNormalizationConfig())))
            } else if item == "ln" {
                layers.append(Layer(name: name("layer_normalization"), kind: .layerNormalization(LayerNormalizationConfig())))
            } else if item.hasPrefix("dropout") {
                guard let rate = Double(item.dropFirst("dropout".count)), rate >= 0, rate < 1 else {
                    throw fail(index, "dropout needs a rate in [0, 1), as in dropout0.5")
                }
                layers.append(Layer(name: name("dropout"), kind: .dropout(rate: rate)))
            } else if let activation = Activation(name: item) {
                layers.append(Layer(name: name("activation"), kind: .activation(activation)))
            } else {
                throw fail(index, "expected a width with an optional activation (8relu), bn, ln, dropoutR or an activation name")
            }
        }
        return Architecture(inputShape: [inputWidth], layers: layers)
    }
}

/// Optimizer strings: `adam`, `adam:lr=0.001,beta1=0.9`, `sgd:lr=0.1,momentum=0.9,nesterov=true`, `rmsprop:lr=0.001`.
/// Keys: `lr` (or `learning_rate`), `momentum`, `nesterov`, `beta1`, `beta2`, `epsilon`, `amsgrad`, `rho`, `centered`,
/// `formulation` (`keras` or `pytorch`). Defaults are Keras's.
public enum OptimizerSpec {
    public static func parse(_ spec: String) throws(ModelError) -> OptimizerConfig {
        try parseSetting(spec).config
    }

    /// The config and which keys the text wrote (canonical spellings: `lr`, `beta1`, `epsilon`, ...).
    public static func parseSetting(_ spec: String) throws(ModelError) -> OptimizerSetting {
        let source = "--optimizer '\(spec)'"
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = parts.first?.lowercased() else { throw ModelError.parse(source: source, line: 1, column: 1, message: "empty optimizer") }
        var options: [(String, String, Int)] = []
        if parts.count == 2 {
            var column = kind.count + 2
            for pair in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, !kv[0].isEmpty else {
                    throw ModelError.parse(source: source, line: 1, column: column, message: "expected key=value, got '\(pair)'")
                }
                options.append((kv[0], kv[1], column))
                column += pair.count + 1
            }
        }
        func number(_ v: String, _ column: Int, _ key: String) throws(ModelError) -> Double {
            guard let d = Double(v), d.isFinite else {
                throw ModelError.parse(source: source, line: 1, column: column, message: "\(key) must be a finite number, got '\(v)'")
            }
            return d
        }
        func flag(_ v: String, _ column: Int, _ key: String) throws(ModelError) -> Bool {
            switch v.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw ModelError.parse(source: source, line: 1, column: column, message: "\(key) must be true or false, got '\(v)'")
            }
        }
        func formulation(_ v: String, _ column: Int) throws(ModelError) -> Formulation {
            guard let f = Formulation(rawValue: v.lowercased()) else {
                throw ModelError.parse(source: source, line: 1, column: column, message: "formulation must be keras or pytorch, got '\(v)'")
            }
            return f
        }
        func unknown(_ key: String, _ column: Int) -> ModelError {
            ModelError.parse(source: source, line: 1, column: column, message: "unknown \(kind) option '\(key)'")
        }
        let config: OptimizerConfig
        var given = Set<String>()
        let canonical = ["learning_rate": "lr", "beta_1": "beta1", "beta_2": "beta2", "eps": "epsilon"]
        for (k, _, _) in options { given.insert(canonical[k] ?? k) }
        if kind == "amsgrad" { given.insert("amsgrad") }
        switch kind {
        case "sgd":
            var c = SGDConfig()
            for (k, v, col) in options {
                switch k {
                case "lr", "learning_rate": c.learningRate = try number(v, col, k)
                case "momentum": c.momentum = try number(v, col, k)
                case "nesterov": c.nesterov = try flag(v, col, k)
                case "formulation": c.formulation = try formulation(v, col)
                default: throw unknown(k, col)
                }
            }
            config = .sgd(c)
        case "adam", "amsgrad":
            var c = AdamConfig(amsgrad: kind == "amsgrad")
            for (k, v, col) in options {
                switch k {
                case "lr", "learning_rate": c.learningRate = try number(v, col, k)
                case "beta1", "beta_1": c.beta1 = try number(v, col, k)
                case "beta2", "beta_2": c.beta2 = try number(v, col, k)
                case "epsilon", "eps": c.epsilon = try number(v, col, k)
                case "amsgrad": c.amsgrad = try flag(v, col, k)
                case "formulation": c.formulation = try formulation(v, col)
                default: throw unknown(k, col)
                }
            }
            config = .adam(c)
        case "rmsprop":
            var c = RMSpropConfig()
            for (k, v, col) in options {
                switch k {
                case "lr", "learning_rate": c.learningRate = try number(v, col, k)
                case "rho": c.rho = try number(v, col, k)
                case "momentum": c.momentum = try number(v, col, k)
                case "epsilon", "eps": c.epsilon = try number(v, col, k)
                case "centered": c.centered = try flag(v, col, k)
                default: throw unknown(k, col)
                }
            }
            config = .rmsprop(c)
        default:
            throw ModelError.parse(source: source, line: 1, column: 1, message: "unknown optimizer '\(kind)' (sgd, adam, rmsprop)")
        }
        try HeaderSchema.validate(config)
        return OptimizerSetting(config: config, given: given, text: spec)
    }
}

/// Loss strings: a loss name (`mse`, `mae`, `binary_crossentropy`, `categorical_crossentropy`,
/// `sparse_categorical_crossentropy`, or the long Keras names), optionally `:from_logits=true`.
public enum LossSpec {
    public static func parse(_ spec: String) throws(ModelError) -> Loss {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        guard let kind = LossKind(name: name) else {
            throw ModelError.parse(source: "--loss '\(spec)'", line: 1, column: 1,
                                   message: "unknown loss '\(name)' (mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)")
        }
        var fromLogits = false
        if parts.count == 2 {
            switch parts[1] {
            case "from_logits=true", "from_logits": fromLogits = true
            case "from_logits=false": fromLogits = false
            default:
                throw ModelError.parse(source: "--loss '\(spec)'", line: 1, column: name.count + 2, message: "expected from_logits=true or from_logits=false")
            }
        }
        return Loss(kind: kind, fromLogits: fromLogits)
    }
}
