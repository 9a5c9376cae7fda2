// A scripted HTTP transport for tests: no sockets; each request is answered by a closure given the request and its
// 0-based number, and every request is recorded.
import EcomOpenAI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class FakeTransport: HTTPTransport, @unchecked Sendable {
    struct Reply {
        var status: Int
        var headers: [String: String] = [:]
        var body: Data

        static func json(_ value: some Encodable, status: Int = 200, headers: [String: String] = [:]) -> Reply {
            Reply(status: status, headers: headers, body: OpenAI.json(value))
        }
        static func error(_ e: OpenAI.APIError, headers: [String: String] = [:]) -> Reply {
            Reply(status: e.status, headers: headers, body: e.body())
        }
        static func text(_ s: String, status: Int = 200) -> Reply { Reply(status: status, body: Data(s.utf8)) }
    }

    private let lock = NSLock()
    private var recorded: [URLRequest] = []
    private let handler: @Sendable (URLRequest, Int) throws -> Reply

    private let delay: @Sendable (Int) -> Double

    /// - Parameter delay: seconds to wait before answering request n (to make answers arrive out of order).
    init(delay: @escaping @Sendable (Int) -> Double = { _ in 0 }, _ handler: @escaping @Sendable (URLRequest, Int) throws -> Reply) {
        self.handler = handler; self.delay = delay
    }

    var requests: [URLRequest] { lock.lock(); defer { lock.unlock() }; return recorded }
    var count: Int { requests.count }

    func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let n: Int = { lock.lock(); defer { lock.unlock() }; recorded.append(request); return recorded.count - 1 }()
        let wait = delay(n)
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        let r = try handler(request, n)
        let head = HTTPURLResponse(url: request.url!, statusCode: r.status, httpVersion: "HTTP/1.1", headerFields: r.headers)!
        return (r.body, head)
    }
}

/// A chat completion answering `content`.
func completion(_ content: String, finish: String = "stop") -> OpenAI.ChatCompletion {
    OpenAI.ChatCompletion(id: "chatcmpl-test", created: 1, model: "teacher", choices: [.init(message: .assistant(content), finishReason: finish)],
                          usage: .init(promptTokens: 10, completionTokens: 5))
}

/// Milliseconds of back-off, so that retry tests run fast.
func quickRetry(_ attempts: Int) -> RetryPolicy {
    RetryPolicy(maxAttempts: attempts, initialDelay: 0.001, maxDelay: 0.005, multiplier: 2, jitter: 0.25)
}
