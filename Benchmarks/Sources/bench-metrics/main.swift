// bench-metrics: Rouge-L (the `rouge` package flavour) over the benchmark pairs; scripts/bench/metrics.sh compares
// it with the `rouge` package on the same pairs. Usage: bench-metrics PAIRS.jsonl
import BenchSupport
import EcomMetrics
import Foundation

startBenchmark()

let path = CommandLine.arguments.dropFirst().first ?? "pairs.jsonl"
guard let data = FileManager.default.contents(atPath: path) else { fatalError("bench-metrics: cannot read \(path)") }
var preds: [String] = [], refs: [String] = []
for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
    let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String]
    preds.append(obj["prediction"]!)
    refs.append(obj["reference"]!)
}
var avg = RougeScore(f: 0, p: 0, r: 0)
// A fresh scorer each run, so that token interning is timed too.
let seconds = try medianSeconds(warmup: 2, iterations: 9) {
    avg = try RougeL(flavor: .rouge).score(predictions: preds, references: refs).average
}
emit(bench: "metrics", case: "rouge-l 6000 pairs (rouge package flavor)", value: Double(preds.count) / seconds,
     unit: "pairs/s", higherIsBetter: true, extra: ["ours_f": avg.f, "pairs": preds.count])
