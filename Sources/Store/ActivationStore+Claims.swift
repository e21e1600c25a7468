import Foundation
import GRDB
import Models

/// A process (or, in tests, one capturer within a process) that claims batches of a capture.
public struct ClaimOwner: Sendable, Equatable {
    /// The host name, so a process id is only checked on the host that made the claim.
    public let host: String
    public let pid: Int32
    /// Unique per owner (two capturers in one process have different tokens).
    public let token: String

    public init(host: String = ProcessInfo.processInfo.hostName, pid: Int32 = getpid(), token: String = UUID().uuidString) {
        self.host = host
        self.pid = pid
        self.token = token
    }

    /// This process.
    public static let current = ClaimOwner()

    /// Whether a claim made by `pid` on `host` belongs to a process that no longer runs: the
    /// host is this one and no process has that id. (Another host's claims wait for their lease.)
    static func isGone(host: String, pid: Int32) -> Bool {
        guard host == current.host else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// What ``ActivationStore/claim(_:capture:owner:lease:)`` found for a batch.
public enum BatchClaim: Equatable, Sendable {
    /// The caller now holds these prompts (those of the batch the capture does not hold yet).
    case claimed(Set<Int64>)
    /// The capture already holds every prompt of the batch.
    case done
    /// Another live owner holds some of them: try again later.
    case held
}

extension ActivationStore {
    /// Claims the prompts `ids` (one batch) of `capture` for `owner`, in one transaction.
    ///
    /// The batch is claimed whole or not at all, so every batch is computed as it was cut
    /// (the same bits as a single process). A claim of another owner is honoured while its
    /// lease runs and its process lives; a claim whose lease has passed, or whose process is
    /// gone (killed, on this host), is taken over. A claim ends when its prompts are
    /// appended (in the same transaction) or released.
    public func claim(_ ids: [Int64], capture: Int64, owner: ClaimOwner, lease: Double) throws -> BatchClaim {
        let now = Date().timeIntervalSince1970
        return try write { db in
            let held = Set(try Int64.fetchAll(db, sql: """
                SELECT prompt_id FROM capture_prompt WHERE capture_id = ? AND prompt_id IN (SELECT value FROM json_each(?))
                """, arguments: [capture, JSONValue.encode(ids)]))
            let open = ids.filter { !held.contains($0) }
            if open.isEmpty { return .done }
            let others = try Row.fetchAll(db, sql: """
                SELECT DISTINCT host, pid, expires FROM capture_claim
                WHERE capture_id = ? AND token != ? AND prompt_id IN (SELECT value FROM json_each(?))
                """, arguments: [capture, owner.token, JSONValue.encode(open)])
            for row in others {
                let claim = StoredRow(row: row, path: path, name: "a claim of capture \(capture)")
                let expires = try claim.value("expires", as: Double.self)
                let pid = Int32(truncatingIfNeeded: try claim.int("pid"))
                let host = try claim.text("host")
                if expires > now && !ClaimOwner.isGone(host: host, pid: pid) { return .held }
            }
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO capture_claim (capture_id, prompt_id, token, host, pid, expires) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for id in open {
                try insert.execute(arguments: [capture, id, owner.token, owner.host, owner.pid, now + lease])
            }
            return .claimed(Set(open))
        }
    }

    /// Drops every claim `owner` holds on `capture` (a capturer that stops early).
    public func releaseClaims(capture: Int64, owner: ClaimOwner) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM capture_claim WHERE capture_id = ? AND token = ?", arguments: [capture, owner.token])
        }
    }

    /// The prompts of `capture` claimed and not yet appended, with their owners' tokens.
    public func claims(capture: Int64) throws -> [Int64: String] {
        try read { db in
            var out: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT prompt_id, token FROM capture_claim WHERE capture_id = ?",
                                        arguments: [capture]) {
                let stored = StoredRow(row: row, path: path, name: "claim of capture \(capture)")
                out[try stored.value("prompt_id", as: Int64.self)] = try stored.text("token")
            }
            return out
        }
    }
}
