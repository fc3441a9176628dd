// The one compilation of the float classes that float_instances.hpp declares `extern template`
// in the project's programs: every member, the vtables, and the listed function templates.
#include "float_instances.hpp"

#define MINICNN_INSTANTIATE_CLASS(...) template class __VA_ARGS__;
#define MINICNN_INSTANTIATE_FUNCTION(...) template __VA_ARGS__;
namespace minicnn {
MINICNN_FLOAT_CLASSES(MINICNN_INSTANTIATE_CLASS)
MINICNN_FLOAT_FUNCTIONS(MINICNN_INSTANTIATE_FUNCTION)
}  // namespace minicnn
