// The paper's local response normalisation on a channels_last feature map:
//
//   y_i = x_i * d_i^-beta,   d_i = k + alpha * sum_{|j - i| <= size / 2} x_j^2
//
// over the channels i of each pixel (channels are contiguous: element (pixel, c) is at
// pixel * channels + c). Loaded by model/lrn_kernel.py through ctypes.
#ifndef ALEXNET_MODEL_LRN_KERNEL_H_
#define ALEXNET_MODEL_LRN_KERNEL_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Element types, and return codes.
enum { LRN_FLOAT32 = 0, LRN_FLOAT64 = 1, LRN_BFLOAT16 = 2 };
enum { LRN_OK = 0, LRN_BAD_ARGUMENT = 1 };

// Writes y (same shape and type as x). bfloat16 is computed in float32.
int alexnet_lrn_forward(int dtype, const void* x, void* y, int64_t pixels, int64_t channels, int size,
                        double alpha, double beta, double k, int threads);

// Writes grad_x = dL/dx given grad = dL/dy, recomputing the divisors from x.
int alexnet_lrn_backward(int dtype, const void* x, const void* grad, void* grad_x, int64_t pixels,
                         int64_t channels, int size, double alpha, double beta, double k, int threads);

#ifdef __cplusplus
}
#endif

#endif  // ALEXNET_MODEL_LRN_KERNEL_H_
