#include "aws/xml_text.hpp"

#include <cstdint>

namespace pgmig::aws::xml {

namespace {

struct Tag {
    size_t begin = 0;  // the '<'
    size_t end = 0;    // just past the '>'
    std::string_view name;
    bool closing = false;
    bool self_closing = false;
};

bool ends_name(char c) {
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool starts_with(std::string_view s, size_t pos, std::string_view prefix) {
    return s.compare(pos, prefix.size(), prefix) == 0;
}

// Just past the '>' that closes the tag opened at `pos`, or npos. A '>' inside a quoted
// attribute value does not close it.
size_t tag_end(std::string_view xml, size_t pos) {
    char quote = 0;
    for (size_t i = pos + 1; i < xml.size(); ++i) {
        const char c = xml[i];
        if (quote != 0) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// The next element tag at or after `pos`; comments, processing instructions, CDATA sections
// and declarations are stepped over, because their contents may look like tags.
bool next_tag(std::string_view xml, size_t pos, Tag &tag) {
    for (;;) {
        const size_t lt = xml.find('<', pos);
        if (lt == std::string_view::npos) return false;
        size_t skip_to = std::string_view::npos;
        if (starts_with(xml, lt, "<!--")) {
            skip_to = xml.find("-->", lt + 4);
            if (skip_to != std::string_view::npos) skip_to += 3;
        } else if (starts_with(xml, lt, "<![CDATA[")) {
            skip_to = xml.find("]]>", lt + 9);
            if (skip_to != std::string_view::npos) skip_to += 3;
        } else if (starts_with(xml, lt, "<?")) {
            skip_to = xml.find("?>", lt + 2);
            if (skip_to != std::string_view::npos) skip_to += 2;
        } else if (starts_with(xml, lt, "<!")) {
            skip_to = xml.find('>', lt + 2);
            if (skip_to != std::string_view::npos) skip_to += 1;
        } else {
            const size_t end = tag_end(xml, lt);
            if (end == std::string_view::npos) return false;
            size_t name_begin = lt + 1;
            tag.closing = name_begin < xml.size() && xml[name_begin] == '/';
            if (tag.closing) ++name_begin;
            size_t name_end = name_begin;
            while (name_end < end - 1 && !ends_name(xml[name_end])) ++name_end;
            tag.begin = lt;
            tag.end = end;
            tag.name = xml.substr(name_begin, name_end - name_begin);
            tag.self_closing = !tag.closing && end >= 2 && xml[end - 2] == '/';
            return true;
        }
        if (skip_to == std::string_view::npos) return false;  // unterminated: nothing follows
        pos = skip_to;
    }
}

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The code point of "#38" or "#x26" (the part between '&' and ';'); false when it is not a
// character XML may hold.
bool parse_char_ref(std::string_view ref, uint32_t &cp) {
    if (ref.size() < 2 || ref[0] != '#') return false;
    const bool hex = ref[1] == 'x' || ref[1] == 'X';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return false;  // also keeps cp from overflowing
    uint32_t value = 0;
    for (char c : digits) {
        uint32_t d;
        if (c >= '0' && c <= '9') {
            d = static_cast<uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
            d = static_cast<uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
            d = static_cast<uint32_t>(c - 'A' + 10);
        } else {
            return false;
        }
        value = value * (hex ? 16 : 10) + d;
    }
    if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
    cp = value;
    return true;
}

}  // namespace

std::vector<std::string_view> elements(std::string_view xml, std::string_view name) {
    std::vector<std::string_view> out;
    Tag tag;
    size_t pos = 0;
    while (next_tag(xml, pos, tag)) {
        pos = tag.end;
        if (tag.closing || tag.name != name) continue;
        if (tag.self_closing) {
            out.emplace_back();
            continue;
        }
        // Count same-named elements inside it, so that <a><a/></a> closes at the right tag.
        int depth = 1;
        Tag inner;
        size_t p = tag.end;
        while (depth > 0) {
            if (!next_tag(xml, p, inner)) return out;  // never closed: not an element
            p = inner.end;
            if (inner.name != name || inner.self_closing) continue;
            depth += inner.closing ? -1 : 1;
        }
        out.push_back(xml.substr(tag.end, inner.begin - tag.end));
        pos = inner.end;
    }
    return out;
}

std::string_view root_name(std::string_view xml) {
    Tag tag;
    if (!next_tag(xml, 0, tag) || tag.closing) return {};
    return tag.name;
}

std::optional<std::string> first_text(std::string_view xml, std::string_view name) {
    const auto found = elements(xml, name);
    if (found.empty()) return std::nullopt;
    return decode_entities(found.front());
}

std::string decode_entities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t amp = text.find('&', pos);
        if (amp == std::string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        out.append(text.substr(pos, amp - pos));
        // References are short; a far-away ';' belongs to something else.
        const size_t semi = text.find(';', amp + 1);
        const std::string_view ref = semi == std::string_view::npos || semi - amp > 12
                                         ? std::string_view()
                                         : text.substr(amp + 1, semi - amp - 1);
        uint32_t cp = 0;
        if (ref == "amp") {
            out += '&';
        } else if (ref == "lt") {
            out += '<';
        } else if (ref == "gt") {
            out += '>';
        } else if (ref == "quot") {
            out += '"';
        } else if (ref == "apos") {
            out += '\'';
        } else if (parse_char_ref(ref, cp)) {
            append_utf8(out, cp);
        } else {
            out += '&';
            pos = amp + 1;
            continue;
        }
        pos = semi + 1;
    }
    return out;
}

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace pgmig::aws::xml
