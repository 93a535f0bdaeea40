// Small helpers shared by the hints sources. Not installed. The text helpers are the base
// layer's (objstore/src/common/text.hpp), so every hint grammar trims and quotes alike.
#pragma once

#include "common/text.hpp"

namespace edaos::hints::detail {

using text::is_blank;
using text::is_quoted;
using text::printable;
using text::trim;

}  // namespace edaos::hints::detail
