// Our raw e-commerce JSON Lines format (products, reviews, queries, extractive QA; Docs/FORMATS.md) and its primary tasks.
import Foundation

/// A product: title, ordered attributes, description and category.
public struct RawProduct: Codable, Sendable, Equatable {
    public struct Attribute: Codable, Sendable, Equatable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }
    public var id: String
    public var language: String
    public var title: String
    public var attributes: [Attribute]
    public var description: String
    public var category: String
    public init(id: String, language: String, title: String, attributes: [Attribute], description: String, category: String) {
        self.id = id; self.language = language; self.title = title; self.attributes = attributes
        self.description = description; self.category = category
    }
}

/// A review of a product: text, aspect terms with their sentiment, and the overall sentiment.
public struct RawReview: Codable, Sendable, Equatable {
    public struct Aspect: Codable, Sendable, Equatable {
        public var term: String
        public var sentiment: String
    }
    public var id: String
    public var language: String
    public var product: String?
    public var text: String
    public var aspects: [Aspect]
    public var sentiment: String
}

/// A search query with candidate product ids and the chosen one.
public struct RawQuery: Codable, Sendable, Equatable {
    public var id: String
    public var language: String
    public var query: String
    public var candidates: [String]
    public var chosen: String
    public init(id: String, language: String, query: String, candidates: [String], chosen: String) {
        self.id = id; self.language = language; self.query = query; self.candidates = candidates; self.chosen = chosen
    }
}

/// An extractive question over a context with its answer span.
public struct RawQuestion: Codable, Sendable, Equatable {
    public var id: String
    public var language: String
    public var context: String
    public var question: String
    public var answer: String
    public init(id: String, language: String, context: String, question: String, answer: String) {
        self.id = id; self.language = language; self.context = context; self.question = question; self.answer = answer
    }
}

/// The contents of raw files, by kind.
public struct RawCorpus: Sendable {
    public var dataset: String
    public var products: [RawProduct] = []
    public var reviews: [RawReview] = []
    public var queries: [RawQuery] = []
    public var questions: [RawQuestion] = []

    public init(dataset: String) { self.dataset = dataset }

    /// The product with an id.
    public func product(_ id: String) -> RawProduct? { products.first { $0.id == id } }

    /// Parses JSON Lines of `{"kind": "product" | "review" | "query" | "qa", ...}`; errors name the file and line.
    public mutating func add(_ data: Data, name: String) throws {
        let decoder = JSONDecoder()
        struct Kind: Decodable { var kind: String }
        try forEachLine(data) { line, number in
            let place = "\(name):\(number)"
            do {
                let kind = try decoder.decode(Kind.self, from: line).kind
                switch kind {
                case "product": products.append(try decoder.decode(RawProduct.self, from: line))
                case "review": reviews.append(try decoder.decode(RawReview.self, from: line))
                case "query": queries.append(try decoder.decode(RawQuery.self, from: line))
                case "qa": questions.append(try decoder.decode(RawQuestion.self, from: line))
                default: throw InstructError("\(place): unknown kind '\(kind)' (expected product, review, query or qa)")
                }
            } catch let e as InstructError { throw e } catch let DecodingError.keyNotFound(key, _) {
                throw InstructError("\(place): missing field '\(key.stringValue)'")
            } catch {
                throw InstructError("\(place): not a valid raw record (\(error))")
            }
        }
        for q in queries {
            for c in q.candidates + [q.chosen] where product(c) == nil {
                throw InstructError("\(name): query '\(q.id)' names unknown product '\(c)'")
            }
        }
    }

    /// Loads files into one corpus.
    public static func load(_ urls: [URL], dataset: String = "raw") throws -> RawCorpus {
        var c = RawCorpus(dataset: dataset)
        for u in urls { try c.add(readFile(u), name: u.path) }
        return c
    }

    /// The sample of our own writing shipped with the library (products, reviews, queries and questions; EN and ZH).
    public static func embeddedSample() throws -> RawCorpus {
        guard let url = Bundle.module.url(forResource: "raw_sample", withExtension: "jsonl") else {
            throw InstructError("the embedded raw sample (raw_sample.jsonl) is missing from the EcomInstruct bundle")
        }
        return try load([url], dataset: "raw-sample")
    }

    /// A product's attributes as EcomGPT's OpenBG data writes them (`name#:#value#;#name#:#value`).
    public static func attributeText(_ attrs: [RawProduct.Attribute]) -> String {
        attrs.map { "\($0.name)#:#\($0.value)" }.joined(separator: "#;#")
    }

    func provenance(task: String, taskType: String, atomic: String? = nil, language: String) -> Provenance {
        Provenance(dataset: dataset, task: task, taskType: taskType, atomicKind: atomic, language: language)
    }

    /// The primary tasks of the corpus: title generation, category classification, attribute extraction (products);
    /// sentiment classification and aspect extraction (reviews); product selection (queries); extractive QA.
    /// Category and sentiment candidates are sampled with `CandidateSampler`.
    public func primaryRecords(seed: UInt64) -> [InstructionRecord] {
        var out: [InstructionRecord] = []
        let categories = Dictionary(grouping: products, by: \.language).mapValues { Array(Set($0.map(\.category))).sorted() }
        for p in products {
            out.append(InstructionRecord(
                id: "\(dataset)/title_generation#\(p.id)", taskDescription: "product title generation",
                prompt: "Generate a product title based on the attribute information.",
                input: Self.attributeText(p.attributes), output: p.title, template: .alpaca,
                provenance: provenance(task: "\(dataset)-title_generation", taskType: "Generate", language: p.language)))
            var rng = SeededGenerator(seed: seed, key: "category/\(p.id)")
            out.append(InstructionRecord(
                id: "\(dataset)/category_classification#\(p.id)", taskDescription: "product category classification",
                prompt: "Classify the product into one of the candidate categories.", input: p.title,
                candidateLabels: CandidateSampler.sample(labels: categories[p.language] ?? [], gold: [p.category], using: &rng),
                outputConstraints: "Output the category only.", output: p.category, template: .alpaca,
                provenance: provenance(task: "\(dataset)-category_classification", taskType: "CLS", language: p.language)))
            out.append(InstructionRecord(
                id: "\(dataset)/attribute_extraction#\(p.id)", taskDescription: "attribute value extraction",
                prompt: "Extract every attribute value with its attribute name from the product title and description.",
                input: p.title + "\n" + p.description, candidateLabels: p.attributes.map(\.name),
                output: p.attributes.map { "\($0.name): \($0.value)" }.joined(separator: "\n"), template: .alpaca,
                provenance: provenance(task: "\(dataset)-attribute_extraction", taskType: "NER", language: p.language)))
        }
        let sentiments = ["negative", "neutral", "positive"]
        for r in reviews {
            out.append(InstructionRecord(
                id: "\(dataset)/review_sentiment#\(r.id)", taskDescription: "review sentiment classification",
                prompt: "Classify the sentiment of the review.", input: r.text, candidateLabels: sentiments,
                output: r.sentiment, template: .alpaca,
                provenance: provenance(task: "\(dataset)-review_sentiment", taskType: "CLS", language: r.language)))
            out.append(InstructionRecord(
                id: "\(dataset)/aspect_extraction#\(r.id)", taskDescription: "review aspect extraction",
                prompt: "Extract the product aspects the review talks about.", input: r.text,
                output: r.aspects.map(\.term).joined(separator: ", "), template: .alpaca,
                provenance: provenance(task: "\(dataset)-aspect_extraction", taskType: "Extract", language: r.language)))
        }
        for q in queries {
            let titles = q.candidates.compactMap { product($0)?.title }
            out.append(InstructionRecord(
                id: "\(dataset)/product_selection#\(q.id)", taskDescription: "product select",
                prompt: "Select the candidate product that best matches the query.",
                input: "Query: \(q.query)\nCandidate Document: " + titles.joined(separator: ", "),
                outputConstraints: "Output the document content only.", output: product(q.chosen)?.title ?? "",
                template: .alpaca,
                provenance: provenance(task: "\(dataset)-product_selection", taskType: "Extract", language: q.language)))
        }
        for q in questions {
            out.append(InstructionRecord(
                id: "\(dataset)/extractive_qa#\(q.id)", taskDescription: "extractive question answering",
                prompt: "Extract spans from context to answer the question.",
                input: "Context: \(q.context)\nQuestion: \(q.question)", output: q.answer, template: .alpaca,
                provenance: provenance(task: "\(dataset)-extractive_qa", taskType: "Extract", language: q.language)))
        }
        return out
    }
}
