#pragma once

#include <cstdint>
#include <vector>

#include "distill/data/dataset.h"

// Turning one 8-bit image into a normalised float HWC sample at the batch's resolution:
// choose a crop window (random or central), then resample it to resolution x resolution,
// mirror it and normalise it in one pass. Randomness is a pure function of (seed, epoch,
// sample), so a resumed run, or a run with more loader threads, sees the same pixels.
namespace ofa {

enum class CropMode : std::uint8_t {
  padded,          // small images (OFA / torchvision RandomCrop(padding)): the image-sized window
                   // moves up to `padding` pixels in each direction, the border reads as zero
  random_resized,  // folders (RandomResizedCrop): a random area fraction and aspect ratio
  center,          // evaluation: the central square, `center_fraction` of the shorter side
};

struct Augmentation {
  CropMode crop = CropMode::center;
  std::int64_t padding = 4;
  bool flip = false;  // mirror left-right with probability 1/2
  float min_scale = 0.08f;
  float max_scale = 1.0f;
  float min_ratio = 3.0f / 4.0f;
  float max_ratio = 4.0f / 3.0f;
  float center_fraction = 1.0f;  // 0.875 for ImageNet-style evaluation (resize 256, crop 224)
};

// Per-channel mean and standard deviation of pixel / 255: out = (pixel / 255 - mean) / stddev.
struct Normalization {
  std::vector<float> mean;
  std::vector<float> stddev;
};

// Which draws a sample uses: the same key always gives the same crop and flip.
struct AugmentationKey {
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;
  std::int64_t sample = 0;  // the image's index in its dataset, not its position in a batch
};

// A window in source pixels (in padded mode it may extend past the image), mirrored or not.
struct CropWindow {
  std::int64_t top = 0;
  std::int64_t left = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  bool flip = false;
};

// Throws ofa::Error naming the field unless the options are usable (scales in (0, 1], ratios
// positive and ordered, padding non-negative, centre fraction in (0, 1]).
void check_augmentation(const Augmentation& augmentation);
// Throws unless there is a mean and a positive stddev for each of `channels`.
void check_normalization(const Normalization& normalization, std::int64_t channels);

CropWindow choose_crop(const Augmentation& augmentation, std::int64_t height, std::int64_t width,
                       const AugmentationKey& key);

// Resamples `window` to resolution x resolution x C floats at `out` with PIL's bilinear filter:
// a triangle widened by the shrink factor, so shrinking averages instead of aliasing, enlarging
// is PyTorch's align_corners=False bilinear, and an unscaled window is copied exactly. Pixels
// outside the image count as zero, as torchvision's zero padding does.
void crop_resize_normalize(const ImageView& image, const CropWindow& window, std::int64_t resolution,
                           const Normalization& normalization, float* out);

// choose_crop, then crop_resize_normalize.
void augment_image(const ImageView& image, const Augmentation& augmentation, const Normalization& normalization,
                   std::int64_t resolution, const AugmentationKey& key, float* out);

}  // namespace ofa
