// Decodes a JPEG straight to the paper's preprocessing: shorter side to `size`, then the
// central size x size crop, as interleaved RGB bytes. Matches data/decode.py's PIL path.
#ifndef ALEXNET_DATA_JPEG_CROP_H_
#define ALEXNET_DATA_JPEG_CROP_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Return codes.
enum {
  JPEG_CROP_OK = 0,
  JPEG_CROP_CORRUPT = 1,      // not a JPEG, truncated or damaged: `error` says why
  JPEG_CROP_UNSUPPORTED = 2,  // readable but not handled here (CMYK, EXIF rotation): use PIL
};

// Writes size*size*3 bytes to `out`. On failure writes a message of at most
// `error_len` bytes to `error`.
int jpeg_crop(const unsigned char* jpeg, size_t jpeg_len, int size, unsigned char* out,
              char* error, size_t error_len);

#ifdef __cplusplus
}
#endif

#endif  // ALEXNET_DATA_JPEG_CROP_H_
