// Streaming text out of token ids: each new token's text is the decoded whole minus what was already sent, holding
// back an incomplete UTF-8 character (decoded as U+FFFD until its last byte arrives) and any ending that could still
// grow into a stop string, so that a streamed answer is exactly the non-streamed one, cut where it stops.
import EcomModel

/// The text deltas of one generated sequence.
public struct TextStream: Sendable {
    private let decode: @Sendable ([Int32]) -> String
    private let stop: [String]
    private var ids: [Int32] = []
    /// Characters already sent.
    private var sent = 0

    /// `decode` turns generated ids into text (special tokens skipped); `stop` are the request's stop strings.
    public init(stop: [String], decode: @escaping @Sendable ([Int32]) -> String) {
        self.stop = stop.filter { !$0.isEmpty }
        self.decode = decode
    }

    /// The text so far, cut before the earliest stop string.
    public var text: String { Self.cut(decode(ids), at: stop) }

    /// Adds a token; returns the text that can be sent now (possibly empty).
    public mutating func append(_ token: Int32) -> String {
        ids.append(token)
        var whole = decode(ids)
        if let cut = Self.stopIndex(whole, stop) { whole = String(whole[..<cut]) } else {
            // Hold back a trailing replacement character (an unfinished UTF-8 sequence) and a possible stop prefix.
            while whole.last == "\u{FFFD}" { whole.removeLast() }
            let hold = stop.map { Self.longestSuffixPrefix(of: whole, in: $0) }.max() ?? 0
            whole = String(whole.dropLast(hold))
        }
        return take(whole)
    }

    /// What is left to send when the sequence has ended (the held-back text, cut at a stop string).
    public mutating func finish() -> String { take(text) }

    private mutating func take(_ whole: String) -> String {
        guard whole.count > sent else { return "" }
        let delta = String(whole.dropFirst(sent))
        sent = whole.count
        return delta
    }

    /// `text` cut before the earliest of `stop`.
    public static func cut(_ text: String, at stop: [String]) -> String {
        guard let i = stopIndex(text, stop) else { return text }
        return String(text[..<i])
    }

    static func stopIndex(_ text: String, _ stop: [String]) -> String.Index? {
        stop.compactMap { text.range(of: $0)?.lowerBound }.min()
    }

    /// Length of the longest suffix of `text` that is a proper prefix of `s`.
    static func longestSuffixPrefix(of text: String, in s: String) -> Int {
        var n = min(text.count, s.count - 1)
        while n > 0 {
            if text.hasSuffix(s.prefix(n)) { return n }
            n -= 1
        }
        return 0
    }
}
