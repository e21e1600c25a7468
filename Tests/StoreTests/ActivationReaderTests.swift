import Foundation
import Linalg
import LoupeTestSupport
import Models
import Store
import Testing

@Suite struct ActivationReaderTests {
    /// A tiny capture of resid_post 1, all positions, f32, fully written.
    func captured(dtype: ActivationDType = .f32) throws -> TinyCapture {
        let t = try TinyCapture(hooks: [.residPost(1), .pattern(0)], positions: .all, dtype: dtype, count: 20)
        try Capturer(model: t.model, store: t.store, capture: t.capture).run(prompts: t.prompts, positions: t.kept)
        return t
    }

    /// All rows of `hook` in stored order, with (prompt, position) per row.
    func storedRows(_ t: TinyCapture, _ hook: String) throws -> ([Float], [[Int]]) {
        var rows: [Float] = [], keys: [[Int]] = []
        for p in t.prompts {
            let a = try #require(try t.store.activation(capture: t.capture, hook: hook, prompt: p.id))
            rows += a.tensor.scalars
            keys += a.positions.map { [p.index, $0] }
        }
        return (rows, keys)
    }

    @Test func storedOrderStreamsEveryRowInBatches() throws {
        let t = try captured()
        let (rows, keys) = try storedRows(t, "blocks.1.hook_resid_post")
        var reader = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.1.hook_resid_post", batchSize: 16)
        #expect(reader.width == 32 && reader.rowCount == keys.count)
        var got: [Float] = [], gotKeys: [[Int]] = [], sizes: [Int] = []
        while let b = try reader.nextBatch() {
            #expect(b.rows.shape == [b.positions.count, 32])
            got += b.rows.scalars
            gotKeys += zip(b.promptIndices, b.positions).map { [$0, $1] }
            sizes.append(b.positions.count)
            // Labels and tokens follow their rows.
            for i in 0..<b.positions.count {
                #expect(b.label("label")[i] == Double(b.promptIndices[i] % 2))
                #expect(b.tokens[i] == t.prompts[b.promptIndices[i]].tokens[b.positions[i]])
            }
        }
        #expect(got == rows && gotKeys == keys)
        #expect(sizes.dropLast().allSatisfy { $0 == 16 } && sizes.last! <= 16 && sizes.last! > 0)
    }

    /// `prompts:` (one MPI rank's stretch) reads exactly those prompts' rows, in stored order.
    @Test func aPromptRangeReadsOnlyThosePrompts() throws {
        let t = try captured()
        let (rows, keys) = try storedRows(t, "blocks.1.hook_resid_post")
        var reader = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.1.hook_resid_post", batchSize: 7,
                                          prompts: 5...11)
        let wanted = keys.indices.filter { (5...11).contains(keys[$0][0]) }
        #expect(reader.rowCount == wanted.count && !wanted.isEmpty)
        var got: [Float] = [], gotKeys: [[Int]] = []
        while let b = try reader.nextBatch() {
            got += b.rows.scalars
            gotKeys += zip(b.promptIndices, b.positions).map { [$0, $1] }
        }
        #expect(gotKeys == wanted.map { keys[$0] })
        #expect(got == wanted.flatMap { rows[($0 * 32)..<(($0 + 1) * 32)] })
    }

    @Test func shuffledOrderIsASeededPermutationOfTheRows() throws {
        let t = try captured(dtype: .f16)
        let (rows, keys) = try storedRows(t, "blocks.1.hook_resid_post")
        func read(seed: UInt64, window: Int) throws -> ([[Int]], [[Int]: [Float]]) {
            var reader = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.1.hook_resid_post", batchSize: 10,
                                              order: .shuffled(seed: seed, window: window))
            var order: [[Int]] = [], byKey: [[Int]: [Float]] = [:]
            while let b = try reader.nextBatch() {
                for i in 0..<b.positions.count {
                    let key = [b.promptIndices[i], b.positions[i]]
                    order.append(key)
                    byKey[key] = b.rows.row(i)
                }
            }
            return (order, byKey)
        }
        let (a, rowsA) = try read(seed: 1, window: 40)
        let (b, _) = try read(seed: 1, window: 40)
        let (c, _) = try read(seed: 2, window: 40)
        #expect(a == b)
        #expect(a != c)
        #expect(a != keys)
        #expect(Set(a) == Set(keys) && a.count == keys.count)
        // Each row still carries its own values.
        for (i, key) in keys.enumerated() { #expect(rowsA[key] == Array(rows[(i * 32)..<((i + 1) * 32)])) }
    }

    @Test func shuffledBatchesRunAcrossWindowsAndKeepEveryRowsValues() throws {
        let t = try captured()
        let (rows, keys) = try storedRows(t, "blocks.1.hook_resid_post")
        let index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        // Windows of at least 7 rows (whole prompts), batches of 9 and 1000: batches straddle windows.
        for (window, batch) in [(7, 9), (1, 4), (100_000, 1000), (25, 25)] {
            var reader = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.1.hook_resid_post",
                                              batchSize: batch, order: .shuffled(seed: 7, window: window))
            var seen: [[Int]] = [], sizes: [Int] = []
            while let b = try reader.nextBatch() {
                sizes.append(b.positions.count)
                for i in 0..<b.positions.count {
                    let key = [b.promptIndices[i], b.positions[i]]
                    seen.append(key)
                    let r = try #require(index[key])
                    #expect(b.rows.row(i) == Array(rows[(r * 32)..<((r + 1) * 32)]), "window \(window) batch \(batch) row \(key)")
                    #expect(b.tokens[i] == t.prompts[key[0]].tokens[key[1]])
                }
            }
            #expect(sizes.dropLast().allSatisfy { $0 == batch } && sizes.reduce(0, +) == keys.count)
            #expect(Set(seen) == Set(keys) && seen.count == keys.count && seen != keys)
        }
        // Stored order across its internal windows, with a batch that is not a divisor.
        var reader = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.1.hook_resid_post", batchSize: 7)
        var got: [Float] = []
        while let b = try reader.nextBatch() { got += b.rows.scalars }
        #expect(got == rows)
    }

    @Test func unknownHooksAndRaggedRowsAreErrors() throws {
        let t = try captured()
        let missing = errorText { _ = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.0.hook_resid_post") }
        #expect(missing.contains("no hook 'blocks.0.hook_resid_post' in capture \(t.capture.id) (it has blocks.1.hook_resid_post, blocks.0.attn.hook_pattern)"))
        // Pattern rows are as wide as each prompt: they cannot stream as one matrix.
        let ragged = errorText { _ = try ActivationReader(store: t.store, capture: t.capture, hook: "blocks.0.attn.hook_pattern") }
        #expect(ragged.contains("cannot stream as one matrix"))
    }

    @Test func readsWhileACaptureWrites() throws {
        let t = try TinyCapture(hooks: [.residPost(1)], positions: .last, dtype: .f32, count: 20)
        let reader = try ActivationStore(path: t.store.path)
        var seen: [Int] = []
        try Capturer(model: t.model, store: t.store, capture: t.capture, batchSize: 4).run(prompts: t.prompts, positions: t.kept) { _ in
            var r = try ActivationReader(store: reader, capture: t.capture, hook: "blocks.1.hook_resid_post")
            seen.append(r.rowCount)
            while try r.nextBatch() != nil {}
        }
        #expect(seen == [4, 8, 12, 16, 20])
    }
}

@Suite struct NPYTests {
    @Test func headerIsNumPyVersion1AlignedTo64() throws {
        let path = try temporaryStorePath() + ".npy"
        let w = try NPYWriter(path: path, rows: 2, width: 3)
        w.append(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5]))
        try w.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix(" \n"))
        let body = data.suffix(from: 10 + headerLength)
        #expect(body.count == 24)
        let floats = body.withUnsafeBytes { raw in (0..<6).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        #expect(floats == [1, 2, 3, 4, 5, -6.5])
    }

    @Test func writingTooFewRowsIsAnError() throws {
        let path = try temporaryStorePath() + ".npy"
        let w = try NPYWriter(path: path, rows: 3, width: 2, dtype: .f16)
        w.append(Tensor(shape: [1, 2], scalars: [1, 2]))
        #expect(errorText { try w.close() } == "\(path): data: wrote 2 values, header says 6")
    }
}
