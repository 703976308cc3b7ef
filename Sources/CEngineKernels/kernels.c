#include "engine_kernels.h"
#include <math.h>

/* Never fused: a multiply-add rounded once would change results with the CPU. The pragma says so in the source, so
 * the package needs no compiler flags (SwiftPM refuses unsafeFlags in dependencies). Release builds vectorise the
 * loops; the AVX2 clone and the baseline one compute the same IEEE operations, so the choice the loader makes does
 * not change any result. */
#pragma STDC FP_CONTRACT OFF
__attribute__((target_clones("avx2", "default")))
void modelkit_adam_keras_f32(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                             float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon) {
    for (size_t j = 0; j < n; j++) {
        float mj = m[j] + (g[j] - m[j]) * one_minus_beta1;
        float vj = v[j] + (g[j] * g[j] - v[j]) * one_minus_beta2;
        m[j] = mj;
        v[j] = vj;
        p[j] = p[j] - (mj * alpha) / (sqrtf(vj) + epsilon);
    }
}

__attribute__((target_clones("avx2", "default")))
void modelkit_adam_keras_f64(double *restrict p, const double *restrict g, double *restrict m, double *restrict v, size_t n,
                             double alpha, double one_minus_beta1, double one_minus_beta2, double epsilon) {
    for (size_t j = 0; j < n; j++) {
        double mj = m[j] + (g[j] - m[j]) * one_minus_beta1;
        double vj = v[j] + (g[j] * g[j] - v[j]) * one_minus_beta2;
        m[j] = mj;
        v[j] = vj;
        p[j] = p[j] - (mj * alpha) / (sqrt(vj) + epsilon);
    }
}
