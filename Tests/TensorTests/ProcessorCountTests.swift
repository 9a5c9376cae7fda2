// ComputeThreads' default: the processors this process may use (affinity mask, cgroup quota), not the host's count.
import Foundation
import Testing
@testable import EcomTensor
import _EcomTensorKernels

@Suite struct ProcessorCountTests {
    @Test func cgroupV2CPUMaxParses() {
        #expect(System.quota(cpuMax: "max 100000\n") == nil)
        #expect(System.quota(cpuMax: "200000 100000\n") == 2)
        #expect(System.quota(cpuMax: "150000 100000") == 2)  // 1.5 processors round up
        #expect(System.quota(cpuMax: "50000 100000") == 1)
        #expect(System.quota(cpuMax: "garbage") == nil)
        #expect(System.quota(micros: -1, period: 100000) == nil)  // cgroup v1's "no limit"
        #expect(System.quota(micros: 400000, period: 100000) == 4)
    }

    @Test func cgroupV2PathIsTheZeroLine() {
        #expect(System.cgroupV2Path("0::/user.slice/session-1.scope\n") == "/user.slice/session-1.scope")
        #expect(System.cgroupV2Path("12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n") == nil)
    }

    /// The affinity count read through sched_getaffinity matches the kernel's own account of the mask in
    /// /proc/self/status (Cpus_allowed_list, e.g. "0-3,8"), and the default thread count never exceeds it.
    @Test func affinityMatchesProcStatus() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let list = line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
        var allowed = 0
        for part in list.split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            allowed += ends.count == 2 ? ends[1] - ends[0] + 1 : 1
        }
        #expect(Int(ecom_affinity_cpus()) == allowed)
        #expect(ComputeThreads.usableProcessors <= allowed)
        #expect(ComputeThreads.usableProcessors >= 1)
    }
}
