#ifndef MODELKIT_CBLAS_SHIM_H
#define MODELKIT_CBLAS_SHIM_H
#include <cblas.h>
#endif
