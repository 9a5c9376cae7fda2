// A progress bar with rate and ETA on standard error: redrawn in place on a terminal, a line every few seconds otherwise.
// In EcomInstruct, the one library beneath both the evaluation harness and the distiller that draw it.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress over a known number of units; thread-safe.
public final class ProgressBar: @unchecked Sendable {
    public let total: Int
    public private(set) var done = 0
    private let start = Date()
    private let lock = NSLock()
    private let interactive: Bool
    private let enabled: Bool
    private var lastPrinted = Date.distantPast
    private let label: String

    /// `enabled: false` prints nothing (tests).
    public init(total: Int, label: String, enabled: Bool = true) {
        self.total = total; self.label = label; self.enabled = enabled
        interactive = isatty(2) != 0
    }

    /// Counts `n` more units, with a note (e.g. the current task), and redraws.
    public func advance(_ n: Int = 1, note: String = "") {
        lock.lock(); defer { lock.unlock() }
        done += n
        guard enabled else { return }
        let now = Date()
        if !interactive && done < total && now.timeIntervalSince(lastPrinted) < 10 { return }
        lastPrinted = now
        let line = Self.line(done: done, total: total, elapsed: now.timeIntervalSince(start), label: label, note: note)
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Ends the bar's line.
    public func finish() {
        guard enabled, interactive, done > 0 else { return }  // nothing drawn, no line to end
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// "label [#####.....] 37/120  31%  2.30/s  elapsed 0:16  ETA 0:36  note".
    public static func line(done: Int, total: Int, elapsed: Double, label: String, note: String, width: Int = 24) -> String {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = min(width, Int(fraction * Double(width)))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "\(label) [\(bar)] \(done)/\(total) \(String(format: "%3d%%", Int(fraction * 100))) "
            + String(format: "%.2f/s", rate) + "  elapsed \(clock(elapsed))  ETA \(eta.isFinite ? clock(eta) : "?")"
            + (note.isEmpty ? "" : "  \(note)")
    }

    /// Seconds as "m:ss" or "h:mm:ss".
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
