// Checkpoints survive a process killed while writing them (found by scripts/soak.sh): the directories a kill can leave
// (new weights moved into place beside the previous step's trainer state; a staging directory without its marker;
// temporary files; a torn metrics line) resume exactly as an uninterrupted run, and a failed write names the file and
// the cause in one line.
import EcomModel
@testable import EcomTrainer
import EcomTestSupport
import Foundation
import Testing

@Suite struct CheckpointCommitTests {
    let fm = FileManager.default

    /// The uninterrupted run's losses, and a run stopped after 3 steps (its directory) plus a copy of it continued
    /// to step 4 (the files of the step-4 checkpoint).
    func fixture(_ root: URL) throws -> (straight: [Double], options: TrainerOptions, step4: URL) {
        var straight = try PackedFixture.options(root: root, out: "straight")
        let s = try Trainer(options: straight)
        #expect(try s.run() == .finished)
        straight.out = root.appendingPathComponent("split"); straight.stepLimit = 3
        _ = try Trainer(options: straight).run()
        let step4 = root.appendingPathComponent("step4")
        try fm.copyItem(at: straight.out, to: step4)
        var more = straight
        more.out = step4; more.stepLimit = 1; more.resume = true
        _ = try Trainer(options: more).run()
        var o = straight
        o.stepLimit = nil; o.resume = true
        return (s.losses, o, step4)
    }

    /// Killed after the marker, with the new weights already moved over the old ones (what a kill between the two
    /// renames leaves; without a commit, the state it also leaves after any write of the weights before the state):
    /// the next start finishes the move and resumes at step 4.
    @Test func committedWriteIsCompletedOnResume() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? fm.removeItem(at: root) }
        let (straight, o, step4) = try fixture(root)
        let staging = CheckpointCommit.stagingDirectory(in: o.out)
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        for f in ["config.json", "tokenizer.json", "metrics.jsonl", "loss.svg", "trainer_state.bin"] {
            try fm.copyItem(at: step4.appendingPathComponent(f), to: staging.appendingPathComponent(f))
        }
        try Data("step 4\n".utf8).write(to: staging.appendingPathComponent(CheckpointCommit.markerName))
        try fm.removeItem(at: o.out.appendingPathComponent("model.safetensors"))
        try fm.copyItem(at: step4.appendingPathComponent("model.safetensors"), to: o.out.appendingPathComponent("model.safetensors"))
        var notes: [String] = []
        let t = try Trainer(options: o, log: { notes.append($0) })
        #expect(t.state.step == 4)
        #expect(notes.contains { $0.contains("completed the checkpoint write of step 4") })
        #expect(!fm.fileExists(atPath: staging.path))
        #expect(try t.run() == .finished)
        #expect(t.losses == Array(straight[4...]), "straight \(straight) vs resumed \(t.losses)")
    }

    /// Killed before the marker: the staged files (one of them cut short) are discarded, temporary files of
    /// interrupted atomic writes removed, and the run resumes at step 3.
    @Test func unfinishedWriteIsDiscardedOnResume() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? fm.removeItem(at: root) }
        let (straight, o, step4) = try fixture(root)
        let staging = CheckpointCommit.stagingDirectory(in: o.out)
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        try fm.copyItem(at: step4.appendingPathComponent("model.safetensors"), to: staging.appendingPathComponent("model.safetensors"))
        try Data(try Data(contentsOf: step4.appendingPathComponent("trainer_state.bin")).prefix(1000))
            .write(to: staging.appendingPathComponent(".trainer_state.bin.tmp-1-2"))
        let stray = o.out.appendingPathComponent(".metrics.jsonl.tmp-123-456")
        try Data("{\"step\"".utf8).write(to: stray)
        var notes: [String] = []
        let t = try Trainer(options: o, log: { notes.append($0) })
        #expect(t.state.step == 3)
        #expect(notes.contains { $0.contains("discarded an unfinished checkpoint write") })
        #expect(!fm.fileExists(atPath: staging.path) && !fm.fileExists(atPath: stray.path))
        #expect(try t.run() == .finished)
        #expect(t.losses == Array(straight[3...]))
        let left = try fm.contentsOfDirectory(atPath: o.out.path).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A metrics line cut off by a crash or a full disk is dropped when resuming, not an error.
    @Test func tornMetricsLineIsDroppedOnResume() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? fm.removeItem(at: root) }
        let (straight, o, _) = try fixture(root)
        let url = o.out.appendingPathComponent("metrics.jsonl")
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd(); try h.write(contentsOf: Data("{\"elapsed_s\":1.5,\"grad_n".utf8)); try h.close()
        var notes: [String] = []
        let t = try Trainer(options: o, log: { notes.append($0) })
        #expect(notes.contains { $0.contains("dropped a torn last line") })
        _ = try t.run()
        #expect(t.losses == Array(straight[3...]))
        let a = try MetricsRecord.read(root.appendingPathComponent("straight/metrics.jsonl"))
        let b = try MetricsRecord.read(url)
        #expect(a.map(\.step) == b.map(\.step) && a.map(\.loss) == b.map(\.loss))
    }

    /// A failed write says which checkpoint file and why, not Foundation's nested error (the temporary file named as
    /// the file it stands for).
    @Test func writeFailureReasonNamesTheFileAndTheCause() throws {
        // What Foundation throws for a full disk (/dev/full: every write fails with ENOSPC).
        let full = try #require(throws: (any Error).self) { try Data("x".utf8).write(to: URL(fileURLWithPath: "/dev/full")) }
        #expect(CheckpointCommit.reason(full) == "full: No space left on device", "\(full)")
        let posix = NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))
        let e = CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: "/x/run/.checkpoint-next/.trainer_state.bin.tmp-12-34",
                                                            NSUnderlyingErrorKey: posix])
        #expect(CheckpointCommit.reason(e) == "trainer_state.bin: No space left on device")
        #expect(CheckpointCommit.reason(TrainingError("plain")) == "plain")
        #expect(CheckpointCommit.isTemporaryFile(".model.safetensors.tmp-1-2") && !CheckpointCommit.isTemporaryFile(".notes.tmp-1-2"))
    }
}
