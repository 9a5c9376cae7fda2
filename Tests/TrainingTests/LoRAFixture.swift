// The parts of Tests/Fixtures/lora/lora_reference.json (scripts/reference/gen_lora.py: HF transformers + PEFT on
// torch) the LoRA tests read, for the tiny Llama and the tiny BLOOM.
import EcomModel
import EcomTestSupport
import Foundation

struct LoRAReference: Decodable {
    struct Batch: Decodable {
        var ids: [[Int32]]; var targets: [[Int32]]; var documents: [[UInt16]]
        var trainingBatch: TrainingBatch {
            TrainingBatch(ids: ids.flatMap { $0 }, targets: targets.flatMap { $0 }, documents: documents.flatMap { $0 },
                          batch: ids.count, length: ids[0].count)
        }
    }
    struct Grad: Decodable { var norm: Double; var head: [Float] }
    struct Expected: Decodable {
        var loss: Double; var count: Int; var lora_grads: [String: Grad]; var full_loss: Double; var full_grads: [String: Grad]
        var after_step_head: [String: [Float]]
    }
    struct LoRA: Decodable { var r: Int; var alpha: Double; var targets: [String] }
    struct AdamW: Decodable { var lr: Float; var beta1: Float; var beta2: Float; var eps: Float; var weight_decay: Float }
    struct Run: Decodable {
        var steps: Int; var lr: Double; var warmup_steps: Int; var weight_decay: Float; var clip: Float
        var beta1: Float; var beta2: Float; var eps: Float
        var batches: [Batch]; var losses: [Double]; var learning_rates: [Double]; var grad_norms_before_clip: [Double]
    }
    struct Logits: Decodable { var ids: [[Int32]]; var argmax: [[Int]]; var values: [[[Float]]]; var base_values: [[[Float]]] }
    struct Part: Decodable {
        var model: String; var adapter: String; var lora: LoRA; var batch: Batch; var expected: Expected; var adamw: AdamW
        var run: Run; var logits: Logits; var merged: [String: Grad]; var merged_values: [[[Float]]]
        var modelURL: URL { TestPaths.packageRoot.appendingPathComponent(model) }
        var adapterURL: URL { TestPaths.packageRoot.appendingPathComponent(adapter) }
    }
    var llama: Part
    var bloom: Part

    static let shared: LoRAReference = try! JSONDecoder().decode(
        LoRAReference.self, from: Data(contentsOf: TestPaths.fixture("lora/lora_reference.json")))
}
