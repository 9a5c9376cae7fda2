// Per-task budgets of new tokens from the lengths of each task's reference answers (`--max-new-tokens auto`): a task
// whose answers are a label gets a few tokens, one whose answers are a 26-line attribute table gets hundreds. Task-level
// output lengths are how benchmark suites set generation limits (HELM's per-scenario max_tokens, lm-evaluation-harness's
// per-task max_gen_toks); here they are computed from the task's file, the same for every model evaluated on it.
import EcomTokenizer
import Foundation

public enum AnswerBudget {
    /// The smallest budget: room for a short label and the end-of-turn token.
    public static let minimum = 8
    /// The largest budget (a task with longer answers is cut here).
    public static let maximum = 512

    /// New tokens at most for a task whose reference answers are `lengths` tokens long: 1.25 × their 95th percentile
    /// (nearest rank) plus 8 (the end-of-turn token and a margin), within ``minimum`` ... ``maximum``; ``minimum`` for
    /// a task without answers. The percentile keeps one outlier from making the rest of the task (and every model that
    /// rambles to its limit) generate hundreds of tokens.
    public static func tokens(forAnswerLengths lengths: [Int]) -> Int {
        guard !lengths.isEmpty else { return minimum }
        let sorted = lengths.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up))  // nearest rank, 1-based
        let p95 = sorted[max(1, rank) - 1]
        let budget = (Double(p95) * 1.25).rounded(.up) + 8
        return min(maximum, max(minimum, Int(budget)))
    }

    /// The budget for a task's reference answers in `tokenizer`'s tokens (no special tokens added).
    public static func tokens(forAnswers answers: [String], tokenizer: Tokenizer) -> Int {
        tokens(forAnswerLengths: answers.map { tokenizer.encode($0, addSpecialTokens: false).count })
    }
}
