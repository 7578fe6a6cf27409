#pragma once

// OFA_EMU_ASAN: whether AddressSanitizer instruments this translation unit. It decides how
// static __shared__ arrays are stored (see keywords.h) and that fiber switches are announced
// to ASan (see sanitizer_fiber.h).
#if defined(__SANITIZE_ADDRESS__)
#define OFA_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OFA_EMU_ASAN 1
#endif
#endif
#ifndef OFA_EMU_ASAN
#define OFA_EMU_ASAN 0
#endif
