/// Decimal to Double with the Eisel–Lemire algorithm (Lemire, "Number Parsing at a Gigabyte per Second", 2021;
/// the `compute_float_64` of fast_double_parser), for the numbers Clinger's fast path cannot take: up to 19 digits
/// and a decimal exponent in [-100, 100]. It multiplies the digits by a 128-bit approximation of 5^q and either
/// returns the correctly rounded Double or nil when the approximation cannot decide (then the caller uses strtod).
/// The table holds 5^q normalised to 128 bits (truncated; for q < 0, 2^b / 5^-q rounded up), as fast_float's
/// table_generation.py computes it.
enum EiselLemire {
    static let smallestPower = -100
    static let largestPower = 100

    @inline(__always)
    static func double(mantissa w: UInt64, exponent q: Int, negative: Bool) -> Double? {
        if w == 0 { return negative ? -0.0 : 0.0 }
        guard q >= smallestPower, q <= largestPower else { return nil }
        let index = q - smallestPower
        let exponent = (((152_170 + 65536) &* q) >> 16) &+ 1024 &+ 63
        var lz = w.leadingZeroBitCount
        let i = w << UInt64(lz)
        var (upper, lower) = i.multipliedFullWidth(by: powerOfFiveHigh[index])
        if upper & 0x1FF == 0x1FF && lower &+ i < lower {
            let (productMiddle2, productLow) = i.multipliedFullWidth(by: powerOfFiveLow[index])
            let productMiddle1 = lower
            var productHigh = upper
            let productMiddle = productMiddle1 &+ productMiddle2
            if productMiddle < productMiddle1 { productHigh &+= 1 }
            if productMiddle &+ 1 == 0 && productHigh & 0x1FF == 0x1FF && productLow &+ i < productLow { return nil }
            upper = productHigh
            lower = productMiddle
        }
        let upperBit = upper >> 63
        var mantissa = upper >> (upperBit + 9)
        lz += Int(1 ^ upperBit)
        if lower == 0 && upper & 0x1FF == 0 && mantissa & 3 == 1 { return nil }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 1 << 53 {
            mantissa = 1 << 52
            lz -= 1
        }
        mantissa &= ~(1 << 52)
        let realExponent = exponent - lz
        guard realExponent >= 1 && realExponent <= 2046 else { return nil }
        mantissa |= UInt64(realExponent) << 52
        if negative { mantissa |= 1 << 63 }
        return Double(bitPattern: mantissa)
    }

    static let powerOfFiveHigh: [UInt64] = [
        0xdff9772470297ebd, 0x8bfbea76c619ef36, 0xaefae51477a06b03, 0xdab99e59958885c4,
        0x88b402f7fd75539b, 0xaae103b5fcd2a881, 0xd59944a37c0752a2, 0x857fcae62d8493a5,
        0xa6dfbd9fb8e5b88e, 0xd097ad07a71f26b2, 0x825ecc24c873782f, 0xa2f67f2dfa90563b,
        0xcbb41ef979346bca, 0xfea126b7d78186bc, 0x9f24b832e6b0f436, 0xc6ede63fa05d3143,
        0xf8a95fcf88747d94, 0x9b69dbe1b548ce7c, 0xc24452da229b021b, 0xf2d56790ab41c2a2,
        0x97c560ba6b0919a5, 0xbdb6b8e905cb600f, 0xed246723473e3813, 0x9436c0760c86e30b,
        0xb94470938fa89bce, 0xe7958cb87392c2c2, 0x90bd77f3483bb9b9, 0xb4ecd5f01a4aa828,
        0xe2280b6c20dd5232, 0x8d590723948a535f, 0xb0af48ec79ace837, 0xdcdb1b2798182244,
        0x8a08f0f8bf0f156b, 0xac8b2d36eed2dac5, 0xd7adf884aa879177, 0x86ccbb52ea94baea,
        0xa87fea27a539e9a5, 0xd29fe4b18e88640e, 0x83a3eeeef9153e89, 0xa48ceaaab75a8e2b,
        0xcdb02555653131b6, 0x808e17555f3ebf11, 0xa0b19d2ab70e6ed6, 0xc8de047564d20a8b,
        0xfb158592be068d2e, 0x9ced737bb6c4183d, 0xc428d05aa4751e4c, 0xf53304714d9265df,
        0x993fe2c6d07b7fab, 0xbf8fdb78849a5f96, 0xef73d256a5c0f77c, 0x95a8637627989aad,
        0xbb127c53b17ec159, 0xe9d71b689dde71af, 0x9226712162ab070d, 0xb6b00d69bb55c8d1,
        0xe45c10c42a2b3b05, 0x8eb98a7a9a5b04e3, 0xb267ed1940f1c61c, 0xdf01e85f912e37a3,
        0x8b61313bbabce2c6, 0xae397d8aa96c1b77, 0xd9c7dced53c72255, 0x881cea14545c7575,
        0xaa242499697392d2, 0xd4ad2dbfc3d07787, 0x84ec3c97da624ab4, 0xa6274bbdd0fadd61,
        0xcfb11ead453994ba, 0x81ceb32c4b43fcf4, 0xa2425ff75e14fc31, 0xcad2f7f5359a3b3e,
        0xfd87b5f28300ca0d, 0x9e74d1b791e07e48, 0xc612062576589dda, 0xf79687aed3eec551,
        0x9abe14cd44753b52, 0xc16d9a0095928a27, 0xf1c90080baf72cb1, 0x971da05074da7bee,
        0xbce5086492111aea, 0xec1e4a7db69561a5, 0x9392ee8e921d5d07, 0xb877aa3236a4b449,
        0xe69594bec44de15b, 0x901d7cf73ab0acd9, 0xb424dc35095cd80f, 0xe12e13424bb40e13,
        0x8cbccc096f5088cb, 0xafebff0bcb24aafe, 0xdbe6fecebdedd5be, 0x89705f4136b4a597,
        0xabcc77118461cefc, 0xd6bf94d5e57a42bc, 0x8637bd05af6c69b5, 0xa7c5ac471b478423,
        0xd1b71758e219652b, 0x83126e978d4fdf3b, 0xa3d70a3d70a3d70a, 0xcccccccccccccccc,
        0x8000000000000000, 0xa000000000000000, 0xc800000000000000, 0xfa00000000000000,
        0x9c40000000000000, 0xc350000000000000, 0xf424000000000000, 0x9896800000000000,
        0xbebc200000000000, 0xee6b280000000000, 0x9502f90000000000, 0xba43b74000000000,
        0xe8d4a51000000000, 0x9184e72a00000000, 0xb5e620f480000000, 0xe35fa931a0000000,
        0x8e1bc9bf04000000, 0xb1a2bc2ec5000000, 0xde0b6b3a76400000, 0x8ac7230489e80000,
        0xad78ebc5ac620000, 0xd8d726b7177a8000, 0x878678326eac9000, 0xa968163f0a57b400,
        0xd3c21bcecceda100, 0x84595161401484a0, 0xa56fa5b99019a5c8, 0xcecb8f27f4200f3a,
        0x813f3978f8940984, 0xa18f07d736b90be5, 0xc9f2c9cd04674ede, 0xfc6f7c4045812296,
        0x9dc5ada82b70b59d, 0xc5371912364ce305, 0xf684df56c3e01bc6, 0x9a130b963a6c115c,
        0xc097ce7bc90715b3, 0xf0bdc21abb48db20, 0x96769950b50d88f4, 0xbc143fa4e250eb31,
        0xeb194f8e1ae525fd, 0x92efd1b8d0cf37be, 0xb7abc627050305ad, 0xe596b7b0c643c719,
        0x8f7e32ce7bea5c6f, 0xb35dbf821ae4f38b, 0xe0352f62a19e306e, 0x8c213d9da502de45,
        0xaf298d050e4395d6, 0xdaf3f04651d47b4c, 0x88d8762bf324cd0f, 0xab0e93b6efee0053,
        0xd5d238a4abe98068, 0x85a36366eb71f041, 0xa70c3c40a64e6c51, 0xd0cf4b50cfe20765,
        0x82818f1281ed449f, 0xa321f2d7226895c7, 0xcbea6f8ceb02bb39, 0xfee50b7025c36a08,
        0x9f4f2726179a2245, 0xc722f0ef9d80aad6, 0xf8ebad2b84e0d58b, 0x9b934c3b330c8577,
        0xc2781f49ffcfa6d5, 0xf316271c7fc3908a, 0x97edd871cfda3a56, 0xbde94e8e43d0c8ec,
        0xed63a231d4c4fb27, 0x945e455f24fb1cf8, 0xb975d6b6ee39e436, 0xe7d34c64a9c85d44,
        0x90e40fbeea1d3a4a, 0xb51d13aea4a488dd, 0xe264589a4dcdab14, 0x8d7eb76070a08aec,
        0xb0de65388cc8ada8, 0xdd15fe86affad912, 0x8a2dbf142dfcc7ab, 0xacb92ed9397bf996,
        0xd7e77a8f87daf7fb, 0x86f0ac99b4e8dafd, 0xa8acd7c0222311bc, 0xd2d80db02aabd62b,
        0x83c7088e1aab65db, 0xa4b8cab1a1563f52, 0xcde6fd5e09abcf26, 0x80b05e5ac60b6178,
        0xa0dc75f1778e39d6, 0xc913936dd571c84c, 0xfb5878494ace3a5f, 0x9d174b2dcec0e47b,
        0xc45d1df942711d9a, 0xf5746577930d6500, 0x9968bf6abbe85f20, 0xbfc2ef456ae276e8,
        0xefb3ab16c59b14a2, 0x95d04aee3b80ece5, 0xbb445da9ca61281f, 0xea1575143cf97226,
        0x924d692ca61be758,
    ]
    static let powerOfFiveLow: [UInt64] = [
        0x59787e2b93bc56f7, 0x57eb4edb3c55b65a, 0xede622920b6b23f1, 0xe95fab368e45eced,
        0x11dbcb0218ebb414, 0xd652bdc29f26a119, 0x4be76d3346f0495f, 0x6f70a4400c562ddb,
        0xcb4ccd500f6bb952, 0x7e2000a41346a7a7, 0x8ed400668c0c28c8, 0x728900802f0f32fa,
        0x4f2b40a03ad2ffb9, 0xe2f610c84987bfa8, 0x0dd9ca7d2df4d7c9, 0x91503d1c79720dbb,
        0x75a44c6397ce912a, 0xc986afbe3ee11aba, 0xfbe85badce996168, 0xfae27299423fb9c3,
        0xdccd879fc967d41a, 0x5400e987bbc1c920, 0x290123e9aab23b68, 0xf9a0b6720aaf6521,
        0xf808e40e8d5b3e69, 0xb60b1d1230b20e04, 0xb1c6f22b5e6f48c2, 0x1e38aeb6360b1af3,
        0x25c6da63c38de1b0, 0x579c487e5a38ad0e, 0x2d835a9df0c6d851, 0xf8e431456cf88e65,
        0x1b8e9ecb641b58ff, 0xe272467e3d222f3f, 0x5b0ed81dcc6abb0f, 0x98e947129fc2b4e9,
        0x3f2398d747b36224, 0x8eec7f0d19a03aad, 0x1953cf68300424ac, 0x5fa8c3423c052dd7,
        0x3792f412cb06794d, 0xe2bbd88bbee40bd0, 0x5b6aceaeae9d0ec4, 0xf245825a5a445275,
        0xeed6e2f0f0d56712, 0x55464dd69685606b, 0xaa97e14c3c26b886, 0xd53dd99f4b3066a8,
        0xe546a8038efe4029, 0xde98520472bdd033, 0x963e66858f6d4440, 0xdde7001379a44aa8,
        0x5560c018580d5d52, 0xaab8f01e6e10b4a6, 0xcab3961304ca70e8, 0x3d607b97c5fd0d22,
        0x8cb89a7db77c506a, 0x77f3608e92adb242, 0x55f038b237591ed3, 0x6b6c46dec52f6688,
        0x2323ac4b3b3da015, 0xabec975e0a0d081a, 0x96e7bd358c904a21, 0x7e50d64177da2e54,
        0xdde50bd1d5d0b9e9, 0x955e4ec64b44e864, 0xbd5af13bef0b113e, 0xecb1ad8aeacdd58e,
        0x67de18eda5814af2, 0x80eacf948770ced7, 0xa1258379a94d028d, 0x096ee45813a04330,
        0x8bca9d6e188853fc, 0x775ea264cf55347e, 0x95364afe032a819e, 0x3a83ddbd83f52205,
        0xc4926a9672793543, 0x75b7053c0f178294, 0x5324c68b12dd6339, 0xd3f6fc16ebca5e04,
        0x88f4bb1ca6bcf585, 0x2b31e9e3d06c32e6, 0x3aff322e62439fd0, 0x09befeb9fad487c3,
        0x4c2ebe687989a9b4, 0x0f9d37014bf60a11, 0x538484c19ef38c95, 0x2865a5f206b06fba,
        0xf93f87b7442e45d4, 0xf78f69a51539d749, 0xb573440e5a884d1c, 0x31680a88f8953031,
        0xfdc20d2b36ba7c3e, 0x3d32907604691b4d, 0xa63f9a49c2c1b110, 0x0fcf80dc33721d54,
        0xd3c36113404ea4a9, 0x645a1cac083126ea, 0x3d70a3d70a3d70a4, 0xcccccccccccccccd,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
        0x4000000000000000, 0x5000000000000000, 0xa400000000000000, 0x4d00000000000000,
        0xf020000000000000, 0x6c28000000000000, 0xc732000000000000, 0x3c7f400000000000,
        0x4b9f100000000000, 0x1e86d40000000000, 0x1314448000000000, 0x17d955a000000000,
        0x5dcfab0800000000, 0x5aa1cae500000000, 0xf14a3d9e40000000, 0x6d9ccd05d0000000,
        0xe4820023a2000000, 0xdda2802c8a800000, 0xd50b2037ad200000, 0x4526f422cc340000,
        0x9670b12b7f410000, 0x3c0cdd765f114000, 0xa5880a69fb6ac800, 0x8eea0d047a457a00,
        0x72a4904598d6d880, 0x47a6da2b7f864750, 0x999090b65f67d924, 0xfff4b4e3f741cf6d,
        0xbff8f10e7a8921a4, 0xaff72d52192b6a0d, 0x9bf4f8a69f764490, 0x02f236d04753d5b4,
        0x01d762422c946590, 0x424d3ad2b7b97ef5, 0xd2e0898765a7deb2, 0x63cc55f49f88eb2f,
        0x3cbf6b71c76b25fb, 0x8bef464e3945ef7a, 0x97758bf0e3cbb5ac, 0x3d52eeed1cbea317,
        0x4ca7aaa863ee4bdd, 0x8fe8caa93e74ef6a, 0xb3e2fd538e122b44, 0x60dbbca87196b616,
        0xbc8955e946fe31cd, 0x6babab6398bdbe41, 0xc696963c7eed2dd1, 0xfc1e1de5cf543ca2,
        0x3b25a55f43294bcb, 0x49ef0eb713f39ebe, 0x6e3569326c784337, 0x49c2c37f07965404,
        0xdc33745ec97be906, 0x69a028bb3ded71a3, 0xc40832ea0d68ce0c, 0xf50a3fa490c30190,
        0x792667c6da79e0fa, 0x577001b891185938, 0xed4c0226b55e6f86, 0x544f8158315b05b4,
        0x696361ae3db1c721, 0x03bc3a19cd1e38e9, 0x04ab48a04065c723, 0x62eb0d64283f9c76,
        0x3ba5d0bd324f8394, 0xca8f44ec7ee36479, 0x7e998b13cf4e1ecb, 0x9e3fedd8c321a67e,
        0xc5cfe94ef3ea101e, 0xbba1f1d158724a12, 0x2a8a6e45ae8edc97, 0xf52d09d71a3293bd,
        0x593c2626705f9c56,
    ]
}
