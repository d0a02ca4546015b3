#pragma once
// The text of an HTML page for indexing: tags dropped (script, style and head content
// with them), block elements (p, div, br, li, h1-h6, tr...) turned into line breaks so the
// chunker sees paragraphs, and character references (&amp; &#233; &#x2014;) decoded.
#include <string>
#include <string_view>

namespace lmx {

std::string html_to_text(std::string_view html);

}  // namespace lmx
