// What every fuzz target shares: a scratch directory in memory (/dev/shm where it exists) for parsers that read files
// by path, and a failure that libFuzzer records as a crash when a parser breaks one of its own promises.
import Foundation

/// A per-process scratch directory; files written here are overwritten by each input.
public enum Scratch {
    /// The directory, created on first use.
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("ecom-fuzz-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` in the scratch directory (or in its subdirectory `folder`) and returns the file's URL.
    @discardableResult
    public static func write(_ bytes: Data, to name: String, in folder: String? = nil) -> URL {
        var dir = directory
        if let folder {
            dir = dir.appendingPathComponent(folder)
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        let url = dir.appendingPathComponent(name)
        // Plain open/write/close: FileManager writes atomically through a temporary file, several times slower.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fatalError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        bytes.withUnsafeBytes { p in
            var done = 0
            while done < p.count {
                let n = Foundation.write(fd, p.baseAddress! + done, p.count - done)
                guard n > 0 else { fatalError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
                done += n
            }
        }
        close(fd)
        return url
    }
}

/// Stops the run as a crash: a parser accepted input that breaks a property it promises.
public func violated(_ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("property violated: \(message())", file: file, line: line)
}

/// Splits the input into a selector byte (which of a target's parsers to run) and the rest.
public func select(_ data: Data, among count: Int) -> (choice: Int, rest: Data) {
    guard let first = data.first else { return (0, data) }
    return (Int(first) % count, data.dropFirst())
}

/// libFuzzer's driver (compiler-rt's FuzzerDriver): parses the flags, then calls `callback` with each input.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target's input handler, set once by ``runFuzzer(_:_:_:)`` before libFuzzer starts calling back.
nonisolated(unsafe) private var inputHandler: (Data) -> Void = { _ in }

/// The program's entry: SwiftPM links an executable target with `main` aliased to `<module>_main`, so each target
/// defines that symbol and hands its input handler to libFuzzer's driver here (libFuzzer's own `main` is then not
/// linked). Each input reaches `body` as `Data`.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ body: @escaping (Data) -> Void) -> CInt {
    inputHandler = body
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return withUnsafeMutablePointer(to: &vector) { v in
        llvmFuzzerRunDriver(&count, v) { start, size in
            inputHandler(start.map { Data(bytes: $0, count: size) } ?? Data())
            return 0
        }
    }
}
