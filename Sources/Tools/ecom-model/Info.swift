// `ecom-model info`: configuration, parameter count, dtypes and file sizes of a model directory.
import ArgumentParser
import EcomModel
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model directory's configuration, parameter count, dtypes and file sizes (JSON).")
    @Option(help: "Model directory.") var model: String

    func run() throws {
        print(try ModelRequests.info(directory: URL(fileURLWithPath: model)), terminator: "")
    }
}
