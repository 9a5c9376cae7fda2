// Pre-tokenizers of byte-level BPE files: Split (all five behaviours, invert), Digits, ByteLevel and Sequence.
// Reference: HF tokenizers `pre_tokenizers::{split, digits, byte_level, sequence}` and `NormalizedString::split`.

/// A piece of text handed to the BPE model: a byte range of the (normalized) text, optionally preceded by a
/// space that ByteLevel's `add_prefix_space` put in front of it.
struct Piece: Equatable {
    var start: Int
    var end: Int
    var prefixSpace: Bool = false
    /// With `prefixSpace`: the end of the character the added space is aligned to (the first character of the
    /// text it was added to, as HF aligns a prepended character), for the offsets of a token made of it alone.
    var spaceEnd: Int = 0
}

/// How a `Split` treats the matches of its pattern.
enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// One stage of pre-tokenization.
enum PreTokenizerStage: Sendable, Equatable {
    case split(SplitPattern, SplitBehavior, invert: Bool)
    /// Numeric characters split off (Digits.swift): one per piece when `individual`, else as runs.
    case digits(individual: Bool)
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
}

/// The pre-tokenizer of a file, flattened into stages; the last one is always ByteLevel.
struct PreTokenizer: Sendable {
    let stages: [PreTokenizerStage]

    init(json: JSONFields?) throws {
        var stages: [PreTokenizerStage] = []
        if let json { try Self.collect(json, into: &stages) }
        guard case .byteLevel = stages.last else {
            throw TokenizerError.unsupported(
                field: json.map { $0.path } ?? "pre_tokenizer",
                value: "a byte-level BPE needs a ByteLevel pre-tokenizer as its last stage")
        }
        if stages.dropLast().contains(where: { if case .byteLevel = $0 { return true } else { return false } }) {
            throw TokenizerError.unsupported(field: json!.path, value: "ByteLevel before another pre-tokenizer")
        }
        self.stages = stages
    }

    private static func collect(_ json: JSONFields, into stages: inout [PreTokenizerStage]) throws {
        let type = try json.type()
        switch type {
        case "Sequence":
            for (i, item) in try json.array("pretokenizers").enumerated() {
                try collect(JSONFields(item, path: json.field("pretokenizers[\(i)]")), into: &stages)
            }
        case "ByteLevel":
            stages.append(.byteLevel(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                                     useRegex: try json.bool("use_regex", default: true)))
            _ = try json.bool("trim_offsets", default: true)
        case "Digits":
            stages.append(.digits(individual: try json.bool("individual_digits", default: false)))
        case "Split":
            let pattern = try json.object("pattern")
            let matcher: SplitPattern
            if let regex = pattern.object["Regex"] as? String {
                guard let m = SplitPattern(regex: regex) else {
                    throw TokenizerError.unsupported(
                        field: pattern.field("Regex"),
                        value: "regex \(regex) (implemented: BLOOM's \(SplitPattern.bloomSource) and GPT-2's \(SplitPattern.gpt2Source))")
                }
                matcher = m
            } else if let literal = pattern.object["String"] as? String {
                matcher = .literal(Array(literal.utf8))
            } else {
                throw TokenizerError.malformed(field: pattern.path, reason: "expected {\"Regex\": ...} or {\"String\": ...}")
            }
            let behaviorName = try json.string("behavior")
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(field: json.field("behavior"), value: behaviorName)
            }
            stages.append(.split(matcher, behavior, invert: try json.bool("invert", default: false)))
        default:
            throw TokenizerError.unsupported(field: json.field("type"), value: type)
        }
    }

    /// Cuts `piece` of `p` into the pieces handed to the model (appended to `out`).
    func run(_ p: UnsafeBufferPointer<UInt8>, _ piece: Piece, _ scratch: inout PreTokenizerScratch, _ out: inout [Piece]) {
        if stages.count == 1 {
            Self.apply(stages[0], p, piece, &scratch, &out)
            return
        }
        var current = [piece]
        var next: [Piece] = []
        for stage in stages {
            next.removeAll(keepingCapacity: true)
            for q in current { Self.apply(stage, p, q, &scratch, &next) }
            swap(&current, &next)
        }
        out.append(contentsOf: current)
    }

    private static func apply(_ stage: PreTokenizerStage, _ p: UnsafeBufferPointer<UInt8>, _ piece: Piece,
                              _ scratch: inout PreTokenizerScratch, _ out: inout [Piece]) {
        switch stage {
        case let .split(pattern, behavior, invert):
            scratch.matches.removeAll(keepingCapacity: true)
            pattern.matches(p, piece.start, piece.end, into: &scratch.matches)
            if behavior == .isolated && !invert {
                var prev = piece.start
                for m in scratch.matches {
                    if m.lowerBound > prev { out.append(Piece(start: prev, end: m.lowerBound)) }
                    out.append(Piece(start: m.lowerBound, end: m.upperBound))
                    prev = m.upperBound
                }
                if prev < piece.end { out.append(Piece(start: prev, end: piece.end)) }
            } else {
                split(piece, scratch.matches, behavior, invert, &out)
            }
        case let .digits(individual):
            scratch.matches.removeAll(keepingCapacity: true)
            Digits.matches(p, piece.start, piece.end, into: &scratch.matches)
            split(piece, scratch.matches, Digits.behavior(individual: individual), false, &out)
        case let .byteLevel(addPrefixSpace, useRegex):
            let prefix = addPrefixSpace && !piece.prefixSpace && (piece.start == piece.end || p[piece.start] != 0x20)
            let spaceEnd = prefix ? piece.start + utf8Length(lead: p[piece.start]) : piece.spaceEnd
            if !useRegex {
                out.append(Piece(start: piece.start, end: piece.end, prefixSpace: piece.prefixSpace || prefix, spaceEnd: spaceEnd))
            } else if !prefix {
                scratch.matches.removeAll(keepingCapacity: true)
                SplitPattern.gpt2.matches(p, piece.start, piece.end, into: &scratch.matches)
                for m in scratch.matches { out.append(Piece(start: m.lowerBound, end: m.upperBound)) }
            } else {
                // The regex sees the space: match on " " + piece, then map back (position 0 is the added space).
                scratch.spaced.removeAll(keepingCapacity: true)
                scratch.spaced.append(0x20)
                scratch.spaced.append(contentsOf: UnsafeBufferPointer(rebasing: p[piece.start..<piece.end]))
                scratch.matches.removeAll(keepingCapacity: true)
                scratch.spaced.withUnsafeBufferPointer { s in
                    SplitPattern.gpt2.matches(s, 0, s.count, into: &scratch.matches)
                }
                for m in scratch.matches {
                    if m.lowerBound == 0 {
                        out.append(Piece(start: piece.start, end: piece.start + m.upperBound - 1, prefixSpace: true, spaceEnd: spaceEnd))
                    } else {
                        out.append(Piece(start: piece.start + m.lowerBound - 1, end: piece.start + m.upperBound - 1))
                    }
                }
            }
        }
    }

    /// The general case of `NormalizedString::split`: the piece is cut into matches and gaps, which the
    /// behaviour then keeps, drops or merges; empty parts are dropped.
    private static func split(_ piece: Piece, _ matches: [Range<Int>], _ behavior: SplitBehavior, _ invert: Bool,
                              _ out: inout [Piece]) {
        var parts: [(Range<Int>, Bool)] = []
        var prev = piece.start
        for m in matches {
            if m.lowerBound > prev { parts.append((prev..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            prev = m.upperBound
        }
        if prev < piece.end || piece.start == piece.end { parts.append((prev..<piece.end, invert)) }
        var result: [Range<Int>] = []
        switch behavior {
        case .isolated:
            result = parts.map { $0.0 }
        case .removed:
            result = parts.filter { !$0.1 }.map { $0.0 }
        case .mergedWithPrevious:
            var previousMatch = false
            for (r, isMatch) in parts {
                if isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    result.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (r, isMatch) in parts.reversed() {
                if isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    result.append(r)
                }
                previousMatch = isMatch
            }
            result.reverse()
        case .contiguous:
            var previousMatch = false
            for (r, isMatch) in parts {
                if isMatch == previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    result.append(r)
                }
                previousMatch = isMatch
            }
        }
        for r in result where !r.isEmpty { out.append(Piece(start: r.lowerBound, end: r.upperBound)) }
    }
}

/// Reusable buffers for pre-tokenization (one per encoding thread).
struct PreTokenizerScratch {
    var matches: [Range<Int>] = []
    var spaced: [UInt8] = []
}
