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
static inline hid_t mk_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t mk_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned mk_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned mk_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned mk_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline size_t mk_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Turns off HDF5's automatic printing of error stacks to stderr; errors are read back and thrown instead.
static inline void mk_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
