#ifndef MODELKIT_FLOAT_TEXT_H
#define MODELKIT_FLOAT_TEXT_H
#include <stddef.h>
#include <stdint.h>

/// Writes a finite binary32 value exactly as Swift's `Float.description` does: the shortest decimal that reads back
/// to the same Float (the closest such, ties to an even last digit), plain for 1e-4 <= |v| <= 2^24 ("7100271.0",
/// "0.0001"), exponent form otherwise ("1.6777218e+07", "1e-05"); "0.0" and "-0.0" for zeros. The text is at
/// most 15 bytes, with no terminating NUL, but `out` must have room for 32: bytes past the text are used as scratch.
/// Returns the length of the text. NaN and infinities are the caller's business.
size_t mk_float32_text(float value, uint8_t *out);
#endif
