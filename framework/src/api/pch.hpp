// The LibTorch headers every torch-using target needs, precompiled once (DESIGN §10:
// torch/torch.h costs ~10-17 s per translation unit; these narrow headers ~5 s, once).
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
