// UniversalNER's data-construction prompt (Zhou et al. 2023, Section 2.1 and the project page's "Data Construction
// Prompt"): a system message and one user turn asking for every entity with its type as a list of tuples.
import EcomInstruct
import EcomOpenAI
import Foundation

public enum DistillPrompt {
    /// The system message.
    public static let system = "You are a helpful information extraction system."

    /// The instruction before the passage.
    public static let instruction = "Given a passage, your task is to extract all entities and identify their entity types. "
        + "The output should be in a list of tuples of the following format: [(\"entity 1\", \"type of entity 1\"), ... ]."

    /// The user turn for one passage.
    public static func user(passage: String) -> String { instruction + "\nPassage: " + passage }

    /// The chat messages sent to the teacher.
    public static func messages(passage: String) -> [OpenAI.Message] {
        [.system(system), .user(user(passage: passage))]
    }

    /// Bumped whenever the wording changes, so that cached answers to another prompt are not reused.
    public static let version = "uniner-v1"

    /// XXH64 of the system message and the user template (the passage written as `{passage}`), 16 hex digits.
    public static var hash: String {
        XXH64.hex(XXH64.hash(Array((system + "\u{0}" + user(passage: "{passage}")).utf8)))
    }
}
