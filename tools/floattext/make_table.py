#!/usr/bin/env python3
"""Prints the power-of-ten table of Sources/CFloatText/float_text.c (Schubfach for binary32).

g(k) = floor(10^-k * 2^(62 - floor(log2(10^-k)))) + 1, a 63-bit upper approximation of 10^-k, for every decimal
exponent k a binary32 value can need (-46...31). Also checks the integer logarithm shortcuts the C code uses against
exact arithmetic over every binary exponent q of binary32 (-149...104).
"""
from fractions import Fraction
import math

K_MIN, K_MAX = -46, 31


def floor_log2(x: Fraction) -> int:
    e = x.numerator.bit_length() - x.denominator.bit_length()
    while Fraction(2) ** e > x: e -= 1
    while Fraction(2) ** (e + 1) <= x: e += 1
    return e


def floor_log10(x: Fraction) -> int:
    e = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** e > x: e -= 1
    while Fraction(10) ** (e + 1) <= x: e += 1
    return e


for q in range(-149, 105):
    assert (q * 661971961083) >> 41 == floor_log10(Fraction(2) ** q), q
    assert (q * 661971961083 - 274743187321) >> 41 == floor_log10(Fraction(3, 4) * Fraction(2) ** q), q
for k in range(K_MIN, K_MAX + 1):
    assert (-k * 913124641741) >> 38 == floor_log2(Fraction(10) ** -k), k

print(f"// k = {K_MIN} ... {K_MAX}: g(k) = floor(10^-k * 2^(62 - floor(log2(10^-k)))) + 1 (tools/floattext/make_table.py)")
rows = []
for k in range(K_MIN, K_MAX + 1):
    p = Fraction(10) ** -k
    g = math.floor(p * Fraction(2) ** (62 - floor_log2(p))) + 1
    assert 2 ** 62 < g <= 2 ** 63
    rows.append(f"0x{g:016x}")
for i in range(0, len(rows), 4):
    print("    " + ", ".join(rows[i:i + 4]) + ",")
