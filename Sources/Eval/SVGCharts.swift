// Inline SVG charts for the report: horizontal bars (one chart per metric) and a line chart (the training loss).
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

    /// A horizontal bar chart of `values` in [0, 1] (nil bars are drawn as "n/a"), labelled, titled.
    public static func bars(title: String, labels: [String], values: [Double?]) -> String {
        let rowHeight = 18.0, labelWidth = 330.0, barWidth = 300.0, top = 24.0
        let height = top + rowHeight * Double(labels.count) + 8
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(labelWidth + barWidth + 60))\" height=\"\(number(height))\" role=\"img\">"
        s += "<title>\(escape(title))</title>"
        s += "<text x=\"0\" y=\"15\" font-weight=\"bold\">\(escape(title))</text>"
        for (i, label) in labels.enumerated() {
            let y = top + rowHeight * Double(i)
            s += "<text x=\"\(number(labelWidth - 6))\" y=\"\(number(y + 13))\" text-anchor=\"end\" font-size=\"12\">\(escape(label))</text>"
            s += "<rect x=\"\(number(labelWidth))\" y=\"\(number(y + 2))\" width=\"\(number(barWidth))\" height=\"\(number(rowHeight - 4))\" fill=\"#eee\"/>"
            if let v = values[i] {
                let w = max(0, min(1, v)) * barWidth
                s += "<rect x=\"\(number(labelWidth))\" y=\"\(number(y + 2))\" width=\"\(number(w))\" height=\"\(number(rowHeight - 4))\" fill=\"#4a7ebb\"/>"
                s += "<text x=\"\(number(labelWidth + barWidth + 4))\" y=\"\(number(y + 13))\" font-size=\"12\">\(String(format: "%.1f", v * 100))</text>"
            } else {
                s += "<text x=\"\(number(labelWidth + barWidth + 4))\" y=\"\(number(y + 13))\" font-size=\"12\">n/a</text>"
            }
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
