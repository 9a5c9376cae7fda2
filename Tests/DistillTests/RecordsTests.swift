// Distilled records: one question per type present, negatives by frequency (never a type the teacher named), the
// UniversalNER record layout; the passages files in and out; the teacher cache.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing
@testable import EcomDistill

@Suite struct RecordsTests {
    func labels(_ types: [String], _ entities: [[String]], named: Set<String> = [], parsed: Bool = true,
                drops: DropCounts = DropCounts()) -> ChunkLabels {
        var l = ChunkLabels()
        l.types = types; l.entities = entities; l.namedTypes = named.union(types); l.parsed = parsed; l.drops = drops
        return l
    }

    var chunks: [LabelledChunk] {
        var notFound = DropCounts()
        notFound.notInPassage = 1
        return [
            LabelledChunk(text: "Alice met Bob in Paris.", language: "en", labels: labels(["person", "city"], [["Alice", "Bob"], ["Paris"]])),
            // The teacher also said "city" (for an entity not in the chunk): city is never a negative here.
            LabelledChunk(text: "Carol waved.", language: "en", labels: labels(["person"], [["Carol"]], named: ["city"])),
            LabelledChunk(text: "Acme hired Dave.", language: "en", labels: labels(["organization", "person"], [["Acme"], ["Dave"]])),
            LabelledChunk(text: "Nothing here.", language: "en", labels: labels([], [])),               // answered []
            LabelledChunk(text: "Prose answer.", language: "en", labels: labels([], [], parsed: false)), // unparseable
            LabelledChunk(text: "All dropped.", language: "en", labels: labels([], [], drops: notFound)),
            LabelledChunk(text: "今天北京下雨。", language: "zh", labels: labels(["city"], [["北京"]])),
        ]
    }

    @Test func typeCountsAreChunksPerType() {
        #expect(DistilledRecords.typeCounts(chunks) == ["person": 3, "city": 2, "organization": 1])
    }

    @Test func recordsWithNegatives() throws {
        let (records, skipped) = DistilledRecords.build(chunks, negatives: 2, seed: 0)
        #expect(skipped == 2)
        #expect(records.map(\.id) == ["UniNER-distilled#0", "UniNER-distilled#1", "UniNER-distilled#2", "UniNER-distilled#3",
                                      "UniNER-distilled#6"])
        // Chunk 0: person and city present; the only other type is organization.
        #expect(records[0].candidateLabels == ["person", "city", "organization"])
        #expect(records[0].output == "[\"Alice\", \"Bob\"]\n[\"Paris\"]\n[]")
        #expect(records[0].input == "Alice met Bob in Paris.")
        // Chunk 1: person present, city named by the teacher: organization is the one negative left.
        #expect(records[1].candidateLabels == ["person", "organization"])
        #expect(records[1].output == "[\"Carol\"]\n[]")
        // Chunk 2: organization and person present: city is the one negative left.
        #expect(records[2].candidateLabels == ["organization", "person", "city"])
        #expect(records[2].output == "[\"Acme\"]\n[\"Dave\"]\n[]")
        // Chunk 3: an empty answer: two negatives out of three types, each answered [].
        let neg = try #require(records[3].candidateLabels)
        #expect(neg.count == 2 && Set(neg).isSubset(of: ["person", "city", "organization"]) && Set(neg).count == 2)
        #expect(records[3].output == "[]\n[]")
        // Chunk 6: Chinese.
        #expect(records[4].candidateLabels?.first == "city" && records[4].candidateLabels?.count == 3)
        #expect(records[4].provenance.language == "zh")
        #expect(records[4].output.hasPrefix("[\"北京\"]\n"))
        for r in records {
            #expect(r.template == .uniner && r.prompt == "What describes {type} in the text?")
            #expect(r.provenance.dataset == "distilled" && r.provenance.task == "UniNER-distilled" && r.provenance.taskType == "NER")
            #expect(r.output.split(separator: "\n").count == r.candidateLabels?.count)
        }
    }

    @Test func negativesAreSeededAndWeighted() {
        let a = DistilledRecords.build(chunks, negatives: 2, seed: 7).records
        let b = DistilledRecords.build(chunks, negatives: 2, seed: 7).records
        #expect(a == b)
        // Over many empty chunks, the frequent type (person: 3 of 6 weight) is drawn first more often than the rare one.
        let many = (0..<400).map { _ in LabelledChunk(text: "x", language: "en", labels: labels([], [])) }
        let all = chunks + many
        let (records, _) = DistilledRecords.build(all, negatives: 1, seed: 3)
        let firsts = records.filter { $0.input == "x" }.compactMap { $0.candidateLabels?.first }
        let person = firsts.filter { $0 == "person" }.count, organization = firsts.filter { $0 == "organization" }.count
        #expect(firsts.count == 400)
        // Expected 200 and about 67 of 400 (weights 3 : 2 : 1); far apart for any seed.
        #expect(person > 150 && person < 250 && organization > 30 && organization < 110, "\(person) \(organization)")
    }

    @Test func withoutNegativesAnEmptyAnswerGivesNoRecord() {
        let (records, skipped) = DistilledRecords.build(chunks, negatives: 0, seed: 0)
        #expect(records.count == 4 && skipped == 3)
        #expect(records[0].candidateLabels == ["person", "city"] && records[0].output == "[\"Alice\", \"Bob\"]\n[\"Paris\"]")
    }
}

@Suite struct PassageFileTests {
    @Test func readsTextAndReportsBadLines() throws {
        let good = Data("""
            {"text": "Alice met Bob.", "source": "s1", "id": 3}

            {"text": "   "}
            {"text": "北京很大。"}
            {"text": "Third", "language": "de"}
            """.utf8)
        let (p, empty) = try DistillPassages.read(good, name: "in.jsonl")
        #expect(empty == 1)
        #expect(p == [DistillPassage(text: "Alice met Bob.", source: "s1", language: "en"),
                      DistillPassage(text: "北京很大。", source: "in.jsonl:4", language: "zh"),
                      DistillPassage(text: "Third", source: "in.jsonl:5", language: "de")])
        #expect(try DistillPassages.read(good, name: "in.jsonl", limit: 2).passages.count == 2)
        let cases: [(String, String)] = [
            ("{\"text\": \"a\"}\n{\"text\": \"b\"\n", "in.jsonl:2: not valid JSON"),
            ("{\"text\": \"a\"}\n{\"body\": \"b\"}\n", "in.jsonl:2: no 'text' field"),
            ("{\"text\": 5}\n", "in.jsonl:1: 'text' is not a string"),
            ("[1]\n", "in.jsonl:1: expected a JSON object"),
        ]
        for (text, message) in cases {
            #expect(throws: DistillError.self) { _ = try DistillPassages.read(Data(text.utf8), name: "in.jsonl") }
            do { _ = try DistillPassages.read(Data(text.utf8), name: "in.jsonl") } catch let e as DistillError {
                #expect(e.message.hasPrefix(message), "\(e.message)")
            }
        }
    }

    @Test func defaultPassagesFromTheRawSample() throws {
        let lines = try PassageCorpus.rawSample()
        let corpus = try RawCorpus.embeddedSample()
        #expect(lines.count == corpus.products.count + corpus.reviews.count + corpus.questions.count)
        let p01 = try #require(lines.first { $0.source == "raw-sample/product/p01" })
        #expect(p01.text == "Trailwise 40L Waterproof Hiking Backpack Olive Green\nA light pack with a padded hip belt, a rain cover "
                + "tucked into the base and side pockets that hold a one-litre bottle.")
        #expect(p01.language == "en")
        #expect(lines.contains { $0.source.hasPrefix("raw-sample/review/") } && lines.contains { $0.source.hasPrefix("raw-sample/qa/") })
        #expect(lines.contains { $0.language == "zh" })
        // JSON Lines that the distiller reads back, in order.
        let back = try DistillPassages.read(PassageCorpus.jsonLines(lines), name: "p").passages
        #expect(back.map(\.text) == lines.map(\.text) && back.map(\.source) == lines.map(\.source))
    }

    @Test func uniqueKeepsTheFirstOfEachText() {
        let u = PassageCorpus.unique([.init(text: "a", source: "1"), .init(text: "b", source: "2"), .init(text: "a", source: "3"),
                                      .init(text: " ", source: "4")])
        #expect(u.map(\.source) == ["1", "2"])
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data/universal_ner"))
    func universalNERPassagesWithoutLabels() throws {
        let lines = try PassageCorpus.universalNER(SharedData.directory.appendingPathComponent("universal_ner"))
        #expect(lines.count > 100)
        #expect(lines.allSatisfy { $0.source.hasPrefix("universal_ner/") && !$0.text.hasPrefix("Text: ") })
        #expect(PassageCorpus.unique(lines).count <= lines.count)
    }
}

@Suite struct TeacherCacheTests {
    func entry(_ k: String) -> CachedAnswer { CachedAnswer(key: k, answer: "[(\"\(k)\", \"t\")]", finishReason: "stop") }

    @Test func appendsAndReloads() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(TeacherCache.fileName)
        let c = try TeacherCache(url: url)
        try await c.append(entry("a"))
        try await c.append(entry("b"))
        await c.close()
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let again = try TeacherCache(url: url)
        #expect(await again.answers == ["a": entry("a"), "b": entry("b")])
        #expect(again.notes.isEmpty)
    }

    @Test func aTornLastLineIsDroppedWithANote() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(TeacherCache.fileName)
        var d = OpenAIJSON.line(entry("a")) + OpenAIJSON.line(entry("b"))
        let whole = d.count
        d.append(Data(#"{"answer": "[(\"c\", "#.utf8))
        try d.write(to: url)
        let c = try TeacherCache(url: url)
        #expect(await c.answers.count == 2)
        #expect(c.notes.count == 1 && c.notes[0].contains("cut off"))
        #expect(try Data(contentsOf: url).count == whole)
        try await c.append(entry("c"))
        await c.close()
        #expect(await (try TeacherCache(url: url)).answers.count == 3)
    }

    @Test func aWholeLastEntryWithoutItsNewlineIsKept() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(TeacherCache.fileName)
        try (OpenAIJSON.line(entry("a")) + OpenAIJSON.line(entry("b")).dropLast()).write(to: url)
        let c = try TeacherCache(url: url)
        try await c.append(entry("c"))
        await c.close()
        #expect(c.notes.isEmpty)
        #expect(await (try TeacherCache(url: url)).answers.keys.sorted() == ["a", "b", "c"])
    }

    @Test func aBadLineInTheMiddleIsAnError() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(TeacherCache.fileName)
        try (OpenAIJSON.line(entry("a")) + Data("not json\n".utf8) + OpenAIJSON.line(entry("b"))).write(to: url)
        do {
            _ = try TeacherCache(url: url)
            Issue.record("expected an error")
        } catch let e as DistillError {
            #expect(e.message.hasPrefix(url.path + ":2: not a teacher-cache entry"))
        }
    }

    @Test func keysChangeWithEverythingThatChangesTheAnswer() {
        let t = URL(string: "http://127.0.0.1:8080/v1")!
        let s = TeacherSampling()
        let k = TeacherCache.key(chunk: "Alice", teacher: t, model: "m", sampling: s)
        #expect(k.count == 16)
        #expect(k == TeacherCache.key(chunk: "Alice", teacher: URL(string: "http://127.0.0.1:8080/v1/")!, model: "m", sampling: s))
        let others = [
            TeacherCache.key(chunk: "Alice.", teacher: t, model: "m", sampling: s),
            TeacherCache.key(chunk: "Alice", teacher: URL(string: "http://127.0.0.1:8081/v1")!, model: "m", sampling: s),
            TeacherCache.key(chunk: "Alice", teacher: t, model: "m2", sampling: s),
            TeacherCache.key(chunk: "Alice", teacher: t, model: "m", sampling: TeacherSampling(maxTokens: 256)),
            TeacherCache.key(chunk: "Alice", teacher: t, model: "m", sampling: TeacherSampling(temperature: 0.7)),
            TeacherCache.key(chunk: "Alice", teacher: t, model: "m", sampling: TeacherSampling(topP: 0.9)),
            TeacherCache.key(chunk: "Alice", teacher: t, model: "m", sampling: TeacherSampling(seed: 1)),
        ]
        #expect(Set(others + [k]).count == others.count + 1)
    }
}

/// Cache lines as the cache writes them.
enum OpenAIJSON {
    static func line(_ a: CachedAnswer) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try! enc.encode(a) + Data([0x0A])
    }
}
