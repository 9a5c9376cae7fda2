// EcomMetrics: the papers' scores, number for number with the Python code they were computed by (Foundation only).
// This file holds the module's overview; each score lives in a file of its own. Docs/METRICS.md lists every quirk.
//
// - RougeL.swift: Rouge-L as the `rouge` package (EcomGPT) and as Google's `rouge-score` (L and Lsum) compute it,
//   plus our CJK-aware flavour (labelled as ours); LCS.swift holds the longest-common-subsequence kernels.
// - SetScore.swift: EcomGPT's SetScore (micro, its "macro", strict accuracy).
// - EntityF1.swift + Seqeval.swift: EcomGPT's NER scoring: character BIO labels, then seqeval's lenient chunking.
// - UniversalNER.swift: UniversalNER's evaluator (first JSON list, normalisation, exact match, micro P/R/F1).
// - TaskScoring.swift: per EcomGPT task type (CLS, Extract, Condition_Extract, Generate, NER), parse and score.
// - PythonText.swift, JSONValue.swift: Python's string and json.loads semantics where scores depend on them.
// - MetricsRequests.swift: the JSON Lines requests of the `ecom-metrics` tool.
