// ecom-model: logits, a summary, gradients, GGUF import and LoRA merging for BLOOM and Llama models. Logic lives in
// the libraries.
import ArgumentParser
import EcomModel
import EcomToolSupport
import EcomTensor
import Foundation

@main
struct EcomModelCommand: ParsableCommand {
    /// OpenBLAS's kernels are chosen for this CPU (re-executing once with OPENBLAS_CORETYPE when it fell back to generic
    /// ones), then the arguments are parsed and the command run.
    static func main() {
        BLASCore.reexecWithBetterCoreIfNeeded()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "ecom-model",
        abstract: "Models (HF directories of BLOOM or Llama, or .gguf files): logits, a summary, gradients, GGUF import, LoRA merging; the machine's kernels.",
        subcommands: [Forward.self, Info.self, Grad.self, ImportGGUF.self, MergeLoRA.self, SystemInfo.self])
}
