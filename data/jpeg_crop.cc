// libjpeg-turbo decode with DCT-domain downscaling, then PIL's antialiased bilinear
// resize evaluated only for the pixels of the central crop.
#include "data/jpeg_crop.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// libjpeg only warns about truncated or corrupt data and fills in grey; PIL refuses
// such files, and so do we, so a bad file never becomes a silent grey image.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0) OnError(cinfo);
}

unsigned Read16(const unsigned char* p, bool big_endian) {
  return big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0];
}

unsigned Read32(const unsigned char* p, bool big_endian) {
  return big_endian ? (Read16(p, true) << 16) | Read16(p + 2, true)
                    : (Read16(p + 2, false) << 16) | Read16(p, false);
}

// The EXIF orientation tag of an APP1 segment, 1 (upright) when absent.
int ExifOrientation(const jpeg_saved_marker_ptr marker) {
  for (auto m = marker; m != nullptr; m = m->next) {
    const unsigned char* d = m->data;
    const unsigned len = m->data_length;
    if (m->marker != JPEG_APP0 + 1 || len < 14 || std::memcmp(d, "Exif\0\0", 6) != 0) continue;
    const unsigned char* tiff = d + 6;
    const unsigned tiff_len = len - 6;
    const bool big = tiff[0] == 'M';
    const unsigned ifd = Read32(tiff + 4, big);
    if (ifd + 2 > tiff_len) return 1;
    const unsigned entries = Read16(tiff + ifd, big);
    for (unsigned i = 0; i < entries; ++i) {
      const unsigned at = ifd + 2 + 12 * i;
      if (at + 12 > tiff_len) return 1;
      if (Read16(tiff + at, big) == 0x0112) return static_cast<int>(Read16(tiff + at + 8, big));
    }
  }
  return 1;
}

// PIL's resampling weights (ImagingResampleHorizontal/Vertical with the bilinear filter)
// for output pixels [first, first + count) of a resize from in_size to out_size.
struct Taps {
  std::vector<int> start, length;
  std::vector<float> weights;  // `max_taps` per output pixel
  int max_taps;
};

Taps ResampleTaps(int in_size, int out_size, int first, int count) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle filter's support is 1
  Taps taps;
  taps.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.weights.assign(static_cast<size_t>(count) * taps.max_taps, 0.f);
  for (int i = 0; i < count; ++i) {
    const double center = (first + i + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    double total = 0;
    std::vector<double> w(hi - lo);
    for (int x = lo; x < hi; ++x) {
      const double t = std::abs((x - center + 0.5) / filter_scale);
      w[x - lo] = t < 1.0 ? 1.0 - t : 0.0;
      total += w[x - lo];
    }
    taps.start.push_back(lo);
    taps.length.push_back(hi - lo);
    for (int k = 0; k < hi - lo; ++k) {
      taps.weights[static_cast<size_t>(i) * taps.max_taps + k] = static_cast<float>(total > 0 ? w[k] / total : 0);
    }
  }
  return taps;
}

unsigned char Clip(float v) { return static_cast<unsigned char>(std::min(255.f, std::max(0.f, v + 0.5f))); }

}  // namespace

extern "C" int jpeg_crop(const unsigned char* jpeg, size_t jpeg_len, int size, unsigned char* out,
                         char* error, size_t error_len) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnError;
  err.pub.emit_message = OnMessage;
  std::vector<unsigned char> decoded;
  if (setjmp(err.jump)) {
    std::snprintf(error, error_len, "%s", err.message);
    jpeg_destroy_decompress(&cinfo);
    return JPEG_CROP_CORRUPT;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, jpeg, static_cast<unsigned long>(jpeg_len));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  const int orientation = ExifOrientation(cinfo.marker_list);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK || orientation != 1) {
    std::snprintf(error, error_len, "CMYK or EXIF-rotated JPEG (orientation %d)", orientation);
    jpeg_destroy_decompress(&cinfo);
    return JPEG_CROP_UNSUPPORTED;
  }
  const int width = static_cast<int>(cinfo.image_width), height = static_cast<int>(cinfo.image_height);
  // The smallest of 1/8, 2/8, 4/8 and 8/8 whose decoded shorter side still covers `size`.
  // Only these scalings have SIMD inverse DCTs in libjpeg-turbo; the others (7/8, 5/8, ...)
  // measured both slower than a full decode and further from PIL's pixels (docs/BENCHMARKS.md).
  int n = 1;
  while (n < 8 && (std::min(width, height) * n + 7) / 8 < size) n *= 2;
  cinfo.scale_num = n;
  cinfo.scale_denom = 8;
  cinfo.out_color_space = JCS_RGB;
  jpeg_calc_output_dimensions(&cinfo);
  const int in_w = static_cast<int>(cinfo.output_width), in_h = static_cast<int>(cinfo.output_height);

  // The geometry PIL's path uses, from the original size; then only the central crop.
  const double scale = static_cast<double>(size) / std::min(width, height);
  const int out_w = std::max(size, static_cast<int>(std::lround(width * scale)));
  const int out_h = std::max(size, static_cast<int>(std::lround(height * scale)));
  Taps cols = ResampleTaps(in_w, out_w, (out_w - size) / 2, size);
  Taps rows = ResampleTaps(in_h, out_h, (out_h - size) / 2, size);

  // Decode only the columns and rows those taps read: libjpeg-turbo skips the rest
  // (columns to the nearest iMCU boundary).
  jpeg_start_decompress(&cinfo);
  JDIMENSION x0 = cols.start.front(), crop_w = cols.start.back() + cols.length.back() - x0;
  jpeg_crop_scanline(&cinfo, &x0, &crop_w);
  const int first_row = rows.start.front(), end_row = rows.start.back() + rows.length.back();
  if (first_row > 0) jpeg_skip_scanlines(&cinfo, first_row);
  for (int& start : cols.start) start -= static_cast<int>(x0);
  for (int& start : rows.start) start -= first_row;
  const int dec_w = static_cast<int>(cinfo.output_width);
  decoded.resize(static_cast<size_t>(dec_w) * (end_row - first_row) * 3);
  while (static_cast<int>(cinfo.output_scanline) < end_row) {
    JSAMPROW row = decoded.data() + static_cast<size_t>(cinfo.output_scanline - first_row) * dec_w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_abort_decompress(&cinfo);  // the rows below the crop are never decoded
  jpeg_destroy_decompress(&cinfo);

  // Vertical pass over the source rows the crop needs, then the horizontal pass.
  std::vector<float> column_pass(static_cast<size_t>(size) * dec_w * 3);
  for (int y = 0; y < size; ++y) {
    float* dst = column_pass.data() + static_cast<size_t>(y) * dec_w * 3;
    const float* w = rows.weights.data() + static_cast<size_t>(y) * rows.max_taps;
    for (int k = 0; k < rows.length[y]; ++k) {
      const unsigned char* src = decoded.data() + static_cast<size_t>(rows.start[y] + k) * dec_w * 3;
      for (int x = 0; x < dec_w * 3; ++x) dst[x] += w[k] * src[x];
    }
  }
  for (int y = 0; y < size; ++y) {
    const float* src = column_pass.data() + static_cast<size_t>(y) * dec_w * 3;
    unsigned char* dst = out + static_cast<size_t>(y) * size * 3;
    for (int x = 0; x < size; ++x) {
      const float* w = cols.weights.data() + static_cast<size_t>(x) * cols.max_taps;
      float r = 0, g = 0, b = 0;
      for (int k = 0; k < cols.length[x]; ++k) {
        const float* p = src + (cols.start[x] + k) * 3;
        r += w[k] * p[0];
        g += w[k] * p[1];
        b += w[k] * p[2];
      }
      dst[3 * x] = Clip(r);
      dst[3 * x + 1] = Clip(g);
      dst[3 * x + 2] = Clip(b);
    }
  }
  return JPEG_CROP_OK;
}
