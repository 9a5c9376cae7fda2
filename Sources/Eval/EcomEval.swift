// EcomEval: the evaluation harness of both papers (EcomGPT's held-out tasks, UniversalNER's sets) over our BLOOM model.
//
// Files, in the order of the evaluation's data flow:
// - EvalItem.swift: evaluation examples with their rendered prompts (EcomGPT held-out tasks, UniversalNER sets).
// - PromptEncoding.swift: tokenisation with left truncation (the paper's `truncation_side="left"`, 800 tokens).
// - AnswerExtraction.swift: the answer in a completion (after "### Response:" up to "</s>"; UniversalNER's turn).
// - EvalConfiguration.swift: the settings that make results comparable, fingerprinted for resumption.
// - PredictionStore.swift: DIR/predictions.jsonl, appended a line at a time; torn last lines ignored.
// - Evaluator.swift: generation over the pending examples (parallel workers, batches), progress on stderr.
// - EndpointEvaluator.swift: the same evaluation through an OpenAI-compatible server (EcomOpenAI's client).
// - Scoring.swift: per-task scores with EcomMetrics (paper metrics plus the CJK-aware Rouge-L), summary.json.
// - Bootstrap.swift, ResampleScoring.swift: percentile bootstrap intervals of the scores (resamples rescored from
//   per-example statistics, checked against Scoring.swift).
// - Report.swift, SVGCharts.swift: the self-contained HTML report (table, bar charts, training loss curve).
// - Comparison.swift, ComparisonReport.swift: a base and a tuned evaluation side by side (paired bootstrap), its page.
// - RandomModel.swift: a model directory with random weights (floor baselines and tests).
