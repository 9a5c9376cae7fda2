// ComputeThreads' OpenBLAS thread-count lock: withBLASThreads sets the count for its body only and waits for a
// withSteadyBLASThreads section to end before it changes anything.
import EcomTensor
import Foundation
import Testing

@Suite struct BLASThreadsLockTests {
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        func add(_ e: String) { lock.withLock { events.append(e) } }
        var all: [String] { lock.withLock { events } }
    }

    @Test func changeWaitsForSteadySectionsAndIsRestored() {
        let log = Log()
        let done = DispatchSemaphore(value: 0)
        // Read inside a steady section: an evaluation test running beside this one may hold its own count.
        let before = ComputeThreads.withSteadyBLASThreads {
            let before = ComputeThreads.blasThreads
            Thread.detachNewThread {
                ComputeThreads.withBLASThreads(before + 1) { log.add("changed to \(ComputeThreads.blasThreads)") }
                done.signal()
            }
            Thread.sleep(forTimeInterval: 0.2)  // long enough for the change to happen here if it did not wait
            log.add("steady section ends at \(ComputeThreads.blasThreads)")
            return before
        }
        done.wait()
        #expect(log.all == ["steady section ends at \(before)", "changed to \(before + 1)"])
        #expect(ComputeThreads.withSteadyBLASThreads { ComputeThreads.blasThreads } == before)
    }
}
