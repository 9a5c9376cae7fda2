// DIR/report.html: a self-contained, well-formed (XHTML) page with the results table (with bootstrap intervals when
// computed), a bar chart per metric (intervals as whiskers) and, when the model directory has the trainer's
// metrics.jsonl, the training and validation loss curves.
import Foundation

/// One line of a trained model directory's metrics.jsonl (`{"step", "split", "loss", ...}`).
public struct TrainingMetric: Sendable, Equatable {
    public var step: Double
    public var split: String
    public var loss: Double
}

public enum EvalReport {
    public static let fileName = "report.html"

    /// Reads `modelDir/metrics.jsonl` when present; lines that are not objects with numeric "step" and "loss" are skipped
    /// (the trainer may be writing the last one).
    public static func trainingMetrics(modelDirectory dir: URL) -> [TrainingMetric] {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("metrics.jsonl")) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let step = (o["step"] as? NSNumber)?.doubleValue, let loss = (o["loss"] as? NSNumber)?.doubleValue else { return nil }
            return TrainingMetric(step: step, split: o["split"] as? String ?? "train", loss: loss)
        }
    }

    /// The page. `title` heads it; `notes` are lines shown under the title (model, settings).
    public static func html(title: String, notes: [String], rows: [TaskScoreRow], average: TaskScoreRow?,
                            training: [TrainingMetric]) -> String {
        let e = SVGCharts.escape
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        h += "<title>\(e(title))</title>\n<style>\n"
        h += "body { font-family: sans-serif; margin: 2em; color: #222; }\ntable { border-collapse: collapse; }\n"
        h += "th, td { border: 1px solid #ccc; padding: 3px 8px; }\ntd.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
        h += "tr.avg td { font-weight: bold; }\nsection { margin-top: 1.5em; }\nspan.ci { color: #666; font-size: 85%; font-weight: normal; }\n</style>\n</head>\n<body>\n"
        h += "<h1>\(e(title))</h1>\n<ul>\n" + notes.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"
        h += "<section id=\"table\">\n<h2>Scores (percent)</h2>\n<table>\n<thead><tr><th>task</th><th>type</th><th>n</th><th>micro-F1</th><th>macro-F1</th><th>Rouge-L</th><th>CJK Rouge-L</th></tr></thead>\n<tbody>\n"
        for (r, cls) in rows.map({ ($0, "") }) + (average.map { [($0, " class=\"avg\"")] } ?? []) {
            h += "<tr\(cls)><td>\(e(r.task))</td><td>\(e(r.taskType))</td><td class=\"num\">\(r.count)</td>"
            for m in ScoreMetric.allCases { h += "<td class=\"num\">\(cell(r, m))</td>" }
            h += "</tr>\n"
        }
        h += "</tbody>\n</table>\n</section>\n"
        h += "<section id=\"charts\">\n<h2>Per metric</h2>\n"
        if rows.contains(where: { $0.intervals != nil }) { h += "<p>Whiskers: the bootstrap intervals of the table.</p>\n" }
        for m in ScoreMetric.allCases where rows.contains(where: { m.value($0) != nil }) {
            h += "<div>" + SVGCharts.bars(title: chartTitle(m), labels: rows.map(\.task), values: rows.map(m.value),
                                          intervals: rows.map { $0.intervals?[m.rawValue] }) + "</div>\n"
        }
        h += "</section>\n"
        if !training.isEmpty {
            h += "<section id=\"training\">\n<h2>Training loss</h2>\n<div>" + lossChart(training) + "</div>\n</section>\n"
        }
        return h + "</body>\n</html>\n"
    }

    /// The loss curves: each step's training loss (faint), its exponential moving average, and the validation loss.
    static func lossChart(_ training: [TrainingMetric]) -> String {
        let train = training.filter { $0.split == "train" }.map { ($0.step, $0.loss) }
        let validation = training.filter { $0.split == "validation" }.map { ($0.step, $0.loss) }
        let smoothed = zip(train.map(\.0), smoothedLosses(train.map(\.1))).map { ($0, $1) }
        return SVGCharts.lines(title: "loss per step", xLabel: "step", yLabel: "loss",
                               series: [("train", "#9fb9dd", train), ("train, smoothed (EMA 0.9)", "#2f5f9e", smoothed),
                                        ("validation", "#d9534f", validation)])
    }

    /// An exponential moving average with weight `weight` on the past, debiased for its start as TensorBoard's
    /// scalar smoothing is (the average over the first values divided by 1 - weight^n); non-finite values are
    /// carried over unsmoothed and left out of the average.
    static func smoothedLosses(_ values: [Double], weight: Double = 0.9) -> [Double] {
        var average = 0.0, n = 0
        return values.map { v in
            guard v.isFinite else { return v }
            average = weight * average + (1 - weight) * v
            n += 1
            return average / (1 - pow(weight, Double(n)))
        }
    }

    /// A chart's title for a metric ("Rouge-L F (rouge package)").
    static func chartTitle(_ m: ScoreMetric) -> String {
        switch m {
        case .microF1: return "micro-F1"
        case .macroF1: return "macro-F1"
        case .rougeL: return "Rouge-L F (rouge package)"
        case .cjkRougeL: return "CJK-aware Rouge-L F"
        }
    }

    /// A table cell's content: the value in percent and, when the row has one, its interval in a smaller grey span.
    static func cell(_ r: TaskScoreRow, _ m: ScoreMetric) -> String {
        let v = EvalScoring.percent(m.value(r))
        guard m.value(r) != nil, let ci = r.intervals?[m.rawValue] else { return v }
        return v + " <span class=\"ci\">\(ci.percentText)</span>"
    }
}
