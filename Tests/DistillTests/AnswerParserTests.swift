// The teacher's answers as chat models write them, parsed into (entity, type) pairs; expected values worked out by
// hand from the parser's documented rules.
import Testing
@testable import EcomDistill

@Suite struct AnswerParserTests {
    func pairs(_ answer: String) -> [[String]] {
        TeacherAnswerParser.parse(answer).pairs.map { [$0.entity, $0.type] }
    }

    @Test func pythonTuplesWithDoubleAndSingleQuotes() {
        #expect(pairs(#"[("Apple", "organization"), ("Tim Cook", "person")]"#) == [["Apple", "organization"], ["Tim Cook", "person"]])
        #expect(pairs(#"[('Apple', 'organization'), ('Tim Cook', 'person')]"#) == [["Apple", "organization"], ["Tim Cook", "person"]])
        #expect(pairs(#"[("Apple", 'organization')]"#) == [["Apple", "organization"]])
    }

    @Test func escapedQuotesAndBackslashes() {
        #expect(pairs(#"[("The \"Boss\"", "nickname"), ('Macy\'s', 'store')]"#) == [["The \"Boss\"", "nickname"], ["Macy's", "store"]])
        #expect(pairs(#"[("a\\b", "path"), ("C:\d", "drive")]"#) == [["a\\b", "path"], ["C:\\d", "drive"]])
        #expect(pairs(#"[("line\none", "x")]"#) == [["line\none", "x"]])
        #expect(pairs(#"[("caf\u00e9", "place"), ("\ud83d\ude00", "emoji"), ("\x41", "letter")]"#)
                == [["café", "place"], ["😀", "emoji"], ["A", "letter"]])
    }

    @Test func apostrophesInsideSingleQuotedStrings() {
        // A quote followed by a letter is an apostrophe, not the end of the string.
        #expect(pairs(#"[('Macy's', 'store'), ('rock 'n' roll', 'genre')]"#) == [["Macy's", "store"], ["rock 'n' roll", "genre"]])
    }

    @Test func jsonArraysOfPairs() {
        #expect(pairs(#"[["Paris", "city"], ["France", "country"]]"#) == [["Paris", "city"], ["France", "country"]])
        // One pair without an outer list.
        #expect(pairs(#"["Paris", "city"]"#) == [["Paris", "city"]])
    }

    @Test func strayTextAndCodeFences() {
        let answer = "Sure! Here are the entities:\n```python\n[(\"Paris\", \"city\"), (\"Seine\", \"river\")]\n```\nLet me know (if you need more)."
        let p = TeacherAnswerParser.parse(answer)
        #expect(p.pairs == [EntityPair(entity: "Paris", type: "city"), EntityPair(entity: "Seine", type: "river")])
        #expect(p.malformed == 0 && p.truncated == 0 && p.foundList)
        // A bracket in the prose before the list is not the list.
        #expect(pairs(#"Entities [see below]: [("Paris", "city")] (I hope this helps)"#) == [["Paris", "city"]])
    }

    @Test func trailingCommasAndLayout() {
        #expect(pairs(#"[("a", "b",), ("c", "d"),]"#) == [["a", "b"], ["c", "d"]])
        #expect(pairs("[\n  (\"a\", \"b\"),\n  (\"c\", \"d\")\n]\n") == [["a", "b"], ["c", "d"]])
        #expect(pairs("[\n1. (\"a\", \"b\")\n2. (\"c\", \"d\")\n]") == [["a", "b"], ["c", "d"]])
    }

    @Test func bareTuplesAndUnquotedItems() {
        #expect(pairs("(\"Paris\", \"city\")\n(\"France\", \"country\")") == [["Paris", "city"], ["France", "country"]])
        #expect(pairs("[(Paris, city), (New York, city)]") == [["Paris", "city"], ["New York", "city"]])
        #expect(pairs(#"[(“Paris”, “city”), (‘Rome’, ‘city’)]"#) == [["Paris", "city"], ["Rome", "city"]])
    }

    @Test func truncatedFinalTuples() {
        for answer in [#"[("Paris", "city"), ("Fra"#, #"[("Paris", "city"), ("France", "coun"#,
                       #"[("Paris", "city"), ("France","#, #"[("Paris", "city"), ("France", "country""#,
                       #"[("Paris", "city"), (Fra"#, #"[("Paris", "city"), ("France\"#] {
            let p = TeacherAnswerParser.parse(answer)
            #expect(p.pairs == [EntityPair(entity: "Paris", type: "city")], "\(answer)")
            #expect(p.truncated == 1 && p.malformed == 0, "\(answer)")
        }
        // Cut between tuples: nothing is lost or counted.
        let between = TeacherAnswerParser.parse(#"[("Paris", "city"), "#)
        #expect(between.pairs.count == 1 && between.truncated == 0)
    }

    @Test func malformedElementsAreCounted() {
        let p = TeacherAnswerParser.parse(#"[("Paris"), ("a", "b", "c"), ("x", "y"), (("n", "m"), "t"), {"entity": "e", "type": "t"}]"#)
        #expect(p.pairs == [EntityPair(entity: "x", type: "y")])
        #expect(p.malformed == 4 && p.truncated == 0)
        // Names without types and no pair anywhere: prose, not a list (the answer is unparseable, nothing counted).
        let names = TeacherAnswerParser.parse(#"["Apple", "Google", "Microsoft"]"#)
        #expect(!names.foundList && names.pairs.isEmpty && names.malformed == 0)
    }

    @Test func emptyListsAndProse() {
        let empty = TeacherAnswerParser.parse("[]")
        #expect(empty.foundList && empty.pairs.isEmpty && empty.malformed == 0)
        #expect(TeacherAnswerParser.parse("The output is:\n[ ]\n").foundList)
        for prose in ["There are no entities in this passage.", "No entities (the passage is a greeting).", ""] {
            let p = TeacherAnswerParser.parse(prose)
            #expect(!p.foundList && p.pairs.isEmpty && p.malformed == 0 && p.truncated == 0, "\(prose)")
        }
    }
}

@Suite struct GroundingTests {
    @Test(arguments: [
        ("Programming_Language.", "programming language"), ("  'Person' ", "person"), ("\"Organization\"", "organization"),
        ("Music   Genre", "music genre"), ("(date)", "date"), ("U.S. State", "u.s. state"), ("C++ library", "c++ library"),
        ("", ""), ("  ...  ", ""),
    ])
    func typeNormalisation(raw: String, normalised: String) {
        #expect(EntityGrounding.normalizeType(raw) == normalised)
    }

    @Test func labelsOfAChunk() {
        let chunk = "Tim Cook visited Apple Park in Cupertino. Apple makes the iPhone."
        let answer = #"""
            [("Apple", "Organization"), ("Tim Cook", "person"), ("cupertino", "City."), ("Microsoft", "organization"),
             ("", "thing"), ("iPhone", ""), ("Apple", "organization"), ("apple park", "LOCATION"), ("iPhone", "product"),
             ("Steve"]
            """#
        let l = EntityGrounding.labels(answer: answer, chunk: chunk)
        // Ordered by first position: Tim Cook (0), Apple (17, answered first), Apple Park (17), Cupertino (31), iPhone (58).
        #expect(l.types == ["person", "organization", "location", "city", "product"])
        #expect(l.entities == [["Tim Cook"], ["Apple"], ["Apple Park"], ["Cupertino"], ["iPhone"]])
        #expect(l.entityCount == 5 && l.caseRepaired == 2 && l.parsed)
        #expect(l.drops.notInPassage == 1 && l.drops.emptyFields == 2 && l.drops.duplicates == 1)
        #expect(l.drops.malformedTuples == 1 && l.drops.truncatedTuples == 0 && l.drops.unparseableAnswers == 0)
        #expect(l.namedTypes == ["organization", "person", "city", "thing", "location", "product"])
    }

    @Test func entitiesAreFoundWithoutSurroundingPunctuation() {
        let hit = EntityGrounding.locate(" \"Cupertino.\" ", in: "They met in Cupertino last year.")
        #expect(hit?.text == "Cupertino" && hit?.position == 12 && hit?.caseRepaired == false)
        #expect(EntityGrounding.locate("Paris", in: "They met in Cupertino.") == nil)
    }

    @Test func manyEntitiesOfOneTypeKeepPassageOrder() {
        let l = EntityGrounding.labels(answer: #"[("Dave", "person"), ("Alice", "person"), ("Carol", "person"), ("alice", "person")]"#,
                                       chunk: "Alice, Carol and Dave")
        #expect(l.types == ["person"] && l.entities == [["Alice", "Carol", "Dave"]])
        #expect(l.drops.duplicates == 1)
    }

    @Test func proseAnswerIsUnparseable() {
        let l = EntityGrounding.labels(answer: "I cannot find any entities.", chunk: "Hello there")
        #expect(!l.parsed && l.types.isEmpty && l.drops.unparseableAnswers == 1)
    }
}
