// Request parsing and validation of EcomOpenAI: every problem of a body is OpenAI's 400 naming the parameter.
import Foundation
import Testing
@testable import EcomOpenAI

@Suite struct OpenAIRequestTests {
    func chat(_ json: String) throws(OpenAI.APIError) -> OpenAI.ChatCompletionRequest {
        try OpenAI.ChatCompletionRequest.parse(Data(json.utf8))
    }

    func chatError(_ json: String) -> OpenAI.APIError? {
        do { _ = try chat(json); return nil } catch { return error }
    }

    func completionError(_ json: String) -> OpenAI.APIError? {
        do { _ = try OpenAI.CompletionRequest.parse(Data(json.utf8)); return nil } catch { return error }
    }

    @Test func parsesEveryField() throws {
        let r = try chat("""
            {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
             {"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]},
             {"role": "assistant", "content": null}],
             "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "stop": "###", "seed": 42, "stream": true, "n": 1,
             "stream_options": {"include_usage": true}, "logit_bias": {"50256": -100}, "user": "someone"}
            """)
        #expect(r.model == "m")
        #expect(r.messages == [.system("Be brief."), .user("Hello, world"), .assistant("")])
        #expect(r.maxTokens == 7 && r.temperature == 0.5 && r.topP == 0.9 && r.seed == 42 && r.stream == true && r.n == 1)
        #expect(r.stop == ["###"])
        #expect(r.streamOptions == OpenAI.StreamOptions(includeUsage: true))
    }

    @Test func optionalFieldsStayNilAndStopListsAreKept() throws {
        let r = try chat(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": ["a", "b"], "temperature": null}"#)
        #expect(r.maxTokens == nil && r.temperature == nil && r.topP == nil && r.seed == nil && r.stream == nil && r.n == nil)
        #expect(r.stop == ["a", "b"])
    }

    @Test func maxCompletionTokensStandsInForMaxTokens() throws {
        let r = try chat(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 12}"#)
        #expect(r.maxTokens == 12)
        let both = try chat(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 3, "max_completion_tokens": 12}"#)
        #expect(both.maxTokens == 3)
    }

    @Test func malformedJSONNamesThePosition() {
        let e = chatError("{\"model\": \"m\",\n \"messages\": [}")
        #expect(e?.status == 400)
        #expect(e?.type == "invalid_request_error")
        #expect(e?.param == nil && e?.code == nil)
        #expect(e?.message.hasPrefix("We could not parse the JSON body of your request") == true)
        // The '}' where a value should be is on line 2, column 15.
        #expect(e?.message.contains("line 2, column 15") == true, "\(e?.message ?? "")")
        let empty = chatError("")
        #expect(empty?.status == 400 && empty?.message.hasPrefix("We could not parse the JSON body of your request") == true)
    }

    @Test func bodyThatIsNotAnObject() {
        let e = chatError("[1, 2]")
        #expect(e?.status == 400 && e?.param == nil && e?.message == "The request body must be a JSON object.")
    }

    @Test(arguments: [
        (#"{"messages": [{"role": "user", "content": "x"}]}"#, "model"),
        (#"{"model": "m"}"#, "messages"),
        (#"{"model": "m", "messages": [{"content": "x"}]}"#, "messages[0].role"),
    ])
    func missingParameters(json: String, param: String) {
        let e = chatError(json)
        #expect(e?.status == 400)
        #expect(e?.param == param)
        #expect(e?.code == "missing_required_parameter")
        #expect(e?.message == "Missing required parameter: '\(param)'.")
    }

    @Test(arguments: [
        (#"{"model": 3, "messages": [{"role": "user", "content": "x"}]}"#, "model"),
        (#"{"model": "m", "messages": "hello"}"#, "messages"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "user", "content": 5}]}"#, "messages[1].content"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}"#, "max_tokens"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#, "temperature"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": 5}"#, "stop"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#, "stream"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": 1}}"#,
         "stream_options.include_usage"),
    ])
    func wrongTypes(json: String, param: String) {
        let e = chatError(json)
        #expect(e?.status == 400)
        #expect(e?.param == param, "\(String(describing: e))")
        #expect(e?.code == "invalid_type")
        #expect(e?.message.hasPrefix("Invalid type for '\(param)'") == true)
    }

    @Test func stopOfTheWrongTypeSaysWhatIsExpected() {
        let e = chatError(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": [1]}"#)
        #expect(e?.message == "Invalid type for 'stop': expected a string or an array of strings.")
    }

    @Test func badRoleAndNonTextPartsAreInvalidValues() {
        let role = chatError(#"{"model": "m", "messages": [{"role": "robot", "content": "x"}]}"#)
        #expect(role?.param == "messages[0].role" && role?.code == "invalid_value" && role?.status == 400)
        let image = chatError(#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#)
        #expect(image?.param == "messages[0].content" && image?.code == "invalid_value")
        #expect(image?.message.contains("image_url") == true)
    }

    @Test func emptyMessagesAndEmptyModel() {
        let e = chatError(#"{"model": "m", "messages": []}"#)
        #expect(e?.status == 400 && e?.param == "messages" && e?.code == "empty_array")
        let m = chatError(#"{"model": "", "messages": [{"role": "user", "content": "x"}]}"#)
        #expect(m?.param == "model")
    }

    @Test(arguments: [
        ("\"n\": 2", "n", "invalid_value"),
        ("\"n\": 0", "n", "invalid_value"),
        ("\"temperature\": 2.5", "temperature", "decimal_above_max_value"),
        ("\"temperature\": -0.1", "temperature", "decimal_below_min_value"),
        ("\"top_p\": 0", "top_p", "decimal_below_min_value"),
        ("\"top_p\": 1.5", "top_p", "decimal_above_max_value"),
        ("\"max_tokens\": 0", "max_tokens", "integer_below_min_value"),
        ("\"max_completion_tokens\": -3", "max_tokens", "integer_below_min_value"),
    ])
    func valuesOutOfRange(field: String, param: String, code: String) {
        let e = chatError(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "# + field + "}")
        #expect(e?.status == 400 && e?.type == "invalid_request_error")
        #expect(e?.param == param)
        #expect(e?.code == code)
    }

    @Test(arguments: ["\"n\": 1", "\"temperature\": 0", "\"temperature\": 2", "\"top_p\": 1", "\"max_tokens\": 1", "\"seed\": -5"])
    func valuesAtTheEdgesAreAccepted(field: String) {
        #expect(chatError(#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "# + field + "}") == nil)
    }

    @Test func completionPrompts() throws {
        let one = try OpenAI.CompletionRequest.parse(Data(#"{"model": "m", "prompt": "Once upon"}"#.utf8))
        #expect(one.prompt == "Once upon" && one.maxTokens == nil)
        let listed = try OpenAI.CompletionRequest.parse(Data(#"{"model": "m", "prompt": ["Once upon"], "max_tokens": 9, "stop": "\n"}"#.utf8))
        #expect(listed.prompt == "Once upon" && listed.maxTokens == 9 && listed.stop == ["\n"])
        #expect(OpenAI.CompletionRequest.defaultMaxTokens == 16)
    }

    @Test func completionPromptErrors() {
        let two = completionError(#"{"model": "m", "prompt": ["a", "b"]}"#)
        #expect(two?.param == "prompt" && two?.code == "invalid_value" && two?.status == 400)
        let none = completionError(#"{"model": "m", "prompt": []}"#)
        #expect(none?.param == "prompt" && none?.code == "invalid_value")
        let ids = completionError(#"{"model": "m", "prompt": [1, 2, 3]}"#)
        #expect(ids?.param == "prompt" && ids?.code == "invalid_type")
        let missing = completionError(#"{"model": "m"}"#)
        #expect(missing?.param == "prompt" && missing?.code == "missing_required_parameter")
        let n = completionError(#"{"model": "m", "prompt": "x", "n": 3}"#)
        #expect(n?.param == "n")
        let t = completionError(#"{"model": "m", "prompt": "x", "temperature": 9}"#)
        #expect(t?.param == "temperature" && t?.code == "decimal_above_max_value")
    }
}
