// EcomServe: an OpenAI-compatible service over a model (continuous batching in BatchEngine, the API in
// OpenAIService), socket-free so that it is unit-tested without a network; `ecom-serve` puts it behind Hummingbird.
