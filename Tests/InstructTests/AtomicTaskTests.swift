// Each atomic-task generator on known inputs.
import EcomInstruct
import EcomTestSupport
import Testing

@Suite struct AtomicTaskTests {
    let ner = NERSample(id: "s", text: "Acme X1 beats Acme X2", spans: [TypedSpan(term: "Acme", type: "Brand"),
        TypedSpan(term: "X1", type: "Product"), TypedSpan(term: "Acme", type: "Brand"), TypedSpan(term: "X2", type: "Product")],
        language: "en", dataset: "D", task: "EN-D-NER-x")
    let lamp = RawProduct(id: "p1", language: "en", title: "Lumora LED Desk Lamp White",
                          attributes: [.init(name: "Brand", value: "Lumora"), .init(name: "Color", value: "White"), .init(name: "Power", value: "5W")],
                          description: "d", category: "Home")
    let kettle = RawProduct(id: "p2", language: "en", title: "Brewell Kettle 1.7 L",
                            attributes: [.init(name: "Brand", value: "Brewell"), .init(name: "Capacity", value: "1.7 L")],
                            description: "d", category: "Kitchen")

    @Test func spanDetection() throws {
        let r = try #require(AtomicTasks.entitySpanDetection(ner))
        #expect(r.output == "Acme, X1, X2")
        #expect(r.provenance.atomicKind == "entity_span_detection" && r.provenance.task == "EN-D-NER-x")
        #expect(AtomicTasks.entitySpanDetection(NERSample(id: "e", text: "t", spans: [], language: "en", dataset: "D", task: "T")) == nil)
    }

    @Test func entityTyping() throws {
        let r = try #require(AtomicTasks.entityTyping(ner, types: ["Brand", "Product"]))
        #expect(r.input == "Acme X1 beats Acme X2\nEntities: Acme, X1, X2")
        #expect(r.output == "Acme: Brand\nX1: Product\nX2: Product")
        #expect(r.candidateLabels == ["Brand", "Product"])
    }

    @Test func attributeValueDetection() throws {
        let s = NERSample(lamp, dataset: "raw")
        #expect(s.spans == [TypedSpan(term: "Lumora", type: "Brand"), TypedSpan(term: "White", type: "Color")])
        let r = try #require(AtomicTasks.attributeValueDetection(s))
        #expect(r.candidateLabels == ["Brand", "Color"] && r.output == "Lumora, White")
    }

    @Test func questionGeneration() {
        let q = RawQuestion(id: "a", language: "en", context: "Ships in 2 days.", question: "When does it ship?", answer: "in 2 days")
        let r = AtomicTasks.questionGeneration(q, dataset: "raw")
        #expect(r.input == "Context: Ships in 2 days.\nAnswer: in 2 days" && r.output == "When does it ship?")
        #expect(r.provenance.atomicKind == "question_generation")
    }

    @Test func attributesFromTitle() throws {
        let r = try #require(AtomicTasks.attributesFromTitle(lamp, dataset: "raw"))
        #expect(r.input == lamp.title && r.output == "Brand: Lumora\nColor: White")
    }

    @Test func queryGeneration() {
        let q = RawQuery(id: "q", language: "en", query: "desk lamp", candidates: ["p1", "p2"], chosen: "p1")
        let r = AtomicTasks.queryGeneration(q, chosen: lamp, dataset: "raw")
        #expect(r.input == lamp.title && r.output == "desk lamp")
    }

    @Test func productAttributeMatching() {
        var rng = SeededGenerator(seed: 3)
        let rs = AtomicTasks.productAttributeMatching(lamp, kettle, dataset: "raw", using: &rng)
        #expect(rs.count == 2)
        let match = rs.first { $0.output == "match" }!, miss = rs.first { $0.output == "not match" }!
        #expect(match.input == "Title: Lumora LED Desk Lamp White, Attribute: Brand#:#Lumora#;#Color#:#White#;#Power#:#5W")
        #expect(miss.input == "Title: Lumora LED Desk Lamp White, Attribute: Brand#:#Brewell#;#Capacity#:#1.7 L")
        #expect(match.id != miss.id)
    }

    @Test func candidateSelection() throws {
        let pool = (0..<10).map { i in RawProduct(id: "x\(i)", language: "en", title: "Item \(i)", attributes: [], description: "", category: "c") } + [lamp]
        let q = RawQuery(id: "q", language: "en", query: "lamp", candidates: ["p1"], chosen: "p1")
        var rng = SeededGenerator(seed: 11)
        let r = try #require(AtomicTasks.candidateSelection(q, chosen: lamp, pool: pool, distractors: 3, dataset: "raw", using: &rng))
        let cands = try #require(r.candidateLabels)
        #expect(cands.count == 4 && cands.contains(lamp.title) && Set(cands).count == 4)
        #expect(r.output == lamp.title)
        var rng2 = SeededGenerator(seed: 11)
        #expect(AtomicTasks.candidateSelection(q, chosen: lamp, pool: pool, distractors: 3, dataset: "raw", using: &rng2) == r)
    }

    @Test func rawCorpusFeedsEveryRawGenerator() throws {
        let recs = AtomicTasks.fromRaw(try RawCorpus.embeddedSample(), seed: 5)
        let kinds = Set(recs.compactMap(\.provenance.atomicKind))
        #expect(kinds == ["attribute_value_detection", "attributes_from_title", "product_attribute_matching",
                          "query_generation", "candidate_selection", "question_generation"])
        #expect(Set(recs.map(\.id)).count == recs.count, "record ids must be unique")
    }
}
