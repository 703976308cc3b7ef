import ModelFormat
// Placeholder: the reference engine lands with issue 3.
public enum ReferenceEngineInfo { public static let name = "ReferenceEngine" }
