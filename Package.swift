// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ModelKit",
    products: [
        .library(name: "ModelFormat", targets: ["ModelFormat"]),
        .library(name: "ModelHDF5", targets: ["ModelHDF5"]),
        .library(name: "Convert", targets: ["Convert"]),
        .library(name: "ReferenceEngine", targets: ["ReferenceEngine"]),
        .executable(name: "modelkit", targets: ["modelkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // libhdf5 from Debian's libhdf5-dev; the shim header re-exports the macros Swift cannot import.
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        // OpenBLAS from Debian's libopenblas-dev, for the engine's matrix products.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // CRC32C with the SSE4.2 instruction where the CPU has it, a table otherwise.
        // No unsafeFlags anywhere: SwiftPM refuses them in packages used as dependencies. Release builds optimise C.
        .target(name: "CChecksum", path: "Sources/CChecksum"),
        // Shortest round-trip text of Float values (Schubfach) for the JSON and CSV dumps (faster than the runtime's).
        .target(name: "CFloatText", path: "Sources/CFloatText"),
        // Linux system calls that Swift's Glibc module does not declare (renameat2), for the CSV folder's atomic swap.
        .target(name: "CFileSystem", path: "Sources/CFileSystem"),
        // The core: data model, header schema, JSON, .mkf, file I/O. No libhdf5: importing it needs no C library but
        // the checksum.
        .target(name: "ModelFormat", dependencies: ["CChecksum"]),
        // libhdf5 contained: the binding, the pre-open guard, and ModelKit's HDF5 layout.
        .target(name: "ModelHDF5", dependencies: ["ModelFormat", "CHDF5", "CChecksum"]),
        // Every other format, a folder each (Sources/Convert/<Format>/); re-exports ModelHDF5.
        .target(name: "Convert", dependencies: [
            "ModelFormat", "ModelHDF5", "CHDF5", "CFileSystem", "CFloatText",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // The engine's few elementwise loops that Swift does not vectorise (a square root inside), in plain C. Never
        // fused multiply-adds: kernels.c says so itself (#pragma STDC FP_CONTRACT OFF), so no flag is needed.
        .target(name: "CEngineKernels", path: "Sources/CEngineKernels"),
        .target(name: "ReferenceEngine", dependencies: ["ModelFormat", "CBLAS", "CEngineKernels"]),
        .executableTarget(name: "modelkit", dependencies: [
            "ModelFormat", "Convert", "ReferenceEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Engine throughput on in-memory data, run by tools/benchmarks/engine_bench.py beside Keras.
        .executableTarget(name: "engine-bench", dependencies: ["ModelFormat", "ReferenceEngine"]),
        // .mkf save/load timings on one large model, run by tools/benchmarks/mkf_bench.py beside other formats.
        .executableTarget(name: "mkf-bench", dependencies: ["ModelFormat"]),
        // Compares CFloatText with the Swift runtime's formatter on all 2^32 Float bit patterns (tools/floattext).
        .executableTarget(name: "floattext-check", dependencies: ["CFloatText"], path: "tools/floattext/check"),
        .testTarget(name: "ModelFormatTests", dependencies: ["ModelFormat", "ModelHDF5"]),
        .testTarget(name: "ConvertTests", dependencies: ["Convert", "ModelFormat", "ReferenceEngine"]),
        .testTarget(name: "ReferenceEngineTests", dependencies: ["ReferenceEngine", "ModelFormat"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelKitCLITests", dependencies: ["ModelFormat"]),
    ]
)
