// Per-task budgets of new tokens (`--max-new-tokens auto`): the rule, the examples carrying their task's budget,
// generation keeping to it, and the configuration that makes a rerun with other budgets a change.
@testable import EcomEval
import EcomInstruct
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct AnswerBudgetTests {
    let world = EvalFixture.world

    @Test func theBudgetIsAQuarterAboveThe95thPercentilePlusEight() {
        #expect(AnswerBudget.tokens(forAnswerLengths: []) == AnswerBudget.minimum)
        // Nearest rank: the 95th percentile of 3 lengths is the 3rd (ceil(2.85)); 1.25 x 2 = 2.5 -> 3, + 8.
        #expect(AnswerBudget.tokens(forAnswerLengths: [2, 1, 2]) == 11)
        // 20 lengths 1...20: the 19th, 19; 1.25 x 19 = 23.75 -> 24, + 8. The one outlier above it does not count.
        #expect(AnswerBudget.tokens(forAnswerLengths: Array(1...19) + [900]) == 32)
        // 227 tokens (MEPAVE's attribute tables): 283.75 -> 284, + 8.
        #expect(AnswerBudget.tokens(forAnswerLengths: Array(repeating: 227, count: 50)) == 292)
        #expect(AnswerBudget.tokens(forAnswerLengths: [0]) == AnswerBudget.minimum)
        #expect(AnswerBudget.tokens(forAnswerLengths: Array(repeating: 5_000, count: 4)) == AnswerBudget.maximum)
    }

    @Test func everyExampleCarriesItsTasksBudgetFromAllTheTasksAnswers() throws {
        // The closure sees every answer of the task, not only the examples the limit keeps.
        var seen: [Int] = []
        let items = try EvalItems.ecomGPT(root: world.ecomgpt, limit: 1, seed: 11, budget: { seen.append($0.count); return 40 + $0.count })
        #expect(seen.sorted() == [3, 4])
        #expect(items.map(\.maxNewTokens) == [43, 44])  // the NER task (3 examples), then CLS (4)
        #expect(try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11).allSatisfy { $0.maxNewTokens == nil })
    }

    @Test func anExamplesBudgetOverridesTheSuitesInItsOptions() throws {
        let e = Evaluator(model: try BloomModel.load(directory: world.model), tokenizer: world.tokenizer)
        #expect(e.options(for: .ecomgpt, settings: EvalSettings(), maxNewTokens: 11).maxNewTokens == 11)
        #expect(e.options(for: .ecomgpt, settings: EvalSettings()).maxNewTokens == 164)
    }

    @Test func autoBudgetsAreKeptRecordedAndPartOfTheSettings() throws {
        let out = try TestPaths.makeTemporaryDirectory("eval-auto-budget")
        var r = EvalFixture.request(out: out, uniner: false)
        r.settings.autoMaxNewTokens = true
        _ = try EvalRun.run(r)
        // The budgets, computed here from the task files with the model's tokenizer.
        var expected: [String: Int] = [:]
        for dir in try EcomGPTTask.taskFolders(in: world.ecomgpt) where dir.lastPathComponent != "EN-Other-CLS-unused" {
            let task = try EcomGPTTask.load(dir)
            expected[task.name] = AnswerBudget.tokens(forAnswers: task.examples.map(task.answer(for:)), tokenizer: world.tokenizer)
        }
        let config = try #require(try EvalConfiguration.load(from: out))
        #expect(config.maxNewTokensByTask == expected)
        #expect(config.budgetSummary.contains("each task's budget from its reference answers"))
        // Each answer is what greedy generation gives with its task's budget, and keeps to it.
        let model = try BloomModel.load(directory: world.model)
        let evaluator = Evaluator(model: model, tokenizer: world.tokenizer)
        let store = try PredictionStore(directory: out)
        #expect(store.predictions.count == 7)
        for p in store.predictions {
            let budget = try #require(expected[p.task])
            let ids = PromptEncoding.encode(p.prompt, tokenizer: world.tokenizer, maxTokens: r.settings.maxPromptTokens).ids
            let gen = model.generate(prompts: [ids], options: evaluator.options(for: .ecomgpt, settings: r.settings, maxNewTokens: budget))[0]
            #expect(p.generatedTokens == gen.count && gen.count <= budget)
            #expect(p.completion == world.tokenizer.decode(gen.map(Int.init), skipSpecialTokens: false))
        }
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("1.25 x their 95th percentile + 8"))
        // A fixed budget afterwards is another setting.
        var fixed = r
        fixed.settings.autoMaxNewTokens = false
        #expect { try EvalRun.run(fixed) } throws: { "\($0)".contains("per-task budgets of new tokens: true -> false") }
    }

    @Test func budgetsAreComparedOnTheTasksBothRunsHold() {
        func config(_ budgets: [String: Int]?) -> EvalConfiguration {
            EvalConfiguration(model: "m", modelFingerprint: "f", tokenizerFingerprint: "t", maxNewTokensByTask: budgets)
        }
        #expect(config(["a": 11, "b": 40]).differences(from: config(["a": 11])).isEmpty)
        #expect(config(["a": 12]).differences(from: config(["a": 11, "b": 40])) == ["max new tokens of a: 11 -> 12"])
        #expect(config(nil).differences(from: config(["a": 11])) == ["per-task budgets of new tokens: true -> false"])
    }

    @Test func aConfigurationWithoutPerTaskBudgetsDecodesAsOneBudget() throws {
        let json = """
            {"model": "m", "model_fingerprint": "f", "tokenizer_fingerprint": "t", "precision": "float32", "beams": 1,
             "max_new_tokens": 64, "max_prompt_tokens": 800, "uniner_max_new_tokens": 256, "seed": 0}
            """
        let c = try JSONDecoder().decode(EvalConfiguration.self, from: Data(json.utf8))
        #expect(c.maxNewTokensByTask == nil && c.budgetSummary == "up to 64 new tokens")
        let round = try JSONDecoder().decode(EvalConfiguration.self, from: JSONEncoder().encode(
            EvalConfiguration(model: "m", modelFingerprint: "f", tokenizerFingerprint: "t", maxNewTokensByTask: ["a": 11])))
        #expect(round.maxNewTokensByTask == ["a": 11])
    }
}
