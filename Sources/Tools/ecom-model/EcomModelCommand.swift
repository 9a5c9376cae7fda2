// ecom-model: logits, a summary, gradients and GGUF import for BLOOM and Llama models. Logic lives in the libraries.
import ArgumentParser
import EcomModel
import EcomToolSupport
import Foundation

@main
struct EcomModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-model",
        abstract: "Models (HF directories of BLOOM or Llama, or .gguf files): logits, a summary, gradients, GGUF import.",
        subcommands: [Forward.self, Info.self, Grad.self, ImportGGUF.self])
}
