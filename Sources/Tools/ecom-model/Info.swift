// `ecom-model info`: architecture, configuration, parameter count, dtypes and file sizes of a model.
import ArgumentParser
import EcomModel
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model's architecture, configuration, parameter count, dtypes and file sizes (JSON).")
    @Option(help: "Model: an HF directory or a .gguf file.") var model: String

    func run() throws {
        print(try ModelRequests.info(URL(fileURLWithPath: model)), terminator: "")
    }
}
