// Sequential<T>, Keras's Sequential: see model/sequential.hpp. This header also brings
// Sequential::load and from_checkpoint (io/model_file.hpp), as it always has.
#pragma once

#include "minicnn/io/model_file.hpp"
#include "minicnn/model/sequential.hpp"
