// Inline SVG charts for the reports: horizontal bars (one chart per metric, with interval whiskers), paired bars
// (base and tuned per task, each with its whisker, and beside them the differences with their intervals around zero),
// and a line chart (the training loss).
import Foundation

public enum SVGCharts {
    /// Escapes text for XML content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" { out += " " } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    static func number(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The width of a label column for `labels` at 12px (about 6.7px per Latin character, 12px per CJK one), between
    /// 120 and 480 pixels; longer labels are cut with "…" by ``fit(_:width:)``.
    static func labelColumn(_ labels: [String]) -> Double {
        min(480, max(120, (labels.map(textWidth).max() ?? 0) + 12))
    }

    /// An estimate of a 12px sans-serif text's width.
    static func textWidth(_ s: String) -> Double {
        s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 12 : 6.7) }
    }

    /// The label cut to fit `width` pixels (with "…").
    static func fit(_ s: String, width: Double) -> String {
        guard textWidth(s) > width else { return s }
        var out = "", w = 6.7
        for ch in s.unicodeScalars {
            w += ch.value >= 0x2E80 ? 12 : 6.7
            if w > width { break }
            out.unicodeScalars.append(ch)
        }
        return out + "…"
    }

    /// An interval whisker: a horizontal line from `x0` to `x1` at `y` with vertical end ticks of height `tick`.
    static func whisker(_ x0: Double, _ x1: Double, y: Double, tick: Double, color: String = "#222") -> String {
        let a = number(min(x0, x1)), b = number(max(x0, x1)), t0 = number(y - tick / 2), t1 = number(y + tick / 2), yy = number(y)
        return "<g class=\"whisker\" stroke=\"\(color)\" stroke-width=\"1.3\">"
            + "<line x1=\"\(a)\" y1=\"\(yy)\" x2=\"\(b)\" y2=\"\(yy)\"/>"
            + "<line x1=\"\(a)\" y1=\"\(t0)\" x2=\"\(a)\" y2=\"\(t1)\"/>"
            + "<line x1=\"\(b)\" y1=\"\(t0)\" x2=\"\(b)\" y2=\"\(t1)\"/></g>"
    }

    /// Vertical grid lines with percent labels at 0, 25, 50, 75 and 100 % of a [0, 1] axis starting at `x`.
    static func percentGrid(x: Double, width: Double, top: Double, bottom: Double) -> String {
        var s = ""
        for k in 0...4 {
            let gx = number(x + width * Double(k) / 4)
            s += "<line x1=\"\(gx)\" y1=\"\(number(top))\" x2=\"\(gx)\" y2=\"\(number(bottom))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(gx)\" y=\"\(number(bottom + 12))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#666\">\(k * 25)</text>"
        }
        return s
    }

    /// A horizontal bar chart of `values` in [0, 1] (nil bars are drawn as "n/a"), labelled, titled; with `intervals`
    /// (one per value, nil where none) each bar carries its interval as a whisker.
    public static func bars(title: String, labels: [String], values: [Double?], intervals: [ScoreInterval?] = []) -> String {
        let rowHeight = 18.0, labelWidth = labelColumn(labels), barWidth = 300.0, top = 24.0
        let height = top + rowHeight * Double(labels.count) + 8
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(labelWidth + barWidth + 60))\" height=\"\(number(height))\" role=\"img\">"
        s += "<title>\(escape(title))</title>"
        s += "<text x=\"0\" y=\"15\" font-weight=\"bold\">\(escape(title))</text>"
        for (i, label) in labels.enumerated() {
            let y = top + rowHeight * Double(i)
            s += "<text x=\"\(number(labelWidth - 6))\" y=\"\(number(y + 13))\" text-anchor=\"end\" font-size=\"12\">\(escape(fit(label, width: labelWidth - 8)))</text>"
            s += "<rect x=\"\(number(labelWidth))\" y=\"\(number(y + 2))\" width=\"\(number(barWidth))\" height=\"\(number(rowHeight - 4))\" fill=\"#eee\"/>"
            if let v = values[i] {
                let w = max(0, min(1, v)) * barWidth
                s += "<rect x=\"\(number(labelWidth))\" y=\"\(number(y + 2))\" width=\"\(number(w))\" height=\"\(number(rowHeight - 4))\" fill=\"#4a7ebb\"/>"
                if i < intervals.count, let ci = intervals[i] {
                    s += whisker(labelWidth + max(0, min(1, ci.low)) * barWidth, labelWidth + max(0, min(1, ci.high)) * barWidth,
                                 y: y + rowHeight / 2, tick: rowHeight - 8)
                }
                s += "<text x=\"\(number(labelWidth + barWidth + 4))\" y=\"\(number(y + 13))\" font-size=\"12\">\(String(format: "%.1f", v * 100))</text>"
            } else {
                s += "<text x=\"\(number(labelWidth + barWidth + 4))\" y=\"\(number(y + 13))\" font-size=\"12\">n/a</text>"
            }
        }
        return s + "</svg>"
    }

    /// One series of ``pairedBars(title:labels:series:)``: a name for the legend, a fill colour, a value in [0, 1] per
    /// label (nil: "n/a") and its interval (nil: no whisker).
    public struct BarSeries: Sendable {
        public var name: String
        public var color: String
        public var values: [Double?]
        public var intervals: [ScoreInterval?]
        public init(name: String, color: String, values: [Double?], intervals: [ScoreInterval?]) {
            self.name = name; self.color = color; self.values = values; self.intervals = intervals
        }
    }

    /// The right-hand panel of ``pairedBars(title:labels:series:difference:)``: per label a difference (in [-1, 1]) and
    /// its interval.
    public struct DifferencePanel: Sendable {
        public var title: String
        public var values: [Double?]
        public var intervals: [ScoreInterval?]
        public init(title: String, values: [Double?], intervals: [ScoreInterval?]) {
            self.title = title; self.values = values; self.intervals = intervals
        }
    }

    /// Grouped horizontal bars on a 0-100 % axis: per label one thin bar per series (base and tuned), each with its
    /// interval as a whisker (a line with end ticks at the bar's middle) and its value at the right; a legend under
    /// the title. With `difference`, a second panel on the same rows draws each difference as a dot with its interval's
    /// whisker around a zero line (symmetric axis, at least ±5 points; green when the interval is wholly above zero, red
    /// when wholly below, else grey) and writes it with its interval.
    public static func pairedBars(title: String, labels: [String], series: [BarSeries], difference: DifferencePanel? = nil) -> String {
        let barHeight = 11.0, gap = 2.0, groupGap = 9.0, top = 46.0, barWidth = 320.0, valueWidth = 44.0
        let labelWidth = labelColumn(labels)
        let groupHeight = Double(series.count) * (barHeight + gap) - gap + groupGap
        let plotBottom = top + groupHeight * Double(labels.count) - groupGap + 4
        let diffLeft = labelWidth + barWidth + valueWidth + 24, diffWidth = 240.0, diffText = 140.0
        let width = difference == nil ? labelWidth + barWidth + valueWidth : diffLeft + diffWidth + diffText
        let height = plotBottom + 18
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"paired-bars\" width=\"\(number(width))\" height=\"\(number(height))\" role=\"img\">"
        s += "<title>\(escape(title))</title><text x=\"0\" y=\"15\" font-weight=\"bold\">\(escape(title))</text>"
        var lx = 0.0
        for ser in series {
            s += "<rect class=\"legend\" x=\"\(number(lx))\" y=\"24\" width=\"12\" height=\"12\" fill=\"\(escape(ser.color))\"/>"
            s += "<text x=\"\(number(lx + 16))\" y=\"34\" font-size=\"12\">\(escape(ser.name))</text>"
            lx += 16 + textWidth(ser.name) + 18
        }
        s += "<text x=\"\(number(lx))\" y=\"34\" font-size=\"11\" fill=\"#666\">whiskers: 95% intervals</text>"
        s += percentGrid(x: labelWidth, width: barWidth, top: top - 3, bottom: plotBottom)
        for (i, label) in labels.enumerated() {
            let y0 = top + groupHeight * Double(i)
            let groupMid = y0 + (groupHeight - groupGap) / 2
            s += "<text x=\"\(number(labelWidth - 6))\" y=\"\(number(groupMid + 4))\" text-anchor=\"end\" font-size=\"12\">\(escape(fit(label, width: labelWidth - 8)))</text>"
            for (k, ser) in series.enumerated() {
                let y = y0 + Double(k) * (barHeight + gap), mid = y + barHeight / 2
                let v = i < ser.values.count ? ser.values[i] : nil
                if let v {
                    let w = max(0, min(1, v)) * barWidth
                    s += "<rect class=\"bar\" x=\"\(number(labelWidth))\" y=\"\(number(y))\" width=\"\(number(max(w, 0.5)))\" height=\"\(number(barHeight))\" fill=\"\(escape(ser.color))\"/>"
                    if i < ser.intervals.count, let ci = ser.intervals[i] {
                        s += whisker(labelWidth + max(0, min(1, ci.low)) * barWidth, labelWidth + max(0, min(1, ci.high)) * barWidth,
                                     y: mid, tick: barHeight - 2)
                    }
                }
                s += "<text x=\"\(number(labelWidth + barWidth + 6))\" y=\"\(number(mid + 4))\" font-size=\"10.5\">\(v.map { String(format: "%.1f", $0 * 100) } ?? "n/a")</text>"
            }
        }
        if let d = difference {
            let extent = (d.values.compactMap { $0 } + d.intervals.compactMap { $0 }.flatMap { [$0.low, $0.high] }).filter(\.isFinite)
                .map(abs).max() ?? 0
            let range = [0.05, 0.1, 0.2, 0.25, 0.5, 1.0].first { $0 >= extent } ?? 1
            func px(_ v: Double) -> Double { diffLeft + (max(-range, min(range, v)) + range) / (2 * range) * diffWidth }
            s += "<g class=\"difference-panel\">"
            s += "<text x=\"\(number(diffLeft))\" y=\"34\" font-size=\"12\" font-weight=\"bold\">\(escape(d.title))</text>"
            for k in -2...2 {
                let v = range * Double(k) / 2, gx = number(px(v))
                s += "<line x1=\"\(gx)\" y1=\"\(number(top - 3))\" x2=\"\(gx)\" y2=\"\(number(plotBottom))\" stroke=\"\(k == 0 ? "#777" : "#ddd")\"/>"
                s += "<text x=\"\(gx)\" y=\"\(number(plotBottom + 12))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#666\">\(k == 0 ? "0" : String(format: "%+g", (v * 1000).rounded() / 10))</text>"
            }
            for i in labels.indices {
                let mid = top + groupHeight * Double(i) + (groupHeight - groupGap) / 2
                let textX = number(diffLeft + diffWidth + 8)
                guard let v = i < d.values.count ? d.values[i] : nil, v.isFinite else {
                    s += "<text x=\"\(textX)\" y=\"\(number(mid + 4))\" font-size=\"10.5\">n/a</text>"
                    continue
                }
                let ci = i < d.intervals.count ? d.intervals[i] : nil
                let color = ci.map { $0.low > 0 ? "#2e7d32" : $0.high < 0 ? "#c62828" : "#555" } ?? "#555"
                if let ci { s += whisker(px(ci.low), px(ci.high), y: mid, tick: 8, color: color) }
                s += "<circle cx=\"\(number(px(v)))\" cy=\"\(number(mid))\" r=\"3.5\" fill=\"\(color)\"/>"
                let text = String(format: "%+.1f", v * 100) + (ci.map { String(format: " [%+.1f, %+.1f]", $0.low * 100, $0.high * 100) } ?? "")
                s += "<text x=\"\(textX)\" y=\"\(number(mid + 4))\" font-size=\"10.5\" fill=\"\(color)\">\(text)</text>"
            }
            s += "</g>"
        }
        return s + "</svg>"
    }

    /// A line chart of named series of (x, y) points sharing axes, with the axes' ranges written at the corners.
    public static func lines(title: String, xLabel: String, yLabel: String, series: [(name: String, color: String, points: [(Double, Double)])]) -> String {
        let all = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        let width = 640.0, height = 300.0, left = 60.0, right = 20.0, top = 30.0, bottom = 40.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\" role=\"img\">"
        s += "<title>\(escape(title))</title><text x=\"0\" y=\"15\" font-weight=\"bold\">\(escape(title))</text>"
        guard let x0 = all.map(\.0).min(), let x1 = all.map(\.0).max(), let y0 = all.map(\.1).min(), let y1 = all.map(\.1).max() else {
            return s + "<text x=\"\(number(left))\" y=\"\(number(height / 2))\">no points</text></svg>"
        }
        let xs = x1 > x0 ? x1 - x0 : 1, ys = y1 > y0 ? y1 - y0 : 1
        func px(_ x: Double) -> Double { left + (x - x0) / xs * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - (y - y0) / ys * (height - top - bottom) }
        s += "<rect x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(width - left - right))\" height=\"\(number(height - top - bottom))\" fill=\"none\" stroke=\"#999\"/>"
        s += "<text x=\"\(number(left - 4))\" y=\"\(number(top + 10))\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.3g", y1))</text>"
        s += "<text x=\"\(number(left - 4))\" y=\"\(number(height - bottom))\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.3g", y0))</text>"
        s += "<text x=\"\(number(left))\" y=\"\(number(height - bottom + 14))\" font-size=\"11\">\(String(format: "%.0f", x0))</text>"
        s += "<text x=\"\(number(width - right))\" y=\"\(number(height - bottom + 14))\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.0f", x1))</text>"
        s += "<text x=\"\(number((left + width - right) / 2))\" y=\"\(number(height - 8))\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>"
        s += "<text x=\"12\" y=\"\(number((top + height - bottom) / 2))\" font-size=\"12\" transform=\"rotate(-90 12 \(number((top + height - bottom) / 2)))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for (k, ser) in series.enumerated() {
            let pts = ser.points.filter { $0.0.isFinite && $0.1.isFinite }
            guard !pts.isEmpty else { continue }
            let path = pts.map { "\(number(px($0.0))),\(number(py($0.1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(escape(ser.color))\" stroke-width=\"1.5\" points=\"\(path)\"/>"
            if pts.count == 1 { s += "<circle cx=\"\(number(px(pts[0].0)))\" cy=\"\(number(py(pts[0].1)))\" r=\"3\" fill=\"\(escape(ser.color))\"/>" }
            s += "<text x=\"\(number(width - right - 4))\" y=\"\(number(top + 14 + 14 * Double(k)))\" text-anchor=\"end\" font-size=\"12\" fill=\"\(escape(ser.color))\">\(escape(ser.name))</text>"
        }
        return s + "</svg>"
    }
}
