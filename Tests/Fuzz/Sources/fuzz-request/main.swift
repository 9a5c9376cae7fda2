// Fuzzes the server's request handling short of generation: routes, bearer keys, body limits, the chat and completion
// bodies' JSON and parameters, chat-template rendering, tokenization and the context check. The first byte picks the
// route, the rest is the body; the model is the tiny fixture with the ChatML template, so rendering runs too.
import EcomLoader
import EcomOpenAI
import EcomServe
import Foundation
import FuzzSupport

let service: OpenAIService = {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Fixtures/llama/tiny.gguf").standardizedFileURL
    do {
        let bundle = try ModelBundle.load(fixture, template: .chatml)
        return try OpenAIService(bundle: bundle, engine: BatchEngine(model: bundle.model, maxBatch: 1, maxQueue: 1),
                                 options: ServeOptions(modelName: "fuzz", apiKey: "key", maxBodyBytes: 1 << 16, contextLength: 256))
    } catch { fatalError("cannot load \(fixture.path): \(error)") }
}()

let routes = [("POST", "/v1/chat/completions"), ("POST", "/v1/completions"), ("GET", "/v1/models"), ("GET", "/health"),
              ("POST", "/v1/chat/completions/?x=1")]

@_cdecl("fuzz_request_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ input: Data) {
    let (choice, body) = select(input, among: routes.count)
    let (method, path) = routes[choice]
    switch service.prepare(method: method, path: path, authorization: "Bearer key", body: body) {
    case .reply(let reply):
        guard case .json(let status, let json) = reply else { violated("a stream before generation") }
        guard (200..<600).contains(status), (try? JSONSerialization.jsonObject(with: json)) != nil else {
            violated("reply \(status) with a body that is not JSON")
        }
    case .generate(let job):
        guard !job.prompt.isEmpty, job.prompt.count + job.request.maxTokens <= 256, job.request.maxTokens >= 1 else {
            violated("a job of \(job.prompt.count) prompt tokens and \(job.request.maxTokens) new ones passed the context check")
        }
    }
}
