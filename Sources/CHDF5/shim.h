#ifndef MODELKIT_CHDF5_SHIM_H
#define MODELKIT_CHDF5_SHIM_H
#include <hdf5.h>

// HDF5's type and property-list "constants" are macros that call H5open() and read a global;
// Swift cannot import them, so each is wrapped in a static inline function.
static inline hid_t mk_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t mk_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t mk_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t mk_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t mk_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mk_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t mk_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mk_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t mk_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mk_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mk_H5T_NATIVE_HBOOL(void) { return H5T_NATIVE_HBOOL; }
static inline hid_t mk_H5T_IEEE_F16LE(void) {
#ifdef H5T_IEEE_F16LE
    return H5T_IEEE_F16LE;
#else
    return -1;
#endif
}
static inline hid_t mk_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t mk_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t mk_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t mk_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t mk_H5T_STD_I16LE(void) { return H5T_STD_I16LE; }
static inline hid_t mk_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
static inline hid_t mk_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t mk_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
static inline hid_t mk_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t mk_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t mk_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t mk_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t mk_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t mk_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t mk_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t mk_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t mk_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline haddr_t mk_HADDR_UNDEF(void) { return HADDR_UNDEF; }
static inline hid_t mk_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t mk_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned mk_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned mk_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned mk_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline size_t mk_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Turns off HDF5's automatic printing of error stacks to stderr; errors are read back and thrown instead.
static inline void mk_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#include <string.h>
#include <stdio.h>

typedef struct { char *buffer; size_t size; size_t used; int count; } mk_error_sink;

static inline herr_t mk_error_walk(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    mk_error_sink *sink = (mk_error_sink *)data;
    if (sink->count >= 6 || sink->used + 1 >= sink->size) return 0;
    int w = snprintf(sink->buffer + sink->used, sink->size - sink->used, "%s%s(): %s",
                     sink->count ? "; " : "", e->func_name ? e->func_name : "?", e->desc ? e->desc : "");
    if (w > 0) sink->used += (size_t)w < sink->size - sink->used ? (size_t)w : sink->size - sink->used - 1;
    sink->count++;
    return 0;
}

/// Copies the current thread's HDF5 error stack, outermost call first, into `buffer` as
/// "H5Fopen(): unable to open file; H5F_open(): truncated file: ...", then clears the stack.
static inline void mk_error_message(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = 0;
    mk_error_sink sink = { buffer, size, 0, 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, mk_error_walk, &sink);
    H5Eclear2(H5E_DEFAULT);
}

/// A little-endian IEEE binary16 type: HDF5 1.10 predefines none; h5py reads this layout as float16.
static inline hid_t mk_create_f16_type(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) { H5Tclose(t); return -1; }
    return t;
}

/// The enum h5py uses for numpy bool: int8 with FALSE = 0, TRUE = 1.
static inline hid_t mk_create_bool_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t < 0) return t;
    signed char f = 0, v = 1;
    if (H5Tenum_insert(t, "FALSE", &f) < 0 || H5Tenum_insert(t, "TRUE", &v) < 0) { H5Tclose(t); return -1; }
    return t;
}

static inline unsigned mk_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
#endif
