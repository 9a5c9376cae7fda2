// The supervised setting of EcomGPT and UniversalNER (Li et al. 2023; Zhou et al. 2023): each held-out task's examples
// split by a seeded shuffle into a training part and a test part, shared by `ecom-data build` and `ecom-eval` so
// that both sides agree on which examples were trained on.

/// A per-task seeded split of a task's examples: after a shuffle keyed by the task name, the first `trainCount`
/// indices are for training, the rest for testing (a task with fewer examples has an empty test part).
public struct SupervisedSplit: Sendable, Equatable {
    /// Examples per task that go to training (300 in the papers' supervised settings).
    public var trainCount: Int
    /// The seed (the build's and the evaluation's `--seed`).
    public var seed: UInt64
    /// The tasks whose training part is trained on (nil: every held-out task). A task left out contributes nothing
    /// to training, and its test part stays the examples after the first `trainCount`, so the same held-back
    /// examples are evaluated whichever tasks are trained on (the held-out task families setting).
    public var trainedTasks: Set<String>?

    public init(trainCount: Int, seed: UInt64, trainedTasks: Set<String>? = nil) {
        precondition(trainCount >= 0, "trainCount must not be negative")
        self.trainCount = trainCount; self.seed = seed; self.trainedTasks = trainedTasks
    }

    /// The example indices 0..<count of `task` in the split's shuffled order.
    public func order(task: String, count: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed, key: "supervised-split/" + task)
        var order = Array(0..<count)
        rng.shuffle(&order)
        return order
    }

    /// The indices of `task`'s examples used for training, in shuffled order (none for a task outside ``trainedTasks``).
    public func trainIndices(task: String, count: Int) -> [Int] {
        if let t = trainedTasks, !t.contains(task) { return [] }
        return Array(order(task: task, count: count).prefix(trainCount))
    }

    /// The indices of `task`'s examples held back for testing, in shuffled order.
    public func testIndices(task: String, count: Int) -> [Int] { Array(order(task: task, count: count).dropFirst(trainCount)) }
}
