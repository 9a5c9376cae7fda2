// EcomMetrics: the papers' scores: Rouge-L, set F1, entity F1, UniversalNER's evaluator (issue 4).
// This file holds the module's overview; each part of the library lives in a file of its own.
