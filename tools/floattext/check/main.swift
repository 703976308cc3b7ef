// Exhaustive check of CFloatText against the formatter it replaced: every one of the 2^32 Float bit patterns
// (NaN and infinities excepted: the writers spell those themselves) is formatted both ways and compared byte for byte.
//
//     swift build -c release --product floattext-check && .build/release/floattext-check [--first-mismatches N]
//     .build/release/floattext-check --speed     (nanoseconds per value of each, one thread)
//
// About a minute on two cores. Exits 1 on any mismatch, printing the first few.
import CFloatText
import Dispatch
import Foundation

// The old path of NumberFormat.write(Float), copied verbatim: the runtime's formatter behind `Float.description`,
// into a buffer filled with '0' first (for integral values the runtime writes "7100271." and relies on it).
@_silgen_name("swift_float32ToString")
func runtimeFloat32ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Float, _ debug: Bool) -> UInt64

func runtimeText(_ value: Float, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    for i in 0..<32 { p[i] = UInt8(ascii: "0") }
    return Int(runtimeFloat32ToString(p, 32, value, false))
}

// --speed: single-thread nanoseconds per value of each formatter on 8M random finite bit patterns and on 8M
// weight-like values (uniform in ±0.05, as Glorot initialisation gives), then exit.
if CommandLine.arguments.contains("--speed") {
    var state: UInt64 = 1
    func next() -> UInt32 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt32(truncatingIfNeeded: state >> 32)
    }
    var randomBits: [Float] = []
    while randomBits.count < 1 << 23 {
        let f = Float(bitPattern: next())
        if f.isFinite { randomBits.append(f) }
    }
    let weights = (0..<(1 << 23)).map { _ in (Float(next()) / 4_294_967_296 - 0.5) * 0.1 }
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    for (data, values) in [("random bits", randomBits), ("weights", weights)] {
        for (name, format) in [("runtime", { runtimeText($0, buffer) }), ("CFloatText", { mk_float32_text($0, buffer) })] as [(String, (Float) -> Int)] {
            let start = DispatchTime.now().uptimeNanoseconds
            var bytes = 0
            for v in values { bytes &+= format(v) }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(values.count)
            print("\(data), \(name): \(String(format: "%.1f", ns)) ns per value (\(bytes) bytes)")
        }
    }
    exit(0)
}

let maxReported = CommandLine.arguments.count > 2 && CommandLine.arguments[1] == "--first-mismatches" ? Int(CommandLine.arguments[2]) ?? 10 : 10
let slices = 256  // 2^24 patterns each
struct Result: Sendable { var compared = 0; var mismatches = 0; var examples: [String] = [] }
final class Results: @unchecked Sendable {
    let lock = NSLock()
    var total = Result()
    func add(_ r: Result) {
        lock.lock(); defer { lock.unlock() }
        total.compared += r.compared
        total.mismatches += r.mismatches
        total.examples += r.examples.prefix(max(0, maxReported - total.examples.count))
    }
}
let results = Results()
let started = Date()
DispatchQueue.concurrentPerform(iterations: slices) { slice in
    var r = Result()
    let a = UnsafeMutablePointer<UInt8>.allocate(capacity: 64), b = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    defer { a.deallocate(); b.deallocate() }
    let first = UInt32(slice) << 24
    for low in UInt32(0)..<(1 << 24) {
        let bits = first | low
        if bits & 0x7f80_0000 == 0x7f80_0000 { continue }  // NaN, ±infinity
        let value = Float(bitPattern: bits)
        let n = runtimeText(value, a)
        let m = mk_float32_text(value, b)
        r.compared += 1
        if n != m || memcmp(a, b, n) != 0 {
            r.mismatches += 1
            if r.examples.count < maxReported {
                r.examples.append("0x\(String(bits, radix: 16)): runtime \(String(decoding: UnsafeBufferPointer(start: a, count: n), as: UTF8.self)) CFloatText \(String(decoding: UnsafeBufferPointer(start: b, count: m), as: UTF8.self))")
            }
        }
    }
    results.add(r)
}
let total = results.total
print("floattext-check: \(total.compared) finite Float bit patterns compared, \(total.mismatches) mismatches, \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
for e in total.examples { print("  \(e)") }
exit(total.mismatches == 0 ? 0 : 1)
