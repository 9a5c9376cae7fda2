// Checkpoints written as one unit. Every file of a checkpoint is first written whole into a staging directory inside
// --out; a marker file then makes the checkpoint final, and only after it are the files renamed over the previous
// checkpoint's (the trainer state last). A process killed at any moment, or a disk that fills up, leaves --out with one
// whole checkpoint whose weights and trainer state come from the same step: the previous one when the marker was not
// yet written, the new one (once `recover` has finished the renames at the next start) when it was. Writing each file
// atomically is not enough on its own: new weights beside the previous step's trainer state resume a different run.
import EcomModel
import Foundation

/// The staging and commit of a checkpoint's files in an output directory.
public enum CheckpointCommit {
    /// The staging directory inside the output directory (hidden: not part of the checkpoint).
    public static let stagingName = ".checkpoint-next"
    /// Written into the staging directory once every file there is whole: from then on the checkpoint is committed.
    public static let markerName = "COMMITTED"
    /// Moved into place last: the state says which step the weights beside it belong to.
    static let lastFile = "trainer_state.bin"
    /// Files the trainer writes into its output directory (whose interrupted atomic writes `recover` tidies up).
    static let checkpointFiles: Set<String> = ["config.json", "generation_config.json", "model.safetensors", "adapter_config.json",
                                               "adapter_model.safetensors", "tokenizer.json", "metrics.jsonl", "loss.svg", "trainer_state.bin"]

    public static func stagingDirectory(in out: URL) -> URL { out.appendingPathComponent(stagingName) }

    /// An empty staging directory (an earlier one, an unfinished write, is removed first).
    static func prepare(in out: URL) throws -> URL {
        let staging = stagingDirectory(in: out)
        let fm = FileManager.default
        if fm.fileExists(atPath: staging.path) { try fm.removeItem(at: staging) }
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        return staging
    }

    /// Commits the staged files: the marker, then each file renamed into `out` (the trainer state last), then the
    /// staging directory removed.
    static func commit(in out: URL, step: Int) throws {
        let staging = stagingDirectory(in: out)
        try AtomicFile.write(Data("step \(step)\n".utf8), to: staging.appendingPathComponent(markerName))
        try moveStaged(from: staging, into: out)
    }

    /// Renames the staged files into `out`, the trainer state last; removes the marker and the staging directory.
    private static func moveStaged(from staging: URL, into out: URL) throws {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: staging.path)
            .filter { !$0.hasPrefix(".") && $0 != markerName }
            .sorted { ($0 == lastFile ? 1 : 0, $0) < ($1 == lastFile ? 1 : 0, $1) }
        for n in names {
            let from = staging.appendingPathComponent(n), to = out.appendingPathComponent(n)
            guard rename(from.path, to.path) == 0 else {
                throw TrainingError("\(to.path): cannot move the new checkpoint file into place (\(String(cString: strerror(errno))))")
            }
        }
        try fm.removeItem(at: staging)
    }

    /// What `recover` found.
    public enum Recovery: Equatable, Sendable {
        /// No interrupted checkpoint write.
        case none
        /// A write stopped before its marker: discarded; the previous checkpoint stands.
        case discarded
        /// A committed write stopped while its files were moved into place: finished (the step it saved).
        case completed(step: Int?)
    }

    /// Finishes or discards a checkpoint write that a stopped process left in `out`: with the marker, the staged files
    /// still there are moved into place; without it, the staging directory is removed. Temporary files that
    /// interrupted atomic writes of the checkpoint's files left in `out` are removed too.
    @discardableResult
    public static func recover(in out: URL) throws -> Recovery {
        let fm = FileManager.default
        for n in (try? fm.contentsOfDirectory(atPath: out.path)) ?? [] where isTemporaryFile(n) {
            try? fm.removeItem(at: out.appendingPathComponent(n))
        }
        let staging = stagingDirectory(in: out)
        guard fm.fileExists(atPath: staging.path) else { return .none }
        let marker = staging.appendingPathComponent(markerName)
        guard let text = try? String(contentsOf: marker, encoding: .utf8) else {
            try fm.removeItem(at: staging)
            return .discarded
        }
        try moveStaged(from: staging, into: out)
        return .completed(step: Int(text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "step ", with: "")))
    }

    /// Whether `name` is the temporary file of an atomic write (`.NAME.tmp-…`, AtomicFile's naming) of a checkpoint file.
    static func isTemporaryFile(_ name: String) -> Bool {
        guard name.hasPrefix("."), let r = name.range(of: ".tmp-") else { return false }
        return checkpointFiles.contains(String(name[name.index(after: name.startIndex)..<r.lowerBound]))
    }

    /// A one-line reason for a failed write: the file (a temporary file named as the file it stands for) and the
    /// system's error, e.g. "trainer_state.bin: No space left on device", instead of Foundation's nested error dump.
    public static func reason(_ error: Error) -> String {
        if let e = error as? TrainingError { return e.description }
        let ns = error as NSError
        var file = (ns.userInfo[NSFilePathErrorKey] as? String).map { URL(fileURLWithPath: $0).lastPathComponent }
        if let f = file, f.hasPrefix("."), let r = f.range(of: ".tmp-") { file = String(f[f.index(after: f.startIndex)..<r.lowerBound]) }
        // The system's error: Foundation keeps it as the underlying error (a POSIXError or an NSError, depending on the
        // Foundation), or it is the error itself.
        var posix: Int32?
        if let u = ns.userInfo[NSUnderlyingErrorKey] {
            if let p = u as? POSIXError { posix = p.code.rawValue } else if let e = u as? Error, (e as NSError).domain == NSPOSIXErrorDomain {
                posix = Int32((e as NSError).code)
            }
        }
        if posix == nil, let p = error as? POSIXError { posix = p.code.rawValue }
        if posix == nil, ns.domain == NSPOSIXErrorDomain { posix = Int32(ns.code) }
        if posix == nil, ns.domain == NSCocoaErrorDomain, ns.code == CocoaError.fileWriteOutOfSpace.rawValue { posix = ENOSPC }
        let cause = posix.map { String(cString: strerror($0)) } ?? ns.localizedDescription
        return file.map { "\($0): \(cause)" } ?? cause
    }
}
