// The comparison page (`ecom-eval compare --out FILE.html`): a self-contained, well-formed (XHTML) page with the paired
// scores table, per metric a chart of base and tuned bars with interval whiskers beside the differences with theirs,
// the tuned model's loss curves, and a few examples per task side by side.
import Foundation

public enum ComparisonReport {
    /// Colours of the two sides in the charts and the legend.
    public static let baseColor = "#7fa7d4", tunedColor = "#e8833a"
    /// Characters of a prompt shown (its end, where the question is).
    public static let promptTail = 600

    /// The page. `title` heads it; `notes` are the caller's lines, shown before the comparison's own.
    public static func html(_ c: Comparison, title: String, notes: [String]) -> String {
        let e = SVGCharts.escape
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        h += "<title>\(e(title))</title>\n<style>\n"
        h += """
            body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1500px; }
            table { border-collapse: collapse; }
            th, td { border: 1px solid #ccc; padding: 3px 7px; vertical-align: top; }
            th { background: #f4f4f4; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            tr.avg td { font-weight: bold; border-top: 2px solid #888; }
            span.ci { display: block; color: #666; font-size: 80%; font-weight: normal; }
            td.up { background: #e8f5e9; } td.down { background: #fdecea; }
            section { margin-top: 1.8em; }
            div.chart { margin-bottom: 1.5em; }
            ul.warnings li { color: #8a4b00; }
            table.examples { table-layout: fixed; width: 100%; margin-bottom: 1.2em; }
            table.examples td { font-size: 90%; overflow-wrap: anywhere; }
            table.examples pre { white-space: pre-wrap; margin: 0; font-family: inherit; max-height: 24em; overflow: auto; }
            details pre { font-family: monospace; font-size: 90%; background: #f8f8f8; padding: 4px; }
            summary { cursor: pointer; color: #345; }
            .mark { font-weight: bold; margin-right: 0.3em; }
            .correct .mark { color: #2e7d32; } .incorrect .mark { color: #c62828; }
            .empty { color: #999; font-style: italic; }

            """
        h += "</style>\n</head>\n<body>\n<h1>\(e(title))</h1>\n<ul class=\"notes\">\n"
        for n in notes + ownNotes(c) { h += "<li>\(e(n))</li>\n" }
        h += "</ul>\n"
        if !c.warnings.isEmpty {
            h += "<ul class=\"warnings\">\n" + c.warnings.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"
        }
        let rows = c.tasks + (c.ecomGPTAverage.map { [$0] } ?? [])
        let level = String(format: "%g%%", c.bootstrap.confidence * 100)
        h += "<section id=\"table\">\n<h2>Scores (percent; under each, its \(level) paired bootstrap interval)</h2>\n"
        h += table(rows, metrics: [.microF1, .rougeL], average: c.ecomGPTAverage != nil)
        let more = [ScoreMetric.macroF1, .cjkRougeL].filter { m in rows.contains { $0.base(m) != nil } }
        if !more.isEmpty {
            h += "<h3>Other metrics</h3>\n" + table(rows, metrics: more, average: c.ecomGPTAverage != nil)
        }
        h += "</section>\n<section id=\"charts\">\n<h2>Per metric</h2>\n"
        h += "<p>Left: base and tuned scores per task with their \(level) intervals as whiskers. Right: the difference tuned − base "
            + "in points with its paired interval (green: wholly above zero, red: wholly below).</p>\n"
        for m in ScoreMetric.allCases where rows.contains(where: { $0.base(m) != nil }) {
            let shown = rows.filter { $0.base(m) != nil || $0.tuned(m) != nil }
            let labels = shown.map(\.task)
            h += "<div class=\"chart\" id=\"chart-\(m.rawValue)\">"
            h += SVGCharts.pairedBars(title: EvalReport.chartTitle(m), labels: labels, series: [
                SVGCharts.BarSeries(name: "base", color: baseColor, values: shown.map { $0.base(m) }, intervals: shown.map { $0.intervals.base[m.rawValue] }),
                SVGCharts.BarSeries(name: "tuned", color: tunedColor, values: shown.map { $0.tuned(m) }, intervals: shown.map { $0.intervals.tuned[m.rawValue] }),
            ], difference: SVGCharts.DifferencePanel(title: "tuned − base (points)", values: shown.map { $0.difference(m) },
                                                    intervals: shown.map { $0.intervals.difference[m.rawValue] }))
            h += "</div>\n"
        }
        h += "</section>\n"
        if !c.training.isEmpty {
            h += "<section id=\"training\">\n<h2>Training loss of the tuned model</h2>\n<div>" + EvalReport.lossChart(c.training)
                + "</div>\n</section>\n"
        }
        let shownTasks = c.tasks.map(\.task).filter { !(c.examples[$0] ?? []).isEmpty }
        if !shownTasks.isEmpty {
            h += "<section id=\"examples\">\n<h2>Examples</h2>\n<p>The first examples of each task by id. ✓ / ✗: the answer equals the "
                + "gold answer after normalisation (case, white space, a final full stop); free-text generation is not marked.</p>\n"
            for task in shownTasks { h += examplesTable(task, c.examples[task]!) }
            h += "</section>\n"
        }
        return h + "</body>\n</html>\n"
    }

    /// The comparison's own notes: the directories, models, matched examples and the bootstrap.
    static func ownNotes(_ c: Comparison) -> [String] {
        func side(_ name: String, _ s: ComparisonSide) -> String {
            var t = "\(name): \(s.directory)"
            if let cfg = s.configuration {
                t += " (model \(cfg.model)"
                if let lora = cfg.lora { t += ", LoRA adapter \(lora)" }
                t += "; \(cfg.template) prompts, \(cfg.beams == 1 ? "greedy" : "\(cfg.beams) beams"), \(cfg.budgetSummary))"
            }
            return t
        }
        return [side("base", c.base), side("tuned", c.tuned),
                "examples compared: \(c.matched) (in both evaluations, matched by task and id)",
                "intervals: \(Bootstrap.describe(c.bootstrap, paired: true)); the same resampled examples for base, tuned and their difference"]
    }

    /// A scores table: per metric base, tuned and Δ columns, each value with its interval under it.
    static func table(_ rows: [PairedScores], metrics: [ScoreMetric], average: Bool) -> String {
        let e = SVGCharts.escape
        var h = "<table class=\"scores\">\n<thead><tr><th rowspan=\"2\">task</th><th rowspan=\"2\">type</th><th rowspan=\"2\">n</th>"
        for m in metrics { h += "<th colspan=\"3\">\(e(m.label))</th>" }
        h += "</tr>\n<tr>" + metrics.map { _ in "<th>base</th><th>tuned</th><th>Δ</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for (i, r) in rows.enumerated() {
            let isAverage = average && i == rows.count - 1
            h += "<tr\(isAverage ? " class=\"avg\"" : "")><td>\(e(r.task))</td><td>\(e(r.taskType))</td><td class=\"num\">\(r.count)</td>"
            for m in metrics {
                h += "<td class=\"num\">\(cell(r.base(m), r.intervals.base[m.rawValue]))</td>"
                h += "<td class=\"num\">\(cell(r.tuned(m), r.intervals.tuned[m.rawValue]))</td>"
                let d = r.intervals.difference[m.rawValue]
                let cls = d.map { $0.low > 0 ? " up" : $0.high < 0 ? " down" : "" } ?? ""
                let text = r.difference(m).map { String(format: "%+.2f", $0 * 100) } ?? "-"
                let ci = d.map { String(format: "<span class=\"ci\">[%+.2f, %+.2f]</span>", $0.low * 100, $0.high * 100) } ?? ""
                h += "<td class=\"num\(cls)\">\(text)\(ci)</td>"
            }
            h += "</tr>\n"
        }
        return h + "</tbody>\n</table>\n"
    }

    /// A value in percent with its interval under it.
    static func cell(_ v: Double?, _ ci: ScoreInterval?) -> String {
        guard let v else { return "-" }
        return EvalScoring.percent(v) + (ci.map { "<span class=\"ci\">\($0.percentText)</span>" } ?? "")
    }

    /// One task's examples: id, the prompt's end (collapsed), gold, base and tuned answers.
    static func examplesTable(_ task: String, _ examples: [ExamplePair]) -> String {
        let e = SVGCharts.escape
        var h = "<h3>\(e(task))</h3>\n<table class=\"examples\">\n"
        h += "<colgroup><col style=\"width: 5em\"/><col style=\"width: 31%\"/><col/><col/><col/></colgroup>\n"
        h += "<thead><tr><th>id</th><th>prompt</th><th>gold</th><th>base</th><th>tuned</th></tr></thead>\n<tbody>\n"
        func answer(_ s: String, _ correct: Bool?) -> String {
            let body = s.isEmpty ? "<span class=\"empty\">(empty)</span>" : "<pre>\(e(s))</pre>"
            guard let correct else { return "<td>\(body)</td>" }
            return "<td class=\"\(correct ? "correct" : "incorrect")\"><span class=\"mark\">\(correct ? "✓" : "✗")</span>\(body)</td>"
        }
        for x in examples {
            let chars = x.prompt.count
            let tail = chars > promptTail ? "…" + String(x.prompt.suffix(promptTail)) : x.prompt
            let label = chars > promptTail ? "prompt (\(chars) characters; the last \(promptTail))" : "prompt (\(chars) characters)"
            h += "<tr><td>\(e(x.id))</td><td><details><summary>\(label)</summary><pre>\(e(tail))</pre></details></td>"
            h += "<td><pre>\(e(x.reference))</pre></td>" + answer(x.base, x.baseCorrect) + answer(x.tuned, x.tunedCorrect) + "</tr>\n"
        }
        return h + "</tbody>\n</table>\n"
    }
}
