#pragma once
// For test suites that look inside LibTorch modules: thor's torch-side
// internals, then doctest. LibTorch brings glog, whose CHECK macros would
// shadow doctest's, so they are undefined in between.
#include "thor/detail/torch_model.hpp"
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LE
#undef CHECK_LT
#undef CHECK_GE
#undef CHECK_GT
#include <doctest/doctest.h>
