import Foundation
import Testing

/// Issue 10: safetensors and npz files not written by ModelKit are weights-only models that inspect, check, convert
/// and diff handle without flags; running them asks for --arch.
@Suite struct WeightsOnlyTests {
    static let torch = CLI.repoRoot.appendingPathComponent("Fixtures/safetensors/torch-style-mixed/model.safetensors").path

    @Test func checkPassesAnIntactForeignFileSayingWhatItCannotVerify() throws {
        let r = try CLI.run(["check", Self.torch])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ok (6 tensors loaded and validated"), "\(r.stdout)")
    }

    @Test func inspectListsTheTensors() throws {
        let r = try CLI.run(["inspect", Self.torch])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("bn.num_batches_tracked  i64     []                  8\n"), "\(r.stdout)")
        #expect(r.stdout.contains("6 tensors, 42 bytes; no architecture (weights only)"), "\(r.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(try CLI.run(["inspect", Self.torch, "--json"]).stdout.utf8)) as! [String: Any]
        #expect((json["tensors"] as! [Any]).count == 6)
        #expect(json["architecture"] is NSNull)
    }

    /// Through every format that holds tensors alone and back: the same tensors, dtypes, order and metadata, and
    /// safetensors comes back byte for byte.
    @Test(arguments: ["w.mkf", "w.npz", "w.json", "wdump"])
    func everyTensorFormatRoundTripsLosslessly(through name: String) throws {
        let dir = try CLI.temporaryDirectory()
        #expect(try CLI.run(["convert", Self.torch, name], in: dir).status == 0)
        #expect(try CLI.run(["check", name], in: dir).status == 0)
        let back = try CLI.run(["convert", name, "back.safetensors"], in: dir)
        #expect(back.status == 0, "\(back.stderr)")
        let diff = try CLI.run(["diff", Self.torch, name], in: dir)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("back.safetensors")) == Data(contentsOf: URL(fileURLWithPath: Self.torch)))
    }

    @Test func formatsThatNeedLayersRefuseNamingArch() throws {
        let dir = try CLI.temporaryDirectory()
        for (output, format) in [("w.h5", "ModelKit's HDF5 layout"), ("k.h5", "Keras .h5"), ("w.onnx", "ONNX export")] {
            let extra = output == "k.h5" ? ["--to", "keras-h5"] : []
            let r = try CLI.run(["convert", Self.torch, output] + extra, in: dir)
            #expect(r.status == 1)
            #expect(r.stderr.contains("\(format) needs an architecture") && r.stderr.contains("--arch"), "\(r.stderr)")
        }
        let predict = try CLI.run(["predict", Self.torch, "--input", "x.csv"], in: dir)
        #expect(predict.status == 1)
        #expect(predict.stderr.contains("6 tensors and no architecture: give --arch"), "\(predict.stderr)")
    }
}
