// jpeg_crop IN.jpg OUT.ppm [SIZE]: the paper's preprocessing (shorter side to SIZE, default
// 256, central crop) of one JPEG, written as a binary PPM.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "data/jpeg_crop.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s IN.jpg OUT.ppm [SIZE]\n", argv[0]);
    return 2;
  }
  const int size = argc == 4 ? std::atoi(argv[3]) : 256;
  if (size < 1 || size > 4096) {
    std::fprintf(stderr, "jpeg_crop: SIZE must be between 1 and 4096, got %s\n", argv[3]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "jpeg_crop: cannot read %s\n", argv[1]);
    return 1;
  }
  const std::vector<unsigned char> jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<unsigned char> rgb(static_cast<size_t>(size) * size * 3);
  char error[256] = "";
  if (jpeg_crop(jpeg.data(), jpeg.size(), size, rgb.data(), error, sizeof error) != JPEG_CROP_OK) {
    std::fprintf(stderr, "jpeg_crop: %s: %s\n", argv[1], error);
    return 1;
  }
  std::FILE* out = std::fopen(argv[2], "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "jpeg_crop: cannot write %s\n", argv[2]);
    return 1;
  }
  std::fprintf(out, "P6\n%d %d\n255\n", size, size);
  const bool written = std::fwrite(rgb.data(), 1, rgb.size(), out) == rgb.size();
  return std::fclose(out) == 0 && written ? 0 : 1;
}
