// Chain-of-Task atomic tasks (EcomGPT, Li et al. 2023, section 3.2): simplification, reversal and sample recombination,
// each a named generator from structured examples to records. Docs/DATA.md tables which sources feed which.

/// The atomic-task generators.
public enum AtomicKind: String, Codable, Sendable, CaseIterable {
    // Task simplification.
    case entitySpanDetection = "entity_span_detection"
    case entityTyping = "entity_typing"
    case attributeValueDetection = "attribute_value_detection"
    // Task reversal.
    case questionGeneration = "question_generation"
    case attributesFromTitle = "attributes_from_title"
    case queryGeneration = "query_generation"
    // Sample recombination.
    case productAttributeMatching = "product_attribute_matching"
    case candidateSelection = "candidate_selection"
}

/// A typed span of a NER example.
public struct TypedSpan: Sendable, Equatable, Hashable {
    public var term: String
    public var type: String
    public init(term: String, type: String) { self.term = term; self.type = type }
}

/// A NER-shaped example from any source (EcomGPT NER tasks, UniversalNER passages, raw products' titles).
public struct NERSample: Sendable, Equatable {
    public var id: String
    public var text: String
    public var spans: [TypedSpan]
    public var language: String
    public var dataset: String
    public var task: String
    public init(id: String, text: String, spans: [TypedSpan], language: String, dataset: String, task: String) {
        self.id = id; self.text = text; self.spans = spans; self.language = language; self.dataset = dataset; self.task = task
    }

    /// Spans of a UniversalNER passage.
    public init(_ p: UniversalNERPassage, index: Int) {
        let spans = zip(p.types, p.spans).flatMap { t, ss in ss.map { TypedSpan(term: $0, type: t) } }
        self.init(id: "UniNER-\(p.dataset)#\(index)", text: p.passage, spans: spans, language: "en", dataset: p.dataset,
                  task: "UniNER-\(p.dataset)")
    }

    /// A product title's spans: the attribute values that occur in the title, typed by attribute name.
    public init(_ p: RawProduct, dataset: String) {
        let spans = p.attributes.filter { !$0.value.isEmpty && p.title.contains($0.value) }
            .map { TypedSpan(term: $0.value, type: $0.name) }
        self.init(id: "\(dataset)/product#\(p.id)", text: p.title, spans: spans, language: p.language, dataset: dataset,
                  task: "\(dataset)-attribute_extraction")
    }
}

/// The generators. Each returns records whose provenance names the source task and the atomic kind.
public enum AtomicTasks {
    static func prov(_ dataset: String, _ task: String, _ type: String, _ kind: AtomicKind, _ lang: String) -> Provenance {
        Provenance(dataset: dataset, task: task, taskType: type, atomicKind: kind.rawValue, language: lang)
    }

    static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }

    /// NER → entity span detection: the spans without their types (nil when the sample has no span).
    public static func entitySpanDetection(_ s: NERSample) -> InstructionRecord? {
        guard !s.spans.isEmpty else { return nil }
        return InstructionRecord(
            id: "\(s.id)/\(AtomicKind.entitySpanDetection.rawValue)", taskDescription: "entity span detection",
            prompt: "Detect all entity spans in the sentence, without their types.", input: s.text,
            outputConstraints: "Separate the spans with \", \".",
            output: unique(s.spans.map(\.term)).joined(separator: ", "), template: .alpaca,
            provenance: prov(s.dataset, s.task, "Condition_Extract", .entitySpanDetection, s.language))
    }

    /// NER → entity typing: the type of each given span, one `span: type` line per span, types as candidates.
    public static func entityTyping(_ s: NERSample, types: [String]) -> InstructionRecord? {
        guard !s.spans.isEmpty else { return nil }
        var seen = Set<String>()
        let spans = s.spans.filter { seen.insert($0.term).inserted }
        return InstructionRecord(
            id: "\(s.id)/\(AtomicKind.entityTyping.rawValue)", taskDescription: "entity typing",
            prompt: "Give the type of each entity listed after the sentence.",
            input: s.text + "\nEntities: " + spans.map(\.term).joined(separator: ", "), candidateLabels: types,
            outputConstraints: "Answer one line per entity: entity: type.",
            output: spans.map { "\($0.term): \($0.type)" }.joined(separator: "\n"), template: .alpaca,
            provenance: prov(s.dataset, s.task, "CLS", .entityTyping, s.language))
    }

    /// Attribute extraction → attribute-value detection: the values of named attributes, found in the title.
    public static func attributeValueDetection(_ s: NERSample) -> InstructionRecord? {
        guard !s.spans.isEmpty else { return nil }
        return InstructionRecord(
            id: "\(s.id)/\(AtomicKind.attributeValueDetection.rawValue)", taskDescription: "attribute value detection",
            prompt: "Detect all attribute values about the candidate attributes in the sentence.", input: s.text,
            candidateLabels: unique(s.spans.map(\.type)),
            output: unique(s.spans.map(\.term)).joined(separator: ", "), template: .alpaca,
            provenance: prov(s.dataset, s.task, "Condition_Extract", .attributeValueDetection, s.language))
    }

    /// Extractive QA → question generation: from the context and the answer, the question.
    public static func questionGeneration(_ q: RawQuestion, dataset: String) -> InstructionRecord {
        InstructionRecord(
            id: "\(dataset)/qa#\(q.id)/\(AtomicKind.questionGeneration.rawValue)", taskDescription: "question generation",
            prompt: "Write the question that the answer responds to, given the context.",
            input: "Context: \(q.context)\nAnswer: \(q.answer)", output: q.question, template: .alpaca,
            provenance: prov(dataset, "\(dataset)-extractive_qa", "Generate", .questionGeneration, q.language))
    }

    /// Title generation → attributes from a title: the `name: value` lines of the attributes the title states.
    public static func attributesFromTitle(_ p: RawProduct, dataset: String) -> InstructionRecord? {
        let stated = p.attributes.filter { !$0.value.isEmpty && p.title.contains($0.value) }
        guard !stated.isEmpty else { return nil }
        return InstructionRecord(
            id: "\(dataset)/product#\(p.id)/\(AtomicKind.attributesFromTitle.rawValue)",
            taskDescription: "attribute generation from title",
            prompt: "List the attributes stated in the product title.", input: p.title,
            outputConstraints: "Answer one line per attribute: name: value.",
            output: stated.map { "\($0.name): \($0.value)" }.joined(separator: "\n"), template: .alpaca,
            provenance: prov(dataset, "\(dataset)-title_generation", "Generate", .attributesFromTitle, p.language))
    }

    /// Product selection → query generation: from the chosen product, the query.
    public static func queryGeneration(_ q: RawQuery, chosen: RawProduct, dataset: String) -> InstructionRecord {
        InstructionRecord(
            id: "\(dataset)/query#\(q.id)/\(AtomicKind.queryGeneration.rawValue)", taskDescription: "query generation",
            prompt: "Write a search query for which the product is the best match.", input: chosen.title,
            output: q.query, template: .alpaca,
            provenance: prov(dataset, "\(dataset)-product_selection", "Generate", .queryGeneration, q.language))
    }

    /// Product–attribute matching by recombination: the title of `a` with its own attribute set (match) and with the
    /// attribute set of `b` (not match), the two in random order.
    public static func productAttributeMatching(_ a: RawProduct, _ b: RawProduct, dataset: String,
                                                using rng: inout SeededGenerator) -> [InstructionRecord] {
        let labels = ["not match", "match"]
        var out = [(b.attributes, "not match", "n"), (a.attributes, "match", "m")].map { attrs, label, tag in
            InstructionRecord(
                id: "\(dataset)/product#\(a.id)+\(b.id)/\(AtomicKind.productAttributeMatching.rawValue)-\(tag)",
                taskDescription: "title attribute matching",
                prompt: "Determine whether the product title and attributes match.",
                input: "Title: \(a.title), Attribute: \(RawCorpus.attributeText(attrs))", candidateLabels: labels,
                output: label, template: .alpaca,
                provenance: prov(dataset, "\(dataset)-title_generation", "CLS", .productAttributeMatching, a.language))
        }
        rng.shuffle(&out)
        return out
    }

    /// Candidate selection with sampled distractors: the query, the chosen product and `distractors` other products
    /// drawn from `pool` (never the chosen one), shuffled; answered with the chosen title.
    public static func candidateSelection(_ q: RawQuery, chosen: RawProduct, pool: [RawProduct], distractors: Int,
                                          dataset: String, using rng: inout SeededGenerator) -> InstructionRecord? {
        var others = pool.filter { $0.id != chosen.id && $0.title != chosen.title }
        guard !others.isEmpty else { return nil }
        rng.shuffle(&others)
        var titles = others.prefix(distractors).map(\.title) + [chosen.title]
        rng.shuffle(&titles)
        return InstructionRecord(
            id: "\(dataset)/query#\(q.id)/\(AtomicKind.candidateSelection.rawValue)", taskDescription: "candidate selection",
            prompt: "Select the candidate that best matches the query.", input: "Query: \(q.query)",
            candidateLabels: titles, outputConstraints: "Output the candidate only.", output: chosen.title,
            template: .alpaca,
            provenance: prov(dataset, "\(dataset)-product_selection", "CLS", .candidateSelection, q.language))
    }

    /// Every atomic task the raw corpus feeds (products, queries, questions), deterministic for a seed.
    public static func fromRaw(_ c: RawCorpus, seed: UInt64) -> [InstructionRecord] {
        var out: [InstructionRecord] = []
        for p in c.products {
            let s = NERSample(p, dataset: c.dataset)
            if let r = attributeValueDetection(s) { out.append(r) }
            if let r = attributesFromTitle(p, dataset: c.dataset) { out.append(r) }
        }
        // Pairs of neighbours in id order with the same language: a's title against b's attributes.
        let byLanguage = Dictionary(grouping: c.products, by: \.language)
        for lang in byLanguage.keys.sorted() {
            let ps = byLanguage[lang]!.sorted { $0.id < $1.id }
            guard ps.count > 1 else { continue }
            for i in ps.indices {
                var rng = SeededGenerator(seed: seed, key: "match/\(ps[i].id)")
                out += productAttributeMatching(ps[i], ps[(i + 1) % ps.count], dataset: c.dataset, using: &rng)
            }
        }
        for q in c.queries {
            guard let chosen = c.product(q.chosen) else { continue }
            out.append(queryGeneration(q, chosen: chosen, dataset: c.dataset))
            var rng = SeededGenerator(seed: seed, key: "select/\(q.id)")
            let pool = c.products.filter { $0.language == q.language }
            if let r = candidateSelection(q, chosen: chosen, pool: pool, distractors: 3, dataset: c.dataset, using: &rng) {
                out.append(r)
            }
        }
        for q in c.questions { out.append(questionGeneration(q, dataset: c.dataset)) }
        return out
    }

    /// The simplifications of NER samples (span detection and typing), with `types` as the typing candidates.
    public static func fromNER(_ samples: [NERSample], types: [String]) -> [InstructionRecord] {
        samples.flatMap { s in [entitySpanDetection(s), entityTyping(s, types: types)].compactMap { $0 } }
    }
}
