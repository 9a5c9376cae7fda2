// Fuzzes the JSON Lines and JSON readers behind the tools' inputs. The first byte picks the reader, the rest is the
// file: ecom-model/ecom-generate requests (ids, prompt), ecom-metrics requests (Rouge-L, set F1, entity F1,
// UniversalNER), instruction records, distillation passages, ecom-tokenizer encode/decode lines, evaluation
// predictions being resumed, and the shared data's EcomGPT task folders and UniversalNER files.
import EcomDistill
import EcomEval
import EcomInstruct
import EcomMetrics
import EcomModel
import EcomTokenizer
import Foundation
import FuzzSupport

/// A small byte-level BPE tokenizer for the encode/decode line readers.
let tokenizer: Tokenizer = {
    let json = #"""
    {"version":"1.0","added_tokens":[{"id":5,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
     "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
     "post_processor":null,"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
     "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,
              "fuse_unk":false,"byte_fallback":false,"ignore_merges":false,
              "vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"c":4},"merges":["a b"]}}
    """#
    do { return try Tokenizer(json: Data(json.utf8)) } catch { fatalError("the fixed tokenizer does not load: \(error)") }
}()

let readers = 13

@_cdecl("fuzz_jsonl_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ input: Data) {
    let (choice, data) = select(input, among: readers)
    let text = String(decoding: data, as: UTF8.self)
    switch choice {
    case 0: _ = try? ModelRequests.parse(data, source: "fuzz", field: .ids, vocabSize: 100)
    case 1: _ = try? ModelRequests.parse(data, source: "fuzz", field: .prompt, vocabSize: 100)
    case 2: _ = try? MetricsRequest.rougeL(text, source: "fuzz", flavor: .rouge, emptyHypothesis: .substituteError)
    case 3: _ = try? MetricsRequest.setF1(text, source: "fuzz")
    case 4: _ = try? MetricsRequest.entityF1(text, source: "fuzz")
    case 5: _ = try? MetricsRequest.uniner(text, source: "fuzz")
    case 6: _ = try? RecordCodec.decodeLines(data, name: "fuzz")
    case 7: _ = try? DistillPassages.read(data, name: "fuzz", limit: 100)
    case 8: _ = try? tokenizer.encodeJSONLines(data, source: "fuzz", addSpecialTokens: true)
    case 9: _ = try? tokenizer.decodeJSONLines(data, source: "fuzz", skipSpecialTokens: false)
    case 10:
        let dir = Scratch.write(data, to: PredictionStore.fileName, in: "predictions").deletingLastPathComponent()
        _ = try? PredictionStore.read(directory: dir)
    case 11: _ = try? UniversalNERSource.load(Scratch.write(data, to: "uniner.json"))
    default:
        // An EcomGPT task folder: meta-info.json and test.json split at the first NUL byte.
        let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let dir = Scratch.write(Data(parts[0]), to: "meta-info.json", in: "task").deletingLastPathComponent()
        Scratch.write(parts.count > 1 ? Data(parts[1]) : Data(), to: "test.json", in: "task")
        _ = try? EcomGPTTask.load(dir)
    }
}
