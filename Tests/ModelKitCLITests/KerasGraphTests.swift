import Foundation
import Testing

/// Issue 10: Keras models with layers the engine lacks (Fixtures/keras-graph) are read from `.h5` and `.keras` as
/// graphs kept verbatim; inspect, check, convert and diff work on them through every format that holds a graph, and
/// the same model read from `.h5` and from `.keras` is identical. predict refuses naming the layer.
@Suite struct KerasGraphTests {
    static let cases = ["cnn", "text", "residual", "lstm", "gru", "conv1d"]
    /// What the fixtures' config.json does not record (case.json has Keras's full Adam config).
    static let optimizer = "adam:lr=0.009999999776482582,beta1=0.9,beta2=0.999,epsilon=1e-07"

    static func fixture(_ name: String, _ file: String) -> String {
        CLI.repoRoot.appendingPathComponent("Fixtures/keras-graph/\(name)/\(file)").path
    }

    struct Source: CustomStringConvertible, Sendable {
        var model: String
        var file: String
        var description: String { "\(model)/\(file)" }
    }

    static let sources = cases.flatMap { [Source(model: $0, file: "model.h5"), Source(model: $0, file: "model.keras")] }

    /// `inspect --json` gives every layer the output shape Keras itself reported (case.json `layers[].output_shape`,
    /// written by the generator from `layer.output.shape`), from the `.h5` and from the `.keras` file.
    @Test(arguments: sources)
    func inspectShowsKerasOutputShapes(_ source: Source) throws {
        let inspect = try CLI.run(["inspect", Self.fixture(source.model, source.file), "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["layers"] as? [[String: Any]])
        let shown = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as! String, $0["output_shape"] as! String) })
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture(source.model, "case.json")))
        let keras = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["layers"] as? [[String: Any]])
        #expect(!keras.isEmpty)
        for layer in keras {
            let name = layer["name"] as! String
            let dims = (layer["output_shape"] as! [Any]).map { ($0 as? Int).map(String.init) ?? "None" }
            #expect(shown[name] == "(" + dims.joined(separator: ", ") + ")", "\(source) layer \(name)")
        }
    }

    /// inspect and check, then through .mkf, JSON, the CSV dump, safetensors, npz and Keras .h5 and back: `diff`
    /// identical against the `.h5` original each time (the `.keras` given --optimizer).
    @Test(arguments: sources)
    func everyFormatRoundTrips(_ source: Source) throws {
        let dir = try CLI.temporaryDirectory()
        let path = Self.fixture(source.model, source.file)
        let original = Self.fixture(source.model, "model.h5")
        let inspect = try CLI.run(["inspect", path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("Graph: keras"), "\(inspect.stdout)")
        let check = try CLI.run(["check", path])
        #expect(check.status == 0, "\(check.stderr)")
        let settings = source.file == "model.keras" ? ["--optimizer", Self.optimizer] : []
        let start = try CLI.run(["convert", path, "start.mkf"] + settings, in: dir)
        #expect(start.status == 0, "\(start.stderr)")
        for name in ["m.mkf", "m.json", "mdump", "m.safetensors", "m.npz", "k.h5"] {
            let extra = name == "k.h5" ? ["--to", "keras-h5"] : []
            let out = try CLI.run(["convert", "start.mkf", name] + extra, in: dir)
            #expect(out.status == 0, "\(name): \(out.stderr)")
            #expect(try CLI.run(["check", name], in: dir).status == 0, "\(name)")
            let back = try CLI.run(["convert", name, "back-\(name).mkf"], in: dir)
            #expect(back.status == 0, "\(name): \(back.stderr)")
            for file in [name, "back-\(name).mkf"] {
                let diff = try CLI.run(["diff", original, file, "--quiet"], in: dir)
                #expect(diff.status == 0, "\(source) via \(file): \(diff.stdout)\(diff.stderr)")
            }
        }
    }

    @Test(arguments: cases)
    func kerasZipAndH5AreTheSameModel(_ name: String) throws {
        let dir = try CLI.temporaryDirectory()
        #expect(try CLI.run(["convert", Self.fixture(name, "model.keras"), "z.mkf", "--optimizer", Self.optimizer], in: dir).status == 0)
        let diff = try CLI.run(["diff", Self.fixture(name, "model.h5"), "z.mkf"], in: dir)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.contains("identical graph"), "\(diff.stdout)")
    }

    @Test func inspectShowsClassesInboundLayersAndParameters() throws {
        let residual = try CLI.run(["inspect", Self.fixture("residual", "model.h5")])
        #expect(residual.status == 0, "\(residual.stderr)")
        #expect(residual.stdout.contains("add (Add)"), "\(residual.stdout)")
        #expect(residual.stdout.contains("input_layer, dense"), "\(residual.stdout)")
        #expect(residual.stdout.contains("Total params: 42"), "\(residual.stdout)")
        let cnn = try CLI.run(["inspect", Self.fixture("cnn", "model.keras")])
        #expect(cnn.stdout.contains("conv2d (Conv2D)"), "\(cnn.stdout)")
        #expect(cnn.stdout.contains("Total params: 151"), "\(cnn.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(try CLI.run(["inspect", Self.fixture("lstm", "model.h5"), "--json"]).stdout.utf8)) as! [String: Any]
        let graph = json["graph"] as! [String: Any]
        let layers = graph["layers"] as! [[String: Any]]
        #expect(layers[1]["tensors"] as? [String] == ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias"])
    }

    @Test func predictAndTrainRefuseNamingTheLayer() throws {
        let dir = try CLI.temporaryDirectory()
        try "0,1,2,3,4,5\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        let predict = try CLI.run(["predict", Self.fixture("text", "model.h5"), "--input", "x.csv"], in: dir)
        #expect(predict.status == 1)
        #expect(predict.stderr.contains("'embedding' of type Embedding"), "\(predict.stderr)")
        let train = try CLI.run(["train", Self.fixture("residual", "model.h5"), "--x", "x.csv", "--y", "x.csv", "--steps", "1", "-o", "o.mkf"], in: dir)
        #expect(train.status == 1)
        #expect(train.stderr.contains("'add' of type Add"), "\(train.stderr)")
    }

    /// The engine's own Keras models keep their typed architecture (no graph): predict and train work as before.
    @Test func engineModelsStayRunnable() throws {
        let path = CLI.repoRoot.appendingPathComponent("Fixtures/keras/adam-classifier/model.h5").path
        let inspect = try CLI.run(["inspect", path, "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [String: Any]
        #expect(json["graph"] is NSNull)
        #expect(!(json["architecture"] is NSNull))
    }
}
