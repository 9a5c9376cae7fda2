// The trainer's own state file (trainer_state.bin): magic + version, a JSON header (step, schedule, data position,
// random state, run settings), then the AdamW moments as raw little-endian Float32. See Docs/FORMATS.md.
import EcomInstruct
import Foundation
import EcomModel
import EcomTensor

/// Everything besides the weights that a resumed run needs to continue exactly.
public struct TrainerState: Codable, Sendable, Equatable {
    public static let magic: [UInt8] = Array("ECOMTRNS".utf8)
    public static let currentVersion: UInt32 = 1

    /// Optimizer updates taken (= training steps done).
    public var step: Int
    public var totalSteps: Int
    public var schedule: LearningRateSchedule
    /// Position of the training data stream after the last step.
    public var dataPosition: StreamPosition
    public var dataSeed: UInt64
    /// State of the trainer's random generator (initialisation; reserved for dropout).
    public var rngState: UInt64
    public var batch: Int
    public var accumulation: Int
    public var sequenceLength: Int
    public var parameterCount: Int
    /// Training seconds and tokens so far (all sessions).
    public var elapsedSeconds: Double
    public var tokensSeen: Int
    public var adamw: AdamWConfigCodable
    public var decayMatricesOnly: Bool
    public var clip: Float

    /// AdamW hyper-parameters as stored.
    public struct AdamWConfigCodable: Codable, Sendable, Equatable {
        public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    }

    enum CodingKeys: String, CodingKey {
        case step, schedule, batch, accumulation, clip
        case totalSteps = "total_steps", dataPosition = "data_position", dataSeed = "data_seed", rngState = "rng_state"
        case sequenceLength = "sequence_length", parameterCount = "parameter_count", elapsedSeconds = "elapsed_s"
        case tokensSeen = "tokens_seen", adamw, decayMatricesOnly = "decay_matrices_only"
    }

    /// Writes the state and the moments atomically.
    public func write(to url: URL, m: FlatBuffer, v: FlatBuffer) throws {
        precondition(m.count == parameterCount && v.count == parameterCount, "moments do not match the parameter count")
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let header = try enc.encode(self)
        var out = Data(Self.magic)
        func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
        u32(Self.currentVersion)
        u32(UInt32(header.count))
        out.append(header)
        while out.count % 4 != 0 { out.append(0x20) }
        out.append(Data(bytes: m.pointer, count: m.count * 4))
        out.append(Data(bytes: v.pointer, count: v.count * 4))
        try AtomicFile.write(out, to: url)
    }

    /// Reads a state file; fills `m` and `v` (which must have `parameterCount` values). Errors say what was expected.
    public static func read(from url: URL, m: FlatBuffer, v: FlatBuffer) throws -> TrainerState {
        func fail(_ s: String) -> TrainingError { TrainingError("\(url.path): \(s)") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw fail("cannot read the trainer state (\(error.localizedDescription))") }
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw fail("not a trainer state file (expected magic 'ECOMTRNS'); remove it or start without --resume")
        }
        func u32(_ at: Int) -> UInt32 { data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) } }
        let version = u32(8)
        guard version == currentVersion else {
            throw fail("trainer state version \(version); this build reads version \(currentVersion)")
        }
        let headerLength = Int(u32(12))
        guard 16 + headerLength <= data.count else { throw fail("truncated header") }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: data.subdata(in: 16..<(16 + headerLength))) } catch {
            throw fail("bad header (\(error))")
        }
        let start = (16 + headerLength + 3) / 4 * 4
        let n = state.parameterCount
        guard n == m.count, n == v.count else {
            throw fail("holds moments for \(n) parameters, the model has \(m.count); was it written for another model?")
        }
        guard data.count == start + 8 * n else { throw fail("\(data.count) bytes, expected \(start + 8 * n) (truncated or corrupt)") }
        data.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(m.pointer).copyMemory(from: raw.baseAddress! + start, byteCount: 4 * n)
            UnsafeMutableRawPointer(v.pointer).copyMemory(from: raw.baseAddress! + start + 4 * n, byteCount: 4 * n)
        }
        return state
    }
}
