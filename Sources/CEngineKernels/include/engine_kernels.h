#ifndef MODELKIT_ENGINE_KERNELS_H
#define MODELKIT_ENGINE_KERNELS_H
#include <stddef.h>

/* Keras's Adam update over n elements (spec/engine.md, "Adam"), in the order of operations Keras uses:
 *   m += (g - m) * one_minus_beta1;  v += (g*g - v) * one_minus_beta2;  p -= (m * alpha) / (sqrt(v) + epsilon).
 * Plain IEEE arithmetic (no contraction into FMA), so every build gives the same bits; C so that the loop
 * vectorises (Swift's scalar square root keeps it scalar). */
void modelkit_adam_keras_f32(float *p, const float *g, float *m, float *v, size_t n,
                             float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon);
void modelkit_adam_keras_f64(double *p, const double *g, double *m, double *v, size_t n,
                             double alpha, double one_minus_beta1, double one_minus_beta2, double epsilon);
#endif
