// Shortest round-trip text of binary32 values, for the JSON and CSV dumps (see float_text.h for the output format).
//
// The digits come from Schubfach (Raffaello Giulietti, "The Schubfach way to render doubles", 2020; the algorithm
// behind Java 19's Float.toString), because it needs no loop over candidate digits: three 64×64-bit products give
// the value and both ends of its rounding interval scaled by 10^-k, from which the shortest decimal is read off.
// One difference from Java: Java insists on at least two digits (1.4E-45), Swift does not (1e-45), so subnormals
// are not pre-scaled by 10 and the one-digit-shorter candidate is always tried. The output equals the Swift
// runtime's for all 2^32 bit patterns (tools/floattext, run before this replaced the runtime call).
#include "float_text.h"
#include <string.h>

static const uint64_t pow10_table[78] = {
    // k = -46 ... 31: g(k) = floor(10^-k * 2^(62 - floor(log2(10^-k)))) + 1 (tools/floattext/make_table.py)
    0x701a97b150cf1838, 0x59aedfc10d7279c6, 0x47bf19673df52e38, 0x72cb5bd86321e38d,
    0x5bd5e313828182d7, 0x4977e8dc68679be0, 0x758ca7c70d7292ff, 0x5e0a1fd271287599,
    0x4b3b4ca85a86c47b, 0x785ee10d5da46d91, 0x604be73de4838ada, 0x4d0985cb1d3608af,
    0x7b426fab61f00de4, 0x629b8c891b267183, 0x4ee2d6d415b85acf, 0x7e37be2022c0914c,
    0x64f964e68233a770, 0x50c783eb9b5c85f3, 0x409f9cbc7c4a04c3, 0x6765c793fa10079e,
    0x52b7d2dcc80cd2e5, 0x422ca8b0a00a4251, 0x69e10de76676d081, 0x54b40b1f852bda01,
    0x43c33c1937564801, 0x6c6b935b8bbd4001, 0x56bc75e2d6310001, 0x4563918244f40001,
    0x6f05b59d3b200001, 0x58d15e1762800001, 0x470de4df82000001, 0x71afd498d0000001,
    0x5af3107a40000001, 0x48c2739500000001, 0x746a528800000001, 0x5d21dba000000001,
    0x4a817c8000000001, 0x7735940000000001, 0x5f5e100000000001, 0x4c4b400000000001,
    0x7a12000000000001, 0x61a8000000000001, 0x4e20000000000001, 0x7d00000000000001,
    0x6400000000000001, 0x5000000000000001, 0x4000000000000001, 0x6666666666666667,
    0x51eb851eb851eb86, 0x4189374bc6a7ef9e, 0x68db8bac710cb296, 0x53e2d6238da3c212,
    0x431bde82d7b634db, 0x6b5fca6af2bd215f, 0x55e63b88c230e77f, 0x44b82fa09b5a52cc,
    0x6df37f675ef6eae0, 0x57f5ff85e5925580, 0x465e6604b7a84466, 0x709709a125da070a,
    0x5a126e1a84ae6c08, 0x480ebe7b9d58566d, 0x734aca5f6226f0ae, 0x5c3bd5191b525a25,
    0x49c97747490eae84, 0x760f253edb4ab0d3, 0x5e72843249088d76, 0x4b8ed0283a6d3df8,
    0x78e480405d7b9659, 0x60b6cd004ac94514, 0x4d5f0a66a23a9daa, 0x7bcb43d769f762a9,
    0x63090312bb2c4eee, 0x4f3a68dbc8f03f25, 0x7ec3daf941806507, 0x65697bfa9acd1da0,
    0x51212ffbaf0a7e19, 0x40e7599625a1fe7b,
};

// floor(log10(2^q)), floor(log10(3/4 · 2^q)) and floor(log2(10^e)) by fixed-point multiplication; exact over the
// exponents used here (checked by tools/floattext/make_table.py).
static inline int floor_log10_pow2(int q) { return (int)(((int64_t)q * 661971961083) >> 41); }
static inline int floor_log10_three_quarters_pow2(int q) { return (int)(((int64_t)q * 661971961083 - 274743187321) >> 41); }
static inline int floor_log2_pow10(int e) { return (int)(((int64_t)e * 913124641741) >> 38); }

// The scaled value rounded to odd (the paper's r_o'): high bits of g·cp, with a sticky last bit that says whether
// anything nonzero was dropped, so comparisons against exact quarter-units stay correct.
static inline uint32_t round_to_odd(uint64_t g, uint64_t cp) {
    uint64_t x1 = (uint64_t)(((unsigned __int128)g * cp) >> 64);
    return (uint32_t)((x1 >> 31) | (((x1 & 0xffffffff) + 0xffffffff) >> 32));
}

// The shortest, closest decimal f · 10^*exponent for a positive finite value given by its bits (sign cleared).
static inline uint32_t shortest_decimal(uint32_t bits, int *exponent) {
    uint32_t fraction = bits & 0x7fffff;
    int biased = (int)(bits >> 23);
    uint32_t c;
    int q;
    if (biased != 0) {
        c = fraction | 0x800000;
        q = biased - 150;
        // Integers below 2^24 are their own shortest text.
        if (q < 0 && q > -24 && (c & ((1u << -q) - 1)) == 0) {
            *exponent = 0;
            return c >> -q;
        }
    } else {
        c = fraction;
        q = -149;
    }
    // The rounding interval is [v - ulp/2, v + ulp/2] in quarter units (cb = 4c), closed when c is even; at a power
    // of two the lower neighbour is closer, so the interval is asymmetric.
    uint32_t odd = c & 1;
    uint64_t cb = (uint64_t)c << 2, cbr = cb + 2, cbl;
    int k;
    if (c != 0x800000 || q == -149) {
        cbl = cb - 2;
        k = floor_log10_pow2(q);
    } else {
        cbl = cb - 1;
        k = floor_log10_three_quarters_pow2(q);
    }
    int h = q + floor_log2_pow10(-k) + 33;
    uint64_t g = pow10_table[k + 46];
    uint32_t vb = round_to_odd(g, cb << h), vbl = round_to_odd(g, cbl << h), vbr = round_to_odd(g, cbr << h);
    uint32_t s = vb >> 2;
    *exponent = k;
    // One digit fewer, sp10 or tp10: at most one multiple of 10 · 10^k fits in the interval. Otherwise s or s + 1
    // (at least one fits); when both do, the closer one, ties to even. Selected without branches: with random
    // digits every one of these conditions is a coin toss, and mispredictions cost more than the arithmetic.
    uint32_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
    uint32_t upin = vbl + odd <= sp10 << 2, wpin = (tp10 << 2) + odd <= vbr;
    uint32_t t = s + 1;
    uint32_t uin = vbl + odd <= s << 2, win = (t << 2) + odd <= vbr;
    int32_t cmp = (int32_t)(vb - ((s + t) << 1));
    uint32_t closer_is_t = cmp > 0 || (cmp == 0 && (s & 1));
    uint32_t pick_t = (uin ^ win) ? win : closer_is_t;
    uint32_t longer = s + pick_t, shorter = sp10 + 10 * wpin;
    uint32_t use_shorter = 0u - (upin ^ wpin);
    return (shorter & use_shorter) | (longer & ~use_shorter);
}

static const uint32_t pow10_u32[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

// The eight decimal digits of x < 10^8 as ASCII in one 64-bit word, first digit in the lowest byte (the targets are
// little-endian: x86-64, arm64), computed in
// parallel lanes (two of 4 digits, four of 2, eight of 1): building them in a register rather than byte by byte in
// memory avoids the store-forwarding stalls of reading freshly written bytes back as a word.
static inline uint64_t eight_digits(uint32_t x) {
    uint64_t y = (x / 10000) | ((uint64_t)(x % 10000) << 32);
    uint64_t hundreds = ((y * 10486) >> 20) & 0x0000007f0000007f;  // v / 100, exact for v < 10^4
    y = hundreds | ((y - 100 * hundreds) << 16);
    uint64_t tens = ((y * 103) >> 10) & 0x000f000f000f000f;         // v / 10, exact for v < 100
    y = tens | ((y - 10 * tens) << 8);
    return y | 0x3030303030303030;
}

static inline void store8(uint8_t *p, uint64_t x) { memcpy(p, &x, 8); }

size_t mk_float32_text(float value, uint8_t *out) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    uint8_t *p = out;
    *p = '-';
    p += bits >> 31;  // no branch: signs of weights are random
    uint32_t magnitude = bits & 0x7fffffff;
    if (magnitude == 0) {
        memcpy(p, "0.0", 3);
        return (size_t)(p + 3 - out);
    }
    int e;
    uint32_t f = shortest_decimal(magnitude, &e);
    int digits = 1 + (f >= 10) + (f >= 100) + (f >= 1000) + (f >= 10000) + (f >= 100000) + (f >= 1000000)
               + (f >= 10000000) + (f >= 100000000);
    int point = e + digits;  // value = 0.d1d2... · 10^point
    // Scaled to exactly nine digits: the first as a byte, the other eight in one word (first in the lowest byte).
    // The significant digits end at the word's last byte that is not '0' (trailing zeros are dropped this way rather
    // than by dividing). Every case below stores whole words, so up to 32 bytes of `out` may be written beyond the
    // text's end.
    uint32_t nine = f * pow10_u32[9 - digits];
    uint8_t first = (uint8_t)('0' + nine / 100000000);
    uint64_t rest = eight_digits(nine % 100000000);
    uint64_t nonzero = rest ^ 0x3030303030303030;
    int n = nonzero ? 2 + (63 - __builtin_clzll(nonzero)) / 8 : 1;  // significant digits
    // Swift's thresholds (SwiftDtoa): exponent form above 2^24 (0x4b800000) or below 1e-4.
    if (magnitude > 0x4b800000 || point < -3) {
        int x = point - 1;
        p[0] = first;
        p[1] = '.';
        store8(p + 2, rest);
        p += n > 1 ? n + 1 : 1;
        uint32_t exponent10 = (uint32_t)(x < 0 ? -x : x);  // at most 45
        p[0] = 'e';
        p[1] = x < 0 ? '-' : '+';
        p[2] = (uint8_t)('0' + exponent10 / 10);
        p[3] = (uint8_t)('0' + exponent10 % 10);
        p += 4;
    } else if (point <= 0) {
        memcpy(p, "0.000000", 8);  // "0." and -point zeros, at most three
        p += 2 - point;
        p[0] = first;
        store8(p + 1, rest);
        p += n;
    } else if (point >= n) {
        // An integer below 2^24 (at most eight digits): the zeros after the n-th digit are the ones it needs.
        p[0] = first;
        store8(p + 1, rest);
        p += point;
        memcpy(p, ".0", 2);
        p += 2;
    } else {
        p[0] = first;
        store8(p + 1, rest);
        p[point] = '.';
        store8(p + point + 1, rest >> (8 * (point - 1)));
        p += n + 1;
    }
    return (size_t)(p - out);
}
