// Unicode and white-space normalisation of record text: NFC, no control characters, tidy spaces.
import Foundation

public enum TextNormalizer {
    /// NFC; CR LF and CR become LF; control and invisible format characters go (LF, TAB, ZWJ and ZWNJ stay); Unicode
    /// space separators (NBSP, ideographic space, ...) become one plain space per run; spaces at the start and end of
    /// lines go; the whole text is trimmed.
    public static func normalize(_ s: String) -> String {
        let scalars = Array(s.precomposedStringWithCanonicalMapping.unicodeScalars)
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var i = 0
        while i < scalars.count {
            var c = scalars[i]
            i += 1
            if c == "\r" {
                c = "\n"
                if i < scalars.count && scalars[i] == "\n" { i += 1 }
            }
            if c == "\n" || c == "\t" {
                pendingSpace = false
                out.append(c)
                continue
            }
            let category = c.properties.generalCategory
            if category == .control || (category == .format && c.value != 0x200C && c.value != 0x200D) { continue }
            if category == .spaceSeparator { pendingSpace = true; continue }
            if pendingSpace, let last = out.last, last != "\n", last != "\t" { out.append(" ") }
            pendingSpace = false
            out.append(c)
        }
        return String(out).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the text holds a control character other than LF, CR and TAB.
    public static func hasControlCharacters(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" && $0 != "\r" }
    }
}
