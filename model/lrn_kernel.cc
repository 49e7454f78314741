// The paper's local response normalisation, fused: one pass over memory forward and
// one backward (model/lrn_kernel.h says what each function computes).
//
// In channels_last memory each pixel's channels lie side by side, so a pixel is
// normalised from a few cache lines: squares, the n-channel window sums, the divisor
// and its power never leave the stack. Eager PyTorch made about seven full passes
// forward and eleven backward, each reading and writing the whole feature map.
// The backward recomputes the divisor from x instead of saving it: arithmetic is
// cheaper than a saved tensor's memory traffic.
#include "model/lrn_kernel.h"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// bfloat16 is the top half of a float32; stored with round-to-nearest-even as torch does.
inline float load(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline float load(float v) { return v; }
inline double load(double v) { return v; }

inline void store(float f, uint16_t* out) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if (std::isnan(f)) {
    *out = 0x7fc0;
    return;
  }
  bits += 0x7fff + ((bits >> 16) & 1);
  *out = static_cast<uint16_t>(bits >> 16);
}
inline void store(float f, float* out) { *out = f; }
inline void store(double f, double* out) { *out = f; }

struct Params {
  int64_t channels;
  int half;  // the window covers channels i - half .. i + half
  double alpha, beta, k;
};

// Per-thread scratch: padded squares (or padded gradient terms), divisors and scales.
template <typename Acc>
struct Scratch {
  std::vector<Acc> padded, window, scale, value;
  Scratch(const Params& p)
      : padded(p.channels + 2 * p.half, Acc(0)), window(p.channels), scale(p.channels), value(p.channels) {}
};

// window[c] = sum of padded[c .. c + 2 * half]: each offset a whole vectorisable sweep.
template <typename Acc>
inline void window_sums(Scratch<Acc>& s, int64_t channels, int half) {
  Acc* __restrict window = s.window.data();
  const Acc* __restrict padded = s.padded.data();
  for (int64_t c = 0; c < channels; ++c) window[c] = padded[c];
  for (int o = 1; o <= 2 * half; ++o)
    for (int64_t c = 0; c < channels; ++c) window[c] += padded[c + o];
}

// value = x of one pixel; scale = d^-beta; window = d.
template <typename T, typename Acc>
inline void divisors(const T* __restrict x, Scratch<Acc>& s, const Params& p) {
  const int64_t C = p.channels;
  const Acc alpha = p.alpha, beta = p.beta, k = p.k;  // beta: only for the general pow
  Acc* __restrict value = s.value.data();
  Acc* __restrict squares = s.padded.data() + p.half;
  for (int64_t c = 0; c < C; ++c) {
    value[c] = load(x[c]);
    squares[c] = value[c] * value[c];
  }
  window_sums(s, C, p.half);
  Acc* __restrict window = s.window.data();
  Acc* __restrict scale = s.scale.data();
  for (int64_t c = 0; c < C; ++c) window[c] = k + alpha * window[c];
  if (p.beta == 0.75) {
    // d^-0.75 as 1 / (sqrt(d) * sqrt(sqrt(d))): vectorised square roots, where pow is a call per element.
    for (int64_t c = 0; c < C; ++c) {
      Acc root = std::sqrt(window[c]);
      scale[c] = Acc(1) / (root * std::sqrt(root));
    }
  } else {
    for (int64_t c = 0; c < C; ++c) scale[c] = std::pow(window[c], -beta);
  }
}

template <typename T, typename Acc>
__attribute__((always_inline)) inline void forward_pixels(const T* x, T* y, int64_t begin, int64_t end, const Params& p) {
  Scratch<Acc> s(p);
  const int64_t C = p.channels;
  for (int64_t pixel = begin; pixel < end; ++pixel) {
    divisors<T, Acc>(x + pixel * C, s, p);
    T* __restrict out = y + pixel * C;
    const Acc* __restrict value = s.value.data();
    const Acc* __restrict scale = s.scale.data();
    for (int64_t c = 0; c < C; ++c) store(value[c] * scale[c], out + c);
  }
}

// dL/da_i = g_i d_i^-beta - 2 alpha beta a_i * sum_{j near i} g_j a_j d_j^-beta / d_j
template <typename T, typename Acc>
__attribute__((always_inline)) inline void backward_pixels(const T* x, const T* grad, T* grad_x, int64_t begin, int64_t end, const Params& p) {
  Scratch<Acc> s(p);
  const int64_t C = p.channels;
  const Acc two_alpha_beta = 2 * p.alpha * p.beta;
  for (int64_t pixel = begin; pixel < end; ++pixel) {
    divisors<T, Acc>(x + pixel * C, s, p);
    const T* __restrict g = grad + pixel * C;
    const Acc* __restrict value = s.value.data();
    const Acc* __restrict scale = s.scale.data();
    Acc* __restrict window = s.window.data();
    Acc* __restrict terms = s.padded.data() + p.half;
    for (int64_t c = 0; c < C; ++c) terms[c] = load(g[c]) * value[c] * scale[c] / window[c];
    window_sums(s, C, p.half);
    T* __restrict out = grad_x + pixel * C;
    for (int64_t c = 0; c < C; ++c) store(load(g[c]) * scale[c] - two_alpha_beta * value[c] * window[c], out + c);
  }
}

// Splits the pixels into one contiguous block per thread.
template <typename Body>
void parallel_pixels(int64_t pixels, int threads, Body body) {
  const int64_t min_block = 64;
  int64_t workers = std::max<int64_t>(1, std::min<int64_t>(threads, pixels / min_block));
  if (workers == 1) {
    body(0, pixels);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t block = (pixels + workers - 1) / workers;
  for (int64_t w = 1; w < workers; ++w) {
    const int64_t begin = w * block, end = std::min(pixels, begin + block);
    if (begin < end) pool.emplace_back(body, begin, end);
  }
  body(0, std::min(pixels, block));
  for (auto& t : pool) t.join();
}

// Each worker is compiled once per instruction set; the loader picks the best the CPU has.
#define ALEXNET_WORKERS(T, Acc, name)                                                                  \
  __attribute__((target_clones("avx512f", "avx2", "default"))) void forward_##name(                    \
      const void* x, void* y, int64_t begin, int64_t end, const Params& p) {                           \
    forward_pixels<T, Acc>(static_cast<const T*>(x), static_cast<T*>(y), begin, end, p);               \
  }                                                                                                    \
  __attribute__((target_clones("avx512f", "avx2", "default"))) void backward_##name(                   \
      const void* x, const void* g, void* gx, int64_t begin, int64_t end, const Params& p) {           \
    backward_pixels<T, Acc>(static_cast<const T*>(x), static_cast<const T*>(g), static_cast<T*>(gx),   \
                            begin, end, p);                                                            \
  }

ALEXNET_WORKERS(float, float, f32)
ALEXNET_WORKERS(double, double, f64)
ALEXNET_WORKERS(uint16_t, float, bf16)

using Forward = void (*)(const void*, void*, int64_t, int64_t, const Params&);
using Backward = void (*)(const void*, const void*, void*, int64_t, int64_t, const Params&);

bool pick(int dtype, Forward* forward, Backward* backward) {
  switch (dtype) {
    case LRN_FLOAT32: *forward = forward_f32, *backward = backward_f32; return true;
    case LRN_FLOAT64: *forward = forward_f64, *backward = backward_f64; return true;
    case LRN_BFLOAT16: *forward = forward_bf16, *backward = backward_bf16; return true;
  }
  return false;
}

}  // namespace

extern "C" {

int alexnet_lrn_forward(int dtype, const void* x, void* y, int64_t pixels, int64_t channels, int size,
                        double alpha, double beta, double k, int threads) {
  Forward forward;
  Backward backward;
  if (size < 1 || size % 2 == 0 || channels < 1 || pixels < 0 || !pick(dtype, &forward, &backward))
    return LRN_BAD_ARGUMENT;
  const Params p{channels, size / 2, alpha, beta, k};
  parallel_pixels(pixels, threads, [&](int64_t begin, int64_t end) { forward(x, y, begin, end, p); });
  return LRN_OK;
}

int alexnet_lrn_backward(int dtype, const void* x, const void* grad, void* grad_x, int64_t pixels,
                         int64_t channels, int size, double alpha, double beta, double k, int threads) {
  Forward forward;
  Backward backward;
  if (size < 1 || size % 2 == 0 || channels < 1 || pixels < 0 || !pick(dtype, &forward, &backward))
    return LRN_BAD_ARGUMENT;
  const Params p{channels, size / 2, alpha, beta, k};
  parallel_pixels(pixels, threads, [&](int64_t begin, int64_t end) { backward(x, grad, grad_x, begin, end, p); });
  return LRN_OK;
}

}  // extern "C"
