import Foundation
import Linalg
import Testing

/// The core count parallel loops size themselves by: affinity mask and cgroup quota.
@Suite struct ProcessorInfoTests {
    @Test func quotaTextBecomesWholeCoresRoundedUp() {
        #expect(ProcessorInfo.cores(quota: "150000", period: "100000") == 2)
        #expect(ProcessorInfo.cores(quota: "200000", period: "100000\n") == 2)
        #expect(ProcessorInfo.cores(quota: "50000", period: "100000") == 1)
        #expect(ProcessorInfo.cores(quota: "max", period: "100000") == nil)    // cgroup v2: no quota
        #expect(ProcessorInfo.cores(quota: "-1", period: "100000") == nil)     // cgroup v1: no quota
        #expect(ProcessorInfo.cores(quota: nil, period: nil) == nil)
    }

    /// The affinity count equals the kernel's own list of allowed CPUs (`Cpus_allowed_list`,
    /// e.g. `0-3,8`), and the core count is at most it.
    @Test func affinityCountMatchesTheKernelsList() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let list = line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
        let count = list.split(separator: ",").reduce(0) { total, part in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return total + (ends.count == 2 ? ends[1] - ends[0] + 1 : 1)
        }
        #expect(ProcessorInfo.affinityCount() == count)
        #expect(ProcessorInfo.cores <= count && ProcessorInfo.cores >= 1)
    }
}
