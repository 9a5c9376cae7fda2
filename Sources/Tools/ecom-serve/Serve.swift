// ecom-serve: an OpenAI-compatible HTTP server (chat/completions, completions, models, health) for a BLOOM or Llama
// model, with continuous batching; EcomServe answers, Hummingbird carries the bytes.
import ArgumentParser
import EcomLoader
import EcomOpenAI
import EcomServe
import EcomTensor
import Foundation
import Hummingbird

@main
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-serve",
        abstract: "Serve a model over OpenAI's HTTP API: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health.",
        discussion: """
        Concurrent requests are decoded together (continuous batching): up to --max-batch sequences in one forward \
        step, joining and leaving as they start and finish; up to --max-queue more wait, and beyond that requests get \
        429. Newcomers are prefilled together, up to --prefill-tokens prompt tokens per step; with --prefill-tokens 1 \
        each is prefilled alone and greedy requests (temperature 0) give ecom-generate's tokens bit for bit, whatever \
        arrives with them (batched products round differently). Clients take the base URL \
        http://HOST:PORT/v1 (the openai package's base_url). Stop with Ctrl-C.
        """)
    @Option(help: "Model: an HF directory (config.json, safetensors, tokenizer.json) or a .gguf file.") var model: String
    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory merged into the model's weights.", valueName: "dir")) var lora: String?
    @Option(help: "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port, printed at start).") var port = 8080
    @Option(help: "Require 'Authorization: Bearer KEY' on every request but /health.") var apiKey: String?
    @Option(name: .customLong("api-key-env"), help: ArgumentHelp("Read the API key from this environment variable.", valueName: "var")) var apiKeyEnv: String?
    @Option(help: "Sequences decoded together in one step.") var maxBatch = 16
    @Option(help: "Requests waiting for a slot before 429.") var maxQueue = 64
    @Option(help: "Prompt tokens of newcomers prefilled together in one step (1: each prompt alone, so greedy tokens never depend on what else arrives).") var prefillTokens = 4096
    @Option(help: "Largest request body in bytes (413 beyond).") var maxBody = 1 << 20
    @Option(help: "Prompt plus completion tokens at most per request (400 context_length_exceeded beyond).") var context = 2048
    @Option(help: "The model id listed by /v1/models and named in responses (default: the model file's name).") var modelName: String?
    @Option(help: "Chat template: chatml or plain (default: recognised from the model).") var template: String?
    @Option(help: "Weights in memory: native (GGUF blocks kept), f32, f16 or bf16 (default: f32 for directories, native for GGUF).") var weights: String?
    @Option(help: "Close a connection that has sent no complete request part for this many seconds (a client that connects and stalls, or sends its headers a byte at a time); 0: never.") var idleTimeout = 60
    @Option(help: "Compute threads (0: the machine's cores).") var threads = 0
    @Option(help: ArgumentHelp(MatmulPrecision.optionHelp)) var precision = "f32"

    /// OpenBLAS's kernels are chosen for this CPU (re-executing once with OPENBLAS_CORETYPE when it fell back to generic
    /// ones), then the arguments are parsed and the command run.
    static func main() async {
        BLASCore.reexecWithBetterCoreIfNeeded()
        await main(nil)
    }

    func run() async throws {
        guard maxBatch >= 1, maxQueue >= 0, maxBody >= 1, prefillTokens >= 1, context >= 2, idleTimeout >= 0 else {
            throw ValidationError("--max-batch, --max-body, --prefill-tokens must be at least 1, --max-queue and --idle-timeout not negative, --context at least 2")
        }
        if apiKey != nil && apiKeyEnv != nil { throw ValidationError("give --api-key or --api-key-env, not both") }
        var key = apiKey
        if let name = apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ValidationError("--api-key-env \(name): the variable is not set")
            }
            key = value
        }
        try MatmulPrecision.apply(option: precision)
        if threads > 0 { ComputeThreads.count = threads }
        let url = URL(fileURLWithPath: model)
        log("ecom-serve: loading \(model)\(lora.map { " with adapter \($0)" } ?? "")")
        let bundle = try ModelBundle.load(url, precision: try ModelBundle.weights(named: weights), template: try ModelBundle.template(named: template),
                                          lora: lora.map { URL(fileURLWithPath: $0) })
        let name = modelName ?? url.deletingPathExtension().lastPathComponent
        let engine = BatchEngine(model: bundle.model, maxBatch: maxBatch, maxQueue: maxQueue, prefillTokens: prefillTokens)
        let service = try OpenAIService(bundle: bundle, engine: engine,
                                        options: ServeOptions(modelName: name, apiKey: key, maxBodyBytes: maxBody, contextLength: context))
        let limit = maxBody
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await Self.respond(request, service: service, maxBody: limit)
        }
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: idleTimeout > 0 ? .seconds(Int64(idleTimeout)) : nil)),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "ecom-serve"),
            onServerRunning: { channel in
                let address = channel.localAddress?.description ?? "\(host):\(port)"
                log("ecom-serve: \(name) (\(bundle.model.architecture), \(bundle.model.parameterCount) parameters) at \(address); base URL http://\(host):\(channel.localAddress?.port ?? port)/v1")
            })
        try await app.runService()
        engine.shutDown()
    }

    /// One HTTP request through the service: the body read up to the limit (413 beyond), generation cancelled when
    /// the client goes away, streams written as server-sent events. Every response says `Connection: close`:
    /// Hummingbird closes the connection after a request read with `consumeWithCancellationOnInboundClose` (so that
    /// it can watch the inbound side), and a client that kept the connection for its next request (the openai
    /// client does) found it closed part of the time ("Server disconnected without sending a response").
    static func respond(_ request: Request, service: OpenAIService, maxBody: Int) async throws -> Response {
        let method = request.method.rawValue, path = request.uri.path
        let auth = request.headers[.authorization]
        let reply: ServiceReply = try await request.body.consumeWithCancellationOnInboundClose { body in
            let bytes: ByteBuffer
            do { bytes = try await body.collect(upTo: maxBody) } catch {
                let e = OpenAI.APIError.tooLarge("The request body is larger than this server's limit of \(maxBody) bytes.")
                return ServiceReply.json(status: e.status, body: e.body())
            }
            return await service.handle(method: method, path: path, authorization: auth, body: Data(buffer: bytes))
        }
        switch reply {
        case .json(let status, let body):
            return Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json", .connection: "close"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .events(let events):
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close"],
                            body: ResponseBody { writer in
                                // A write to a client that went away throws: leaving the loop ends the stream, which
                                // cancels the generation and frees its slot.
                                for await chunk in events { try await writer.write(ByteBuffer(bytes: chunk)) }
                                try await writer.finish(nil)
                            })
        }
    }
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
