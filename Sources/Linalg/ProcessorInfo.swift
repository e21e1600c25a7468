import CKernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about the processor.
public enum ProcessorInfo {
    /// The cores this process may use: the online processors, narrowed by the CPU affinity
    /// mask (`taskset`, a cluster scheduler's binding) and by a cgroup CPU quota (a container's
    /// `--cpus`, Kubernetes limits), rounded up. Parallel loops and the worker pool size
    /// themselves by it, so they do not oversubscribe a node they share.
    public static let cores: Int = {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return max(1, [online, affinityCount(), quotaCores()].compactMap { $0 }.min()!)
    }()

    /// Processors in the calling thread's affinity mask (nil when it cannot be read).
    public static func affinityCount() -> Int? {
        let count = Int(loupe_cpu_affinity_count())
        return count > 0 ? count : nil
    }

    /// A cgroup CPU quota as whole cores, rounded up (nil when there is none).
    public static func quotaCores() -> Int? {
        // cgroup v2: "max 100000" (no quota) or "QUOTA PERIOD".
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            let fields = text.split(separator: " ").map(String.init)
            return cores(quota: fields.first, period: fields.dropFirst().first)
        }
        // cgroup v1: a quota of -1 means none.
        let quota = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8)
        let period = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8)
        return cores(quota: quota, period: period)
    }

    /// `ceil(quota / period)` for a positive quota and period given as text, else nil.
    public static func cores(quota: String?, period: String?) -> Int? {
        guard let q = quota.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              let p = period.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              q > 0, p > 0 else { return nil }
        return (q + p - 1) / p
    }
}
