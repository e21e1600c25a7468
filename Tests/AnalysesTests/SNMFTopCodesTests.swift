import Analyses
import Formats
import Foundation
import Linalg
import Testing

/// What a report reads from Y under MPI: each rank's top tokens merged equal the top of the
/// whole Y (ties by token index, as one process breaks them), and codes.npy written column
/// block by column block equals Y.
@Suite struct SNMFTopCodesTests {
    /// The top `count` of each row by brute force: every index sorted by (code desc, index asc).
    static func bruteTop(_ codes: [Float], k: Int, n: Int, count: Int) -> [[SNMFTopCodes.Entry]] {
        (0..<k).map { f in
            Array((0..<n).sorted { a, b in
                let (x, y) = (codes[f * n + a], codes[f * n + b])
                return x != y ? x > y : a < b
            }.prefix(count).map { SNMFTopCodes.Entry(token: $0, code: codes[f * n + $0]) })
        }
    }

    /// Y's columns `block` as a `[k, block.count]` array.
    static func columns(_ codes: [Float], k: Int, n: Int, _ block: Range<Int>) -> [Float] {
        (0..<k).flatMap { f in codes[(f * n + block.lowerBound)..<(f * n + block.upperBound)] }
    }

    @Test func mergedBlockTopsEqualTheWholeTopWithTiesByIndex() throws {
        let (k, n) = (3, 33)
        // Few distinct values, so ties abound (feature 2 is all zeros: only ties).
        let codes: [Float] = (0..<(k * n)).map { i in i / n == 2 ? 0 : [0, 0.5, 1, 2, 2][(i * 7 + i / 5) % 5] }
        for count in [1, 4, 10, 40] {
            let whole = SNMFTopCodes(codes: codes, rank: k, block: 0..<n, count: count)
            #expect(whole.features == Self.bruteTop(codes, k: k, n: n, count: min(count, n)), "count \(count)")
            let blocks = [0..<7, 7..<8, 8..<20, 20..<33]
            let parts = blocks.map { SNMFTopCodes(codes: Self.columns(codes, k: k, n: n, $0), rank: k, block: $0, count: count) }
            #expect(SNMFTopCodes(merging: parts.reversed(), count: count) == whole, "count \(count)")
        }
        // Ties keep the lower index: the zeros of feature 2 are tokens 0, 1, 2, ...
        #expect(SNMFTopCodes(codes: codes, rank: k, block: 0..<n, count: 3).features[2].map(\.token) == [0, 1, 2])
    }

    @Test func codesFileWrittenByColumnBlocksEqualsY() throws {
        let (k, n) = (3, 10)
        let codes = (0..<(k * n)).map { Float($0) * 0.25 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID())-codes.npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SNMFCodesFile.create(at: path, rank: k, tokens: n)
        for block in [6..<10, 0..<3, 3..<6] {
            try SNMFCodesFile.write(Self.columns(codes, k: k, n: n, block), rank: k, block: block, tokens: n, to: path)
        }
        #expect(try NumPyArray.read(path: path) == Tensor(shape: [k, n], scalars: codes))
        #expect(throws: SNMFError.self) { try SNMFCodesFile.write([1], rank: 1, block: 0..<1, tokens: n, to: path) }
    }

    /// An `.npy` stream's block reads only its rows, and names a bad row by its index in the file.
    @Test func npyStreamBlocksAndBadRows() throws {
        let (dir, path) = try SNMFCommandLikeFiles.matrix(n: 12, d: 3, nanRow: 9)
        defer { try? FileManager.default.removeItem(at: dir) }
        let stream = try SNMFNpyStream(npy: path)
        #expect(stream.tokens == 12 && stream.neurons == 3 && stream.source == path)
        var seen: [Int] = []
        let whole = try NumPyArray.read(path: path)
        #expect(throws: CancellationError.self) {
            try stream.forEachChunk(rows: 4) { first, chunk in
                #expect(chunk == whole.rows(first..<(first + chunk.shape[0])))
                seen.append(first)
                if first == 4 { throw CancellationError() }  // rows 8... hold the NaN
            }
        }
        #expect(seen == [0, 4])
        let error = try #require(throws: SNMFError.self) { try stream.forEachChunk(rows: 5) { _, _ in } }
        #expect(error == .nonFiniteRow(row: 9, source: path))
    }
}

/// A seeded Gaussian `.npy` matrix, optionally with a NaN in one row.
enum SNMFCommandLikeFiles {
    static func matrix(n: Int, d: Int, nanRow: Int? = nil) throws -> (dir: URL, path: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 5)
        var scalars = (0..<(n * d)).map { _ in rng.nextGaussian() }
        if let nanRow { scalars[nanRow * d + 1] = .nan }
        let path = dir.appendingPathComponent("x.npy").path
        try NumPyArray.write(Tensor(shape: [n, d], scalars: scalars), to: path)
        return (dir, path)
    }
}
