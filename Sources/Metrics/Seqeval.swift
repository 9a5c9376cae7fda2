// seqeval 1.2.2's default (lenient, conlleval-compatible) chunking and classification_report:
// seqeval/metrics/sequence_labeling.py get_entities, end_of_chunk, start_of_chunk, precision_recall_fscore_support.

/// One entity chunk: its type and inclusive token range in the flattened sequence.
public struct Chunk: Hashable, Sendable {
    public var type: PyString
    public var start: Int
    public var end: Int
}

/// seqeval's `get_entities` (suffix=False) over sentences, each followed by an "O" as seqeval flattens them.
/// A label's tag is its first character; its type is what follows the first "-" after that character ("_" when
/// empty, and for "O"). A chunk ends on B/S after B/I, on O after B/I, after E/S, and on any type change; it
/// starts on B/S, on I/E after O/E/S (an I- without B- opens a chunk), and on any type change of a non-O tag.
public func seqevalChunks(_ sentences: [[String]]) -> [Chunk] {
    var chunks: [Chunk] = []
    var prevTag: UInt32 = 0x4F  // "O"
    var prevType = PyString(scalars: [])
    var begin = 0
    var i = 0
    let underscore = PyString(scalars: [0x5F])
    func step(_ label: [UInt32]) {
        let tag = label.first ?? 0x4F
        var type = underscore
        if label.count > 1 {
            let rest = label[1...]
            let t = rest.firstIndex(of: 0x2D).map { Array(rest[($0 + 1)...]) } ?? Array(rest)
            if !t.isEmpty { type = PyString(scalars: t) }
        }
        let O: UInt32 = 0x4F, B: UInt32 = 0x42, I: UInt32 = 0x49, E: UInt32 = 0x45, S: UInt32 = 0x53
        var end = prevTag == E || prevTag == S
        if (prevTag == B || prevTag == I) && (tag == B || tag == S || tag == O) { end = true }
        if prevTag != O && prevTag != 0x2E && prevType != type { end = true }
        if end { chunks.append(Chunk(type: prevType, start: begin, end: i - 1)) }
        var start = tag == B || tag == S
        if (prevTag == E || prevTag == S || prevTag == O) && (tag == E || tag == I) { start = true }
        if tag != O && tag != 0x2E && prevType != type { start = true }
        if start { begin = i }
        prevTag = tag
        prevType = type
        i += 1
    }
    for s in sentences {
        for l in s { step(l.unicodeScalars.map(\.value)) }
        step([0x4F])
    }
    step([0x4F])
    return chunks
}

/// Precision, recall, F1 and support of one entity type or an average.
public struct PRF: Sendable, Equatable, Codable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var support: Int
}

/// seqeval's `classification_report(output_dict=True)` in the default mode.
public struct EntityReport: Sendable, Equatable {
    /// Per type, sorted by code points (as Python's `sorted`).
    public var perType: [(type: String, score: PRF)]
    /// Micro average: over all types' summed counts (0 on a zero denominator).
    public var micro: PRF
    /// Macro average: the unweighted mean over types of per-type P, R, F1 (NaN when there is no type at all,
    /// as numpy's mean of an empty array).
    public var macro: PRF

    public static func == (a: EntityReport, b: EntityReport) -> Bool {
        a.micro == b.micro && a.macro == b.macro && a.perType.map(\.type) == b.perType.map(\.type)
            && a.perType.map(\.score) == b.perType.map(\.score)
    }
}

/// Scores predicted against gold label sequences (one list of labels per sentence), as seqeval does.
public func seqevalReport(gold: [[String]], predicted: [[String]]) -> EntityReport {
    var trueSets: [PyString: Set<Chunk>] = [:], predSets: [PyString: Set<Chunk>] = [:]
    for c in seqevalChunks(gold) { trueSets[c.type, default: []].insert(c) }
    for c in seqevalChunks(predicted) { predSets[c.type, default: []].insert(c) }
    let types = Set(trueSets.keys).union(predSets.keys).sorted()
    func div(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    func f(_ p: Double, _ r: Double) -> Double { let d = p + r; return d == 0 ? 0 : 2 * p * r / d }
    var per: [(String, PRF)] = []
    var tpAll = 0, predAll = 0, trueAll = 0
    var sumP = 0.0, sumR = 0.0, sumF = 0.0
    for t in types {
        let ts = trueSets[t] ?? [], ps = predSets[t] ?? []
        let tp = ts.intersection(ps).count
        let p = div(tp, ps.count), r = div(tp, ts.count)
        let score = PRF(precision: p, recall: r, f1: f(p, r), support: ts.count)
        per.append((t.string, score))
        tpAll += tp; predAll += ps.count; trueAll += ts.count
        sumP += p; sumR += r; sumF += score.f1
    }
    let mp = div(tpAll, predAll), mr = div(tpAll, trueAll)
    let n = Double(types.count)
    let macro = types.isEmpty ? PRF(precision: .nan, recall: .nan, f1: .nan, support: 0)
        : PRF(precision: sumP / n, recall: sumR / n, f1: sumF / n, support: trueAll)
    return EntityReport(perType: per, micro: PRF(precision: mp, recall: mr, f1: f(mp, mr), support: trueAll),
                        macro: macro)
}
