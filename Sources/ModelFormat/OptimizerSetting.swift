/// What `--optimizer` says, and how it meets the optimizer state a file holds.
///
/// The rule (issue 9): a file's optimizer state is never continued with settings it does not record unless the user
/// gives them, and never with settings that contradict what it records. `reconciled(with:)` applies the rule once for
/// every command and every format.

/// One optimizer setting's value, typed as `--optimizer` writes it.
public enum SettingValue: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case flag(Bool)
    case formulation(Formulation)

    public var description: String {
        switch self {
        case .number(let v): return "\(v)"
        case .flag(let v): return "\(v)"
        case .formulation(let f): return f.rawValue
        }
    }

    /// Whether a given value agrees with a recorded one. Numbers agree when equal as float32: Keras keeps its
    /// hyperparameters in float32 variables, so `lr=0.05` agrees with a stored 0.05000000074505806.
    public func agrees(with recorded: SettingValue) -> Bool {
        switch (self, recorded) {
        case (.number(let a), .number(let b)): return Float(a) == Float(b)
        default: return self == recorded
        }
    }
}

extension OptimizerConfig {
    /// Every setting of this kind, as `--optimizer` spells its keys, in the order flags are written.
    public var settingKeys: [String] {
        switch self {
        case .sgd: return ["lr", "momentum", "nesterov", "formulation"]
        case .adam: return ["lr", "beta1", "beta2", "epsilon", "amsgrad", "formulation"]
        case .rmsprop: return ["lr", "rho", "momentum", "epsilon", "centered"]
        }
    }

    /// The optimizer's name as its framework writes it, for messages.
    public var displayName: String {
        switch self {
        case .sgd: return "SGD"
        case .adam: return "Adam"
        case .rmsprop: return "RMSprop"
        }
    }

    public func value(_ key: String) -> SettingValue? {
        switch (self, key) {
        case (_, "lr"): return .number(learningRate)
        case (.sgd(let c), "momentum"): return .number(c.momentum)
        case (.sgd(let c), "nesterov"): return .flag(c.nesterov)
        case (.sgd(let c), "formulation"): return .formulation(c.formulation)
        case (.adam(let c), "beta1"): return .number(c.beta1)
        case (.adam(let c), "beta2"): return .number(c.beta2)
        case (.adam(let c), "epsilon"): return .number(c.epsilon)
        case (.adam(let c), "amsgrad"): return .flag(c.amsgrad)
        case (.adam(let c), "formulation"): return .formulation(c.formulation)
        case (.rmsprop(let c), "rho"): return .number(c.rho)
        case (.rmsprop(let c), "momentum"): return .number(c.momentum)
        case (.rmsprop(let c), "epsilon"): return .number(c.epsilon)
        case (.rmsprop(let c), "centered"): return .flag(c.centered)
        default: return nil
        }
    }

    /// Sets one setting; a key or value type this kind does not have is ignored (keys come from `settingKeys`).
    public mutating func set(_ key: String, _ value: SettingValue) {
        switch (self, key, value) {
        case (.sgd(var c), "lr", .number(let v)): c.learningRate = v; self = .sgd(c)
        case (.sgd(var c), "momentum", .number(let v)): c.momentum = v; self = .sgd(c)
        case (.sgd(var c), "nesterov", .flag(let v)): c.nesterov = v; self = .sgd(c)
        case (.sgd(var c), "formulation", .formulation(let v)): c.formulation = v; self = .sgd(c)
        case (.adam(var c), "lr", .number(let v)): c.learningRate = v; self = .adam(c)
        case (.adam(var c), "beta1", .number(let v)): c.beta1 = v; self = .adam(c)
        case (.adam(var c), "beta2", .number(let v)): c.beta2 = v; self = .adam(c)
        case (.adam(var c), "epsilon", .number(let v)): c.epsilon = v; self = .adam(c)
        case (.adam(var c), "amsgrad", .flag(let v)): c.amsgrad = v; self = .adam(c)
        case (.adam(var c), "formulation", .formulation(let v)): c.formulation = v; self = .adam(c)
        case (.rmsprop(var c), "lr", .number(let v)): c.learningRate = v; self = .rmsprop(c)
        case (.rmsprop(var c), "rho", .number(let v)): c.rho = v; self = .rmsprop(c)
        case (.rmsprop(var c), "momentum", .number(let v)): c.momentum = v; self = .rmsprop(c)
        case (.rmsprop(var c), "epsilon", .number(let v)): c.epsilon = v; self = .rmsprop(c)
        case (.rmsprop(var c), "centered", .flag(let v)): c.centered = v; self = .rmsprop(c)
        default: break
        }
    }

    /// The `--optimizer` text for this config, e.g. `sgd:lr=0.05,momentum=0.9,nesterov=false`. The Keras
    /// formulation is the parser's default and is left out.
    public var flagText: String {
        let pairs = settingKeys.compactMap { key -> String? in
            guard let v = value(key) else { return nil }
            if key == "formulation", v == .formulation(.keras) { return nil }
            return "\(key)=\(v)"
        }
        return "\(kindName):" + pairs.joined(separator: ",")
    }
}

/// `--optimizer` as the user wrote it: the config with the parser's defaults filled in, and which keys were written
/// (only those can complete or contradict what a file records).
public struct OptimizerSetting: Sendable, Hashable {
    public var config: OptimizerConfig
    /// Keys the text gave, spelled as in `OptimizerConfig.settingKeys`.
    public var given: Set<String>
    /// The text, for messages and for passing on to a child process.
    public var text: String

    public init(parsing text: String) throws(ModelError) {
        self = try OptimizerSpec.parseSetting(text)
    }

    public init(config: OptimizerConfig, given: Set<String>, text: String) {
        self.config = config; self.given = given; self.text = text
    }

    /// A setting that gives every key of `config`.
    public init(_ config: OptimizerConfig) {
        self.init(config: config, given: Set(config.settingKeys), text: config.flagText)
    }
}

/// What the user is doing when a file's optimizer settings are missing: the message names the flag for it.
public enum OptimizerUse: Sendable {
    case resume, convert

    func remedy(flag: String) -> String {
        switch self {
        case .resume: return "resume with --optimizer \(flag) (or start fresh optimizer state with --reset-optimizer)"
        case .convert: return "convert with --optimizer \(flag), or drop the optimizer state with --allow-lossy"
        }
    }
}

extension OptimizerState {
    /// This state completed or confirmed by `setting`: the same kind; every key it gives that the file records agrees
    /// with the record (numbers as float32); every setting the file does not record is given. The recorded values
    /// are kept (the file's exact learning rate, say). Slots are renamed when the completed settings name them
    /// differently (RMSprop's second slot is `momentum` or `average_gradient`), never added or dropped.
    public func reconciled(with setting: OptimizerSetting, use: OptimizerUse, source: String) throws(ModelError) -> OptimizerState {
        guard setting.config.kindName == config.kindName else {
            throw ModelError.optimizerConflict(source: source, setting: "type", recorded: config.kindName, given: setting.config.kindName)
        }
        let missing = Set(unrecorded?.keys ?? [])
        var completed = config
        for key in config.settingKeys where setting.given.contains(key) {
            guard let given = setting.config.value(key), let recorded = config.value(key) else { continue }
            if missing.contains(key) {
                completed.set(key, given)
            } else if !given.agrees(with: recorded) {
                throw ModelError.optimizerConflict(source: source, setting: key, recorded: "\(recorded)", given: "\(given)")
            }
        }
        let stillMissing = config.settingKeys.filter { missing.contains($0) && !setting.given.contains($0) }
        if !stillMissing.isEmpty {
            var partial = self
            // The assumption explained the whole set; for the remainder the values speak for themselves.
            partial.unrecorded = UnrecordedSettings(source: source, keys: stillMissing, assumption: "")
            throw partial.unrecordedError(use: use)
        }
        try HeaderSchema.validate(completed)
        var result = OptimizerState(config: completed, iteration: iteration, slots: slots)
        let before = config.slotNames, after = completed.slotNames
        if before != after {
            let held = Set(slots.values.flatMap(\.keys))
            guard before.count == after.count else {
                throw ModelError.invalidValue(field: "--optimizer", message: "\(completed.flagText) keeps \(after.count) slot tensors per parameter (\(after.joined(separator: ", "))); \(source) holds \(before.count)\(held.isEmpty ? "" : " (\(held.sorted().joined(separator: ", ")))")")
            }
            let renamed = Dictionary(uniqueKeysWithValues: zip(before, after))
            result.slots = slots.mapValues { Dictionary(uniqueKeysWithValues: $0.map { (renamed[$0.key] ?? $0.key, $0.value) }) }
        }
        return result
    }

    /// The refusal for a state with unrecorded settings: names them, the flag filled in with what the file records
    /// and the assumed values for the rest, and the assumption made.
    public func unrecordedError(use: OptimizerUse) -> ModelError {
        let u = unrecorded ?? UnrecordedSettings(source: "the file", keys: [], assumption: "")
        let assumed = u.keys.compactMap { key in config.value(key).map { "\(key)=\($0)" } }.joined(separator: ", ")
        return .optimizerSettingsNotRecorded(source: u.source, optimizer: config.displayName, missing: u.keys,
                                             assumption: u.assumption.isEmpty ? assumed : "\(assumed) (\(u.assumption))",
                                             remedy: use.remedy(flag: config.flagText))
    }
}
