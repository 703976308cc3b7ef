import Testing
@testable import Convert

/// Float text comes from CFloatText (Schubfach in C), not from Swift; these check it against `Float.description` on
/// the values where shortest-digit algorithms go wrong (interval ends, powers of two, subnormals, the switch between
/// plain and exponent form) and on random bit patterns. tools/floattext/check compares all 2^32 patterns offline.
@Suite struct FloatTextTests {
    /// NumberFormat's text for `value`, as a String.
    func text(_ value: Float) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: NumberFormat.maxWidth) { buffer in
            let n = NumberFormat.write(value, to: buffer.baseAddress!, quoteNonFinite: true)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }

    /// Every value and its negation; returns the mismatches (at most 10) and the number of values checked.
    func mismatches(_ values: [Float]) -> (examples: [String], checked: Int) {
        var examples: [String] = []
        var checked = 0
        for v in values where v.isFinite {
            for x in [v, -v] {
                checked += 1
                let got = text(x), want = x.description
                if got != want && examples.count < 10 { examples.append("bits 0x\(String(x.bitPattern, radix: 16)): \(got) ≠ \(want)") }
            }
        }
        return (examples, checked)
    }

    @Test func edgeCasesMatchDescription() {
        var values: [Float] = [0, 1, 0.1, 1e-4, 1e-5, 16777216, 16777218, 7100271, .leastNonzeroMagnitude, .leastNormalMagnitude,
                               .greatestFiniteMagnitude, Float.leastNormalMagnitude.nextDown, 7.038531e-26, 1.0 / 3]
        // Each binade's ends, where the rounding interval is asymmetric (powers of two) or closes (even significands).
        for biased: UInt32 in 0...254 {
            for fraction: UInt32 in Array(0..<40) + Array((1 << 23) - 40..<(1 << 23)) {
                values.append(Float(bitPattern: biased << 23 | fraction))
            }
        }
        // Integers (their own shortest text, ".0" appended), up to and past 2^24 where exponent form begins.
        values += (0..<20_000).map { Float($0) } + (0..<2_000).map { Float(16_777_216 - 1_000 + 2 * $0) }
        // Powers of ten and their neighbours: digit counts change there, and 1e-4 is where exponent form begins below.
        for e in -45...38 {
            guard let p = Float("1e\(e)") else { continue }
            var x = p
            for _ in 0..<20 { x = x.nextDown }
            for _ in 0..<40 { values.append(x); x = x.nextUp }
        }
        let result = mismatches(values)
        #expect(result.checked > 90_000)
        #expect(result.examples.isEmpty, "\(result.examples)")
    }

    @Test func randomBitPatternsMatchDescription() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values: [Float] = []
        values.reserveCapacity(100_000)
        while values.count < 100_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)))
        }
        // Typical weights: small magnitudes with random low bits.
        for i in 0..<50_000 { values.append(Float(Double(i) * 1.0e-5 - 0.25) * 0.731) }
        let result = mismatches(values)
        #expect(result.checked > 290_000)
        #expect(result.examples.isEmpty, "\(result.examples)")
    }

    @Test func nonFiniteValuesAreSpelledOut() {
        #expect(text(.nan) == "\"NaN\"")
        #expect(text(.infinity) == "\"Infinity\"")
        #expect(text(-.infinity) == "\"-Infinity\"")
    }
}
