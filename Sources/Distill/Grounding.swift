// From a parsed answer to the labels of one chunk: types normalised, entities found in the chunk (exactly, or ignoring
// case), duplicates merged, and every dropped pair counted by its reason.
import Foundation

/// Counts of what was dropped, by reason (summary.json's `drops`).
public struct DropCounts: Codable, Sendable, Equatable {
    /// Elements of an answer that were not two strings.
    public var malformedTuples = 0
    /// A last element cut off (the teacher's `max_tokens` ran out).
    public var truncatedTuples = 0
    /// Pairs whose entity or type is empty after normalisation.
    public var emptyFields = 0
    /// Pairs whose entity is not in the chunk, even ignoring case.
    public var notInPassage = 0
    /// Pairs repeated within one answer (same entity text and type), merged into one.
    public var duplicates = 0
    /// Answers with no list and no tuple at all (prose): no record is made from them.
    public var unparseableAnswers = 0
    /// Chunks that give no record: an unparseable answer, or pairs all dropped (an answer of `[]` still gives a record
    /// of negative types when negatives are asked for).
    public var chunksWithoutRecords = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case malformedTuples = "malformed_tuples", truncatedTuples = "truncated_tuples", emptyFields = "empty_fields"
        case notInPassage = "not_in_passage", duplicates, unparseableAnswers = "unparseable_answers"
        case chunksWithoutRecords = "chunks_without_records"
    }

    public static func + (a: DropCounts, b: DropCounts) -> DropCounts {
        var c = a
        c.malformedTuples += b.malformedTuples; c.truncatedTuples += b.truncatedTuples; c.emptyFields += b.emptyFields
        c.notInPassage += b.notInPassage; c.duplicates += b.duplicates; c.unparseableAnswers += b.unparseableAnswers
        c.chunksWithoutRecords += b.chunksWithoutRecords
        return c
    }
}

/// The labels of one chunk.
public struct ChunkLabels: Sendable, Equatable {
    /// Entity types with at least one kept entity, in order of their first entity's position in the chunk.
    public var types: [String] = []
    /// For each type, its entities as they appear in the chunk, in order of first occurrence, without duplicates.
    public var entities: [[String]] = []
    /// Every normalised type the teacher named for the chunk, kept or not (never sampled as a negative).
    public var namedTypes: Set<String> = []
    /// Whether the answer held a list (an empty list too).
    public var parsed = false
    /// Entities found only by ignoring case (kept with the chunk's own spelling).
    public var caseRepaired = 0
    public var drops = DropCounts()

    public init() {}

    /// Kept (entity, type) pairs.
    public var entityCount: Int { entities.reduce(0) { $0 + $1.count } }
}

public enum EntityGrounding {
    /// A type as records use it: underscores read as spaces, white space trimmed and collapsed, surrounding quotes,
    /// brackets and punctuation (`"'`‘’“”()[]{}<>.,;:!?*`) stripped, lower case. "Programming_Language." →
    /// "programming language"; "  'Person' " → "person". Inner punctuation stays ("u.s. state", "c++ library").
    public static func normalizeType(_ type: String) -> String {
        let strip = CharacterSet(charactersIn: "\"'`\u{2018}\u{2019}\u{201C}\u{201D}()[]{}<>.,;:!?*").union(.whitespacesAndNewlines)
        let spaced = type.replacingOccurrences(of: "_", with: " ").trimmingCharacters(in: strip)
        return spaced.split(whereSeparator: \.isWhitespace).joined(separator: " ").lowercased()
    }

    /// Where an entity is in the chunk: the chunk's own text of it and its position (in characters). Tried in order:
    /// the entity trimmed of white space as written; the same ignoring case; then with surrounding quotes and
    /// sentence punctuation stripped (`"Apple."` → `Apple`), as written and ignoring case. Nil when none is found.
    public static func locate(_ entity: String, in chunk: String) -> (text: String, position: Int, caseRepaired: Bool)? {
        let trimmed = entity.trimmingCharacters(in: .whitespacesAndNewlines)
        let strip = CharacterSet(charactersIn: "\"'`\u{2018}\u{2019}\u{201C}\u{201D}.,;:!?").union(.whitespacesAndNewlines)
        let stripped = trimmed.trimmingCharacters(in: strip)
        for candidate in [trimmed, stripped] where !candidate.isEmpty {
            if let r = chunk.range(of: candidate) {
                return (String(chunk[r]), chunk.distance(from: chunk.startIndex, to: r.lowerBound), false)
            }
            if let r = chunk.range(of: candidate, options: .caseInsensitive) {
                return (String(chunk[r]), chunk.distance(from: chunk.startIndex, to: r.lowerBound), true)
            }
        }
        return nil
    }

    /// The labels of a chunk from the teacher's answer.
    public static func labels(answer: String, chunk: String) -> ChunkLabels {
        let parsed = TeacherAnswerParser.parse(answer)
        var out = ChunkLabels()
        out.parsed = parsed.foundList
        out.drops.malformedTuples = parsed.malformed
        out.drops.truncatedTuples = parsed.truncated
        if !parsed.foundList { out.drops.unparseableAnswers = 1 }
        struct Kept { var type: String; var text: String; var position: Int }
        var kept: [Kept] = []
        var seen = Set<String>()
        for p in parsed.pairs {
            let type = normalizeType(p.type)
            if !type.isEmpty { out.namedTypes.insert(type) }
            guard !type.isEmpty, !p.entity.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                out.drops.emptyFields += 1
                continue
            }
            guard let found = locate(p.entity, in: chunk) else { out.drops.notInPassage += 1; continue }
            guard seen.insert(type + "\u{0}" + found.text).inserted else { out.drops.duplicates += 1; continue }
            if found.caseRepaired { out.caseRepaired += 1 }
            kept.append(Kept(type: type, text: found.text, position: found.position))
        }
        // Types in order of their first entity's position; entities of a type in order of position (ties: answer order).
        let ordered = kept.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }.map(\.element)
        var index: [String: Int] = [:]
        for k in ordered {
            if let t = index[k.type] {
                out.entities[t].append(k.text)
            } else {
                index[k.type] = out.types.count
                out.types.append(k.type)
                out.entities.append([k.text])
            }
        }
        return out
    }
}
