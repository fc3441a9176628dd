// The umbrella header: everything minicnn offers.
#pragma once

#include "minicnn/error.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/tensor.hpp"
