#include "crc32c.h"
#include <string.h>

// Software fallback: slicing-by-8 tables, built once.
static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table[0][n];
        for (int k = 1; k < 8; k++) { c = table[0][c & 0xff] ^ (c >> 8); table[k][n] = c; }
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc32c_software(uint32_t crc, const unsigned char *p, size_t n) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
    while (n >= 8) {
        uint64_t word; memcpy(&word, p, 8);
        word ^= crc;
        crc = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
              table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^ table[2][(word >> 40) & 0xff] ^
              table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8; n -= 8;
    }
    while (n--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
// Three independent streams hide the crc32 instruction's 3-cycle latency; they are joined by
// running the first two streams' CRCs through zero-extension (shift) tables computed once.
#define BLOCK 4096
static uint32_t shift_table[2][4][256];   // multiply by x^(8*BLOCK*k) mod P, k = 2 and 1
static int shift_ready = 0;

static uint32_t gf2_multiply_xpow(uint32_t crc, size_t zero_bytes) {
    // Advances a raw (non-inverted) CRC over zero_bytes zeros, bit by bit: used only to build tables.
    for (size_t i = 0; i < zero_bytes * 8; i++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    return crc;
}

static void build_shift(void) {
    // The shift is linear over GF(2): advance the 32 basis vectors, then tabulate by byte.
    for (int s = 0; s < 2; s++) {
        size_t zeros = (size_t)BLOCK * (s == 0 ? 2 : 1);
        uint32_t basis[32];
        for (int b = 0; b < 32; b++) basis[b] = gf2_multiply_xpow(1u << b, zeros);
        for (int byte = 0; byte < 4; byte++)
            for (uint32_t v = 0; v < 256; v++) {
                uint32_t r = 0;
                for (int bit = 0; bit < 8; bit++) if (v & (1u << bit)) r ^= basis[8 * byte + bit];
                shift_table[s][byte][v] = r;
            }
    }
    __atomic_store_n(&shift_ready, 1, __ATOMIC_RELEASE);
}

static inline uint32_t shift(int s, uint32_t crc) {
    return shift_table[s][0][crc & 0xff] ^ shift_table[s][1][(crc >> 8) & 0xff] ^
           shift_table[s][2][(crc >> 16) & 0xff] ^ shift_table[s][3][crc >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c0 = crc;
    if (n >= 3 * BLOCK) {
        if (!__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE)) build_shift();
        while (n >= 3 * BLOCK) {
            uint64_t c1 = 0, c2 = 0;
            const unsigned char *p1 = p + BLOCK, *p2 = p + 2 * BLOCK;
            for (size_t i = 0; i < BLOCK; i += 8) {
                uint64_t w0, w1, w2;
                memcpy(&w0, p + i, 8); memcpy(&w1, p1 + i, 8); memcpy(&w2, p2 + i, 8);
                c0 = _mm_crc32_u64(c0, w0); c1 = _mm_crc32_u64(c1, w1); c2 = _mm_crc32_u64(c2, w2);
            }
            c0 = shift(0, (uint32_t)c0) ^ shift(1, (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * BLOCK; n -= 3 * BLOCK;
        }
    }
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c0 = _mm_crc32_u64(c0, w); p += 8; n -= 8; }
    uint32_t c = (uint32_t)c0;
    while (n--) c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t mk_crc32c(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return ~crc32c_hardware(crc, p, length);
#endif
    return ~crc32c_software(crc, p, length);
}
