// Cuts a passage into chunks of at most N tokens (UniversalNER chunks its passages to at most 256 tokens), each a
// substring of the passage, cut at white space where the window has any.
import EcomTokenizer
import Foundation

/// A chunk: its text and where it lies in the passage (UTF-8 byte offsets).
public struct PassageChunk: Sendable, Equatable {
    public var text: String
    public var utf8Range: Range<Int>
    public init(text: String, utf8Range: Range<Int>) { self.text = text; self.utf8Range = utf8Range }
}

/// Cuts texts into chunks of at most `maxTokens` tokens of a tokenizer.
///
/// The passage is encoded once with offsets. From the current start, the window of the next `maxTokens` tokens is
/// cut before the last token in it that begins at white space (byte-level BPE tokens carry their leading space), or
/// after the window's last token when none does (one long word); cuts are moved back to a character boundary. Each
/// chunk is trimmed of surrounding white space and re-encoded on its own: a chunk whose tokens, counted alone,
/// exceed the limit (tokens can merge differently without their context) is shortened until it fits. So every chunk
/// has at most `maxTokens` tokens, is a substring of the passage, and the chunks in order hold every non-space
/// character of the passage exactly once.
public struct PassageChunker: Sendable {
    public let tokenizer: Tokenizer
    public let maxTokens: Int

    public init(tokenizer: Tokenizer, maxTokens: Int = 256) {
        precondition(maxTokens >= 1, "maxTokens must be at least 1")
        self.tokenizer = tokenizer; self.maxTokens = maxTokens
    }

    /// The chunks of `text` in order (none for a text of white space only).
    public func chunks(_ text: String) -> [PassageChunk] {
        let bytes = Array(text.utf8)
        let enc = tokenizer.encodeWithOffsets(text)
        let starts = enc.offsets.map(\.lowerBound)
        var out: [PassageChunk] = []
        var begin = 0  // byte where the next chunk starts
        while true {
            guard let from = trimmedStart(bytes, begin) else { break }
            // The first token that reaches past `from`.
            let first = enc.offsets.firstIndex { $0.upperBound > from } ?? enc.offsets.count
            var window = maxTokens
            var cut = cutPoint(bytes, starts: starts, first: first, window: window, from: from)
            while true {
                let range = trimmed(bytes, from..<cut)
                let piece = String(decoding: bytes[range], as: UTF8.self)
                let count = tokenizer.encode(piece).count
                // A single character is never split (with a limit below its byte tokens it is a chunk of its own).
                if count <= maxTokens || range.count <= characterLength(bytes[from]) {
                    out.append(PassageChunk(text: piece, utf8Range: range))
                    begin = cut
                    break
                }
                if window > 1 {
                    // Too long alone: shrink the window by the excess (at least one token) and cut again.
                    window = max(1, window - max(1, count - maxTokens))
                    cut = cutPoint(bytes, starts: starts, first: first, window: window, from: from)
                } else {
                    // One token is too long alone: give up its last character.
                    var c = cut - 1
                    while c > from + 1, bytes[c] & 0xC0 == 0x80 { c -= 1 }
                    cut = max(c, from + characterLength(bytes[from]))
                }
            }
            if begin >= bytes.count { break }
        }
        return out
    }

    /// The byte where a chunk starting at `from` (inside token `first`) ends, for a window of `window` tokens.
    private func cutPoint(_ bytes: [UInt8], starts: [Int], first: Int, window: Int, from: Int) -> Int {
        let limit = first + window  // the first token that does not fit
        if limit >= starts.count { return bytes.count }
        // The last token in (first, limit] that begins at white space (or right after it).
        var j = limit
        while j > first + 1 {
            let s = starts[j]
            if s > from, isSpace(bytes[s]) || isSpace(bytes[s - 1]) { break }
            j -= 1
        }
        var cut = j > first + 1 ? starts[j] : starts[limit]
        if cut <= from { cut = starts[limit] }
        // A character boundary: not inside a UTF-8 sequence (byte-level tokens may split a character).
        var c = cut
        while c > from, c < bytes.count, bytes[c] & 0xC0 == 0x80 { c -= 1 }
        if c <= from {
            c = cut
            while c < bytes.count, bytes[c] & 0xC0 == 0x80 { c += 1 }
        }
        return max(c, from + 1)
    }

    /// The length of the UTF-8 sequence a lead byte starts.
    private func characterLength(_ lead: UInt8) -> Int { lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4 }

    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    private func trimmedStart(_ bytes: [UInt8], _ from: Int) -> Int? {
        var i = from
        while i < bytes.count, isSpace(bytes[i]) || isUnicodeSpace(bytes, i) { i += spaceLength(bytes, i) }
        return i < bytes.count ? i : nil
    }

    /// `r` without leading and trailing white space (ASCII, and U+3000 / U+00A0 which passages in Chinese use).
    private func trimmed(_ bytes: [UInt8], _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi, isSpace(bytes[lo]) || isUnicodeSpace(bytes, lo) { lo += spaceLength(bytes, lo) }
        while hi > lo {
            if isSpace(bytes[hi - 1]) { hi -= 1; continue }
            if hi - 3 >= lo, isUnicodeSpace(bytes, hi - 3), spaceLength(bytes, hi - 3) == 3 { hi -= 3; continue }
            if hi - 2 >= lo, isUnicodeSpace(bytes, hi - 2), spaceLength(bytes, hi - 2) == 2 { hi -= 2; continue }
            break
        }
        return lo..<min(max(lo, hi), r.upperBound)
    }

    /// U+00A0 (C2 A0) or U+3000 (E3 80 80) at byte i.
    private func isUnicodeSpace(_ bytes: [UInt8], _ i: Int) -> Bool {
        if i + 1 < bytes.count, bytes[i] == 0xC2, bytes[i + 1] == 0xA0 { return true }
        if i + 2 < bytes.count, bytes[i] == 0xE3, bytes[i + 1] == 0x80, bytes[i + 2] == 0x80 { return true }
        return false
    }

    private func spaceLength(_ bytes: [UInt8], _ i: Int) -> Int {
        if isSpace(bytes[i]) { return 1 }
        return bytes[i] == 0xC2 ? 2 : 3
    }
}
