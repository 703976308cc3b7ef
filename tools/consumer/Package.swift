// swift-tools-version:6.0
// A package that uses ModelKit as a dependency, as another project would: CI builds it (tools/consumer/check) so that
// ModelKit stays usable as a dependency (no unsafeFlags; library products that build on their own).
import PackageDescription

let package = Package(
    name: "ModelKitConsumer",
    dependencies: [.package(name: "ModelKit", path: "../..")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [
            .product(name: "Convert", package: "ModelKit"),
            .product(name: "ModelFormat", package: "ModelKit"),
        ]),
    ]
)
