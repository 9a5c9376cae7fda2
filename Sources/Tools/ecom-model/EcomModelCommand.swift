// ecom-model: run a BLOOM checkpoint's forward pass on JSON Lines, or describe it. Logic lives in EcomModel.
import ArgumentParser
import EcomModel
import EcomToolSupport
import Foundation

@main
struct EcomModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-model",
        abstract: "BLOOM checkpoints (HF config.json + safetensors): logits and a summary.",
        subcommands: [Forward.self, Info.self, Grad.self])
}
