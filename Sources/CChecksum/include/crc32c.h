#ifndef MODELKIT_CRC32C_H
#define MODELKIT_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
/// `crc` is the value returned by a previous call (0 to start); the result is final (already inverted),
/// so crc32c(crc32c(0, a), b) == crc32c(0, a ++ b).
uint32_t mk_crc32c(uint32_t crc, const void *data, size_t length);
#endif
