// A small OpenAI client: non-streaming chat/completions, completions and models over a pluggable HTTP transport
// (URLSession by default), with retries and exponential back-off with jitter, honouring Retry-After, as the `openai`
// Python client retries (408, 429, 5xx, timeouts, connection errors).
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// When and how long to retry.
///
/// The delay before attempt k + 1 (k = 1, 2, ...) is `min(maxDelay, initialDelay · multiplier^(k-1))`, scaled by a
/// uniform factor in [1 − jitter, 1 + jitter]; a `Retry-After` (or `retry-after-ms`) header replaces it, up to
/// `maxRetryAfter`. Retried: HTTP 408, 429, 500, 502, 503, 504, timeouts, connection failures and 200 responses
/// whose body is not the expected JSON (a proxy's error page, a torn body). Never retried: other statuses (400, 401,
/// 403, 404, 413, ...), which the same request would meet again.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all (1: no retry).
    public var maxAttempts: Int
    public var initialDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var multiplier: Double
    /// Relative jitter: 0.25 draws the delay from [0.75 d, 1.25 d].
    public var jitter: Double
    /// The longest `Retry-After` honoured (a longer one is cut to this).
    public var maxRetryAfter: TimeInterval

    public init(maxAttempts: Int = 6, initialDelay: TimeInterval = 0.5, maxDelay: TimeInterval = 20, multiplier: Double = 2.0,
                jitter: Double = 0.25, maxRetryAfter: TimeInterval = 120) {
        self.maxAttempts = max(1, maxAttempts); self.initialDelay = max(0, initialDelay); self.maxDelay = max(0, maxDelay)
        self.multiplier = max(1, multiplier); self.jitter = min(1, max(0, jitter)); self.maxRetryAfter = max(0, maxRetryAfter)
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Statuses worth retrying.
    public static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    /// The delay after failed attempt `attempt` (1-based); `unit` is a uniform draw in [0, 1) for the jitter.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, unit: Double) -> TimeInterval {
        if let r = retryAfter { return min(max(0, r), maxRetryAfter) }
        let base = min(maxDelay, initialDelay * pow(multiplier, Double(max(0, attempt - 1))))
        return max(0, base * (1 + jitter * (2 * unit - 1)))
    }
}

/// Sends one HTTP request. The default is ``URLSessionTransport``; tests inject a fake one.
public protocol HTTPTransport: Sendable {
    /// The response body and head; throws for transport failures (a `URLError` for timeouts and connection errors).
    func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse)
}

/// URLSession (FoundationNetworking on Linux).
public struct URLSessionTransport: HTTPTransport {
    public let session: URLSession
    public init(session: URLSession = .shared) { self.session = session }

    /// A session of its own whose idle and total timeouts are `timeout` seconds. (`URLSession.shared` waits at most
    /// 60 s for data whatever a request's `timeoutInterval` says, on Linux at least: a slow teacher, a CPU model
    /// writing a long answer, timed out there and was asked again and again.)
    public init(timeout: TimeInterval) {
        let c = URLSessionConfiguration.default
        c.timeoutIntervalForRequest = timeout
        c.timeoutIntervalForResource = timeout
        session = URLSession(configuration: c)
    }

    public func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        return (data, http)
    }
}

/// A failed call after its attempts: the URL, what went wrong last and how many attempts were made.
public struct OpenAIClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// An HTTP error status (`status`, and `apiError` when the body was OpenAI's error object).
        case http
        /// The connection could not be made or broke.
        case connection
        /// No answer within the timeout.
        case timeout
        /// Status 200 with a body that is not the expected JSON.
        case invalidResponse
    }

    public var url: URL
    public var kind: Kind
    public var status: Int?
    public var apiError: OpenAI.APIError?
    public var attempts: Int
    /// The last failure in words (the API error's message, the transport's error, the decoding problem).
    public var message: String

    public init(url: URL, kind: Kind, status: Int?, apiError: OpenAI.APIError?, attempts: Int, message: String) {
        self.url = url; self.kind = kind; self.status = status; self.apiError = apiError; self.attempts = attempts
        self.message = message
    }

    /// Whether the last failure was of a kind that is retried (so the attempts ran out).
    public var wasRetryable: Bool {
        switch kind {
        case .http: return status.map { RetryPolicy.retryableStatuses.contains($0) } ?? false
        case .connection, .timeout, .invalidResponse: return true
        }
    }

    /// "http://127.0.0.1:8080/v1/chat/completions: HTTP 500 after 6 attempts: message", or
    /// "...: cannot connect (Could not connect to the server.) after 6 attempts".
    public var description: String {
        let n = "after \(attempts) attempt\(attempts == 1 ? "" : "s")"
        switch kind {
        case .http: return "\(url.absoluteString): HTTP \(status ?? 0) \(n): \(message)"
        case .connection: return "\(url.absoluteString): cannot connect (\(message)) \(n)"
        case .timeout: return "\(url.absoluteString): timed out (\(message)) \(n)"
        case .invalidResponse: return "\(url.absoluteString): invalid response (\(message)) \(n)"
        }
    }
}

/// A calls-OpenAI-compatible-servers client.
///
/// ```swift
/// let client = OpenAIClient(baseURL: URL(string: "http://127.0.0.1:8080/v1")!)
/// let answer = try await client.chat(.init(model: "m", messages: [.user("Hi")], maxTokens: 32))
/// print(answer.choices[0].message.content)
/// ```
public final class OpenAIClient: Sendable {
    /// A retry about to happen: the attempt that failed (1-based), the failure and the wait before the next one.
    public struct RetryEvent: Sendable {
        public var url: URL
        public var attempt: Int
        public var failure: OpenAIClientError
        public var delay: TimeInterval
    }

    /// The API root as the `openai` Python client takes it (`http://127.0.0.1:8080/v1`); paths are appended to it.
    public let baseURL: URL
    public let apiKey: String?
    public let timeout: TimeInterval
    public let retry: RetryPolicy
    public let transport: any HTTPTransport
    private let onRetry: (@Sendable (RetryEvent) -> Void)?

    /// - Parameters:
    ///   - timeout: seconds for one attempt (URLRequest's `timeoutInterval`).
    ///   - onRetry: told of each retry before its wait (progress logs).
    public init(baseURL: URL, apiKey: String? = nil, timeout: TimeInterval = 600, retry: RetryPolicy = RetryPolicy(),
                transport: (any HTTPTransport)? = nil, onRetry: (@Sendable (RetryEvent) -> Void)? = nil) {
        self.baseURL = baseURL; self.apiKey = apiKey; self.timeout = timeout; self.retry = retry
        self.transport = transport ?? URLSessionTransport(timeout: timeout)
        self.onRetry = onRetry
    }

    /// `POST chat/completions` without streaming (`stream` and `stream_options` are cleared).
    public func chat(_ r: OpenAI.ChatCompletionRequest) async throws -> OpenAI.ChatCompletion {
        var r = r
        r.stream = nil
        r.streamOptions = nil
        let c: OpenAI.ChatCompletion = try await call("chat/completions", body: OpenAI.json(r)) { (c: OpenAI.ChatCompletion) in
            c.choices.isEmpty ? "a chat completion without choices" : nil
        }
        return c
    }

    /// `POST completions` without streaming.
    public func complete(_ r: OpenAI.CompletionRequest) async throws -> OpenAI.Completion {
        var r = r
        r.stream = nil
        r.streamOptions = nil
        return try await call("completions", body: OpenAI.json(r)) { (c: OpenAI.Completion) in
            c.choices.isEmpty ? "a completion without choices" : nil
        }
    }

    /// `GET models`.
    public func models() async throws -> OpenAI.ModelList {
        try await call("models", body: nil) { (_: OpenAI.ModelList) in nil }
    }

    /// The URL of an endpoint path.
    public func url(_ path: String) -> URL { baseURL.appendingPathComponent(path) }

    /// One call with retries. `check` rejects a decoded body that is still unusable (returns the reason).
    func call<T: Decodable>(_ path: String, body: Data?, check: (T) -> String?) async throws -> T {
        let url = url(path)
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = body == nil ? "GET" : "POST"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let failure: OpenAIClientError
            var retryAfter: TimeInterval?
            do {
                let (data, response) = try await transport.send(request)
                if response.statusCode == 200 {
                    let reason: String
                    do {
                        let value = try JSONDecoder().decode(T.self, from: data)
                        guard let problem = check(value) else { return value }
                        reason = problem
                    } catch {
                        reason = "not a \(T.self) body: \(Self.describe(decoding: error)); body starts \(Self.snippet(data))"
                    }
                    failure = OpenAIClientError(url: url, kind: .invalidResponse, status: 200, apiError: nil, attempts: attempt,
                                                message: reason)
                } else {
                    let api = OpenAI.APIError.decode(status: response.statusCode, body: data)
                    failure = OpenAIClientError(url: url, kind: .http, status: response.statusCode, apiError: api,
                                                attempts: attempt, message: api?.message ?? Self.snippet(data))
                    retryAfter = Self.retryAfter(response)
                }
            } catch let e as URLError {
                if e.code == .cancelled { throw CancellationError() }
                let kind: OpenAIClientError.Kind = e.code == .timedOut ? .timeout : .connection
                let text = kind == .timeout ? "\(Self.seconds(timeout)) s" : e.localizedDescription
                failure = OpenAIClientError(url: url, kind: kind, status: nil, apiError: nil, attempts: attempt, message: text)
                if !Self.retryable(e) { throw failure }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = OpenAIClientError(url: url, kind: .connection, status: nil, apiError: nil, attempts: attempt,
                                            message: String(describing: error))
            }
            guard failure.wasRetryable, attempt < retry.maxAttempts else { throw failure }
            let wait = retry.delay(afterAttempt: attempt, retryAfter: retryAfter, unit: Double.random(in: 0..<1, using: &generator))
            onRetry?(RetryEvent(url: url, attempt: attempt, failure: failure, delay: wait))
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        }
    }

    /// Transport errors that a new attempt may cure (all but a bad URL and the like).
    static func retryable(_ e: URLError) -> Bool {
        switch e.code {
        case .badURL, .unsupportedURL, .userAuthenticationRequired, .fileDoesNotExist: return false
        default: return true
        }
    }

    /// `retry-after-ms` (milliseconds, as OpenAI sends it) or `Retry-After` (seconds; an HTTP date is not read).
    static func retryAfter(_ response: HTTPURLResponse) -> TimeInterval? {
        if let ms = response.value(forHTTPHeaderField: "retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           ms >= 0 { return ms / 1000 }
        if let s = response.value(forHTTPHeaderField: "Retry-After").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           s >= 0 { return s }
        return nil
    }

    static func snippet(_ data: Data, limit: Int = 200) -> String {
        let text = String(decoding: data.prefix(limit), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return "<empty body>" }
        return "'" + text + (data.count > limit ? "…'" : "'")
    }

    static func describe(decoding error: any Error) -> String {
        guard let e = error as? DecodingError else { return String(describing: error) }
        switch e {
        case let .keyNotFound(k, ctx): return "missing '\(OpenAI.APIError.path(ctx.codingPath + [k]))'"
        case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx):
            return "wrong type at '\(OpenAI.APIError.path(ctx.codingPath))'"
        case let .dataCorrupted(ctx):
            return ctx.underlyingError.map { OpenAI.APIError.underlyingText($0) } ?? ctx.debugDescription
        @unknown default: return String(describing: e)
        }
    }

    static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? String(Int(t)) : String(format: "%.3g", t)
    }
}
