// Training feedback: the metrics JSON Lines file, the progress line, and an SVG loss curve (train and validation).
import Foundation

/// One metrics line: `{"step", "split", "loss", "lr", "tokens_per_s", "elapsed_s"}`.
public struct MetricsRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var split: String
    public var loss: Double
    public var lr: Double
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    /// The global gradient norm before clipping (training steps; nil for validation and for files written before it).
    public var gradNorm: Double?
    enum CodingKeys: String, CodingKey {
        case step, split, loss, lr
        case tokensPerSecond = "tokens_per_s", elapsedSeconds = "elapsed_s", gradNorm = "grad_norm"
    }
    public init(step: Int, split: String, loss: Double, lr: Double, tokensPerSecond: Double, elapsedSeconds: Double, gradNorm: Double? = nil) {
        self.step = step; self.split = split; self.loss = loss; self.lr = lr
        self.tokensPerSecond = tokensPerSecond; self.elapsedSeconds = elapsedSeconds; self.gradNorm = gradNorm
    }

    public var jsonLine: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads a metrics file (missing: empty); bad lines are errors naming the line.
    public static func read(_ url: URL) throws -> [MetricsRecord] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        var out: [MetricsRecord] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() where !line.isEmpty {
            do { out.append(try JSONDecoder().decode(MetricsRecord.self, from: Data(line.utf8))) } catch {
                throw TrainingError("\(url.path):\(i + 1): not a metrics record (\(error))")
            }
        }
        return out
    }
}

public enum TrainingLog {
    /// "1h02m03s" / "4m05s" / "6s".
    public static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60)
        if h > 0 { return String(format: "%dh%02dm%02ds", h, m, sec) }
        if m > 0 { return String(format: "%dm%02ds", m, sec) }
        return "\(sec)s"
    }

    /// The stderr progress line.
    public static func progressLine(step: Int, total: Int, loss: Double, lr: Double, tokensPerSecond: Double, elapsed: Double, eta: Double) -> String {
        String(format: "step %d/%d  loss %.4f  lr %.3e  %.0f tok/s  elapsed %@  eta %@", step, total, loss, lr, tokensPerSecond,
               duration(elapsed), duration(eta))
    }

    /// An SVG line chart of training loss (blue) and validation loss (orange, with dots) against the step.
    public static func lossCurveSVG(_ records: [MetricsRecord]) -> String {
        let (w, h, left, right, top, bottom) = (720.0, 400.0, 60.0, 20.0, 30.0, 40.0)
        let train = records.filter { $0.split == "train" && $0.loss.isFinite }
        let val = records.filter { $0.split == "validation" && $0.loss.isFinite }
        let all = train + val
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"18\">loss (train: blue, validation: orange)</text>\n"
        guard !all.isEmpty else { return svg + "<text x=\"\(left)\" y=\"\(h / 2)\">no data yet</text>\n</svg>\n" }
        let maxStep = Double(max(1, all.map(\.step).max()!))
        var lo = all.map(\.loss).min()!, hi = all.map(\.loss).max()!
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        func x(_ s: Int) -> Double { left + (w - left - right) * Double(s) / maxStep }
        func y(_ l: Double) -> Double { top + (h - top - bottom) * (hi - l) / (hi - lo) }
        svg += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for i in 0...4 {
            let l = lo + (hi - lo) * Double(i) / 4
            svg += String(format: "<text x=\"4\" y=\"%.1f\">%.3f</text>\n", y(l) + 4, l)
            let s = Int(maxStep * Double(i) / 4)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x(s), h - bottom + 16, s)
        }
        svg += "<text x=\"\(w / 2)\" y=\"\(h - 6)\" text-anchor=\"middle\">step</text>\n"
        func polyline(_ rs: [MetricsRecord], _ color: String) -> String {
            let pts = rs.map { String(format: "%.1f,%.1f", x($0.step), y($0.loss)) }.joined(separator: " ")
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(pts)\"/>\n"
        }
        if !train.isEmpty { svg += polyline(train, "#1f77b4") }
        if !val.isEmpty {
            svg += polyline(val, "#ff7f0e")
            for r in val { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ff7f0e\"/>\n", x(r.step), y(r.loss)) }
        }
        return svg + "</svg>\n"
    }
}
