// Just enough XML for S3 responses: find an element by name and read its text. S3's answers
// are flat, machine-written documents, so a full parser would buy nothing but a dependency.
// Unknown or broken markup never throws: a missing or unterminated element is simply absent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::aws::xml {

// The raw content (markup kept, entities not decoded) of every top-level <name> element in
// `xml`, in document order. Matches whole names only (<Key> is not <KeyCount>), skips
// comments and processing instructions, and reads <name/> as empty.
std::vector<std::string_view> elements(std::string_view xml, std::string_view name);

// The name of the document's root element ("Error" for an S3 error document), or an empty
// view when there is none.
std::string_view root_name(std::string_view xml);

// The decoded text of the first <name> element, or nullopt when there is none.
std::optional<std::string> first_text(std::string_view xml, std::string_view name);

// Replaces the five predefined entities and numeric character references (&#38; &#x26;) with
// the characters they stand for; anything that is not a valid reference is kept as written.
std::string decode_entities(std::string_view text);

// Text safe to place between tags: & < > " ' become entities.
std::string escape(std::string_view text);

}  // namespace pgmig::aws::xml
