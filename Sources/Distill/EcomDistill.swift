// EcomDistill: UniversalNER's targeted distillation (Zhou et al. 2023, "UniversalNER: Targeted Distillation from Large
// Language Models for Open Named Entity Recognition", Section 2 and its data-construction prompt): passages are cut
// into chunks of at most 256 tokens, a teacher model behind an OpenAI-compatible endpoint answers the prompt for each
// chunk, the answers are parsed into (entity, type) pairs grounded in the chunk, and the pairs become `.uniner`
// conversation records (one question per entity type, plus sampled negative types answered `[]`) stored as
// EcomInstruct record shards that `ecom-data pack` and `ecom-train` take.
//
// Pipeline (one file each): `DistillPassages` (JSON Lines in) → `PassageChunker` → `DistillPrompt` → `TeacherCache`
// + `OpenAIClient` (answers, cached and resumable) → `TeacherAnswerParser` → `EntityGrounding` → `DistilledRecords`
// → `Distiller` (the run: concurrency, progress, shards, summary.json).
import Foundation

/// An error of a distillation run, naming the file and place, or the endpoint, at fault.
public struct DistillError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
