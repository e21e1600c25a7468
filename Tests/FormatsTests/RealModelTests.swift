import Formats
import Foundation
import Testing

/// The real SmolLM2-135M-Instruct Q4_1 GGUF, against values from the Python `gguf` package
/// (committed in smollm2_expected.json). Skipped when the model is absent.
@Suite(.enabled(if: FixtureFiles.hasRealModel,
                "real model not found at $LOUPE_MODEL or ~/.cache/loupe/models (run scripts/setup.sh)"))
struct RealModelTests {
    static var expected: [String: Any] { try! FixtureFiles.json("smollm2_expected.json") }

    @Test func header() throws {
        let gguf = try GGUFFile(path: FixtureFiles.realModel)
        let header = Self.expected["header"] as! [String: Any]
        #expect(gguf.version == 3)
        #expect(gguf.tensors.count == 272 && gguf.tensors.count == header["tensor_count"] as! Int)
        #expect(gguf.metadataKeys.count == header["kv_count"] as! Int)
        #expect(Array(gguf.metadataKeys.prefix(5)) == header["first_keys"] as! [String])
        #expect(gguf.dataOffset == header["data_offset"] as! Int)
        #expect(gguf.metadata["general.architecture"]?.string == "llama")
        #expect(gguf.metadata["llama.block_count"]?.int == 30)
        #expect(gguf.metadata["llama.embedding_length"]?.int == 576)
        #expect(gguf.metadata["tokenizer.ggml.tokens"]?.strings?.count == 49152)
        #expect(gguf.tensors.reduce(0) { $0 + $1.elementCount } == header["element_count"] as! Int)
        var counts: [String: Int] = [:]
        for t in gguf.tensors { counts[t.type.name, default: 0] += 1 }
        #expect(counts == header["type_counts"] as! [String: Int])
        #expect(gguf.tensorInfo("token_embd.weight")?.shape == [49152, 576])
        #expect(gguf.tensorInfo("token_embd.weight")?.dimensions == [576, 49152])
    }

    /// First rows (and a last row) of Q8_0, Q4_1 and F32 tensors, bit-exact.
    @Test func tensorValuesMatchPython() throws {
        let gguf = try GGUFFile(path: FixtureFiles.realModel)
        for entry in Self.expected["tensors"] as! [[String: Any]] {
            let name = entry["name"] as! String
            let t = try gguf.tensor(name)
            #expect(t.shape == entry["shape"] as! [Int], "\(name)")
            #expect(gguf.tensorInfo(name)?.type.name == entry["type"] as? String)
            let expectedBits = (entry["bits"] as! [Int]).map(UInt32.init)
            var got: [UInt32]
            if let rows = entry["rows"] as? [Int] {
                got = rows.flatMap { t.row($0) }.map(\.bitPattern)
            } else {
                got = t.scalars.map(\.bitPattern)
            }
            #expect(got == expectedBits, "\(name) values differ from gguf-py")
        }
    }

    /// Dequantizes every tensor; prints the time (release builds should take well under 1 s).
    @Test func dequantizeWholeModel() throws {
        let gguf = try GGUFFile(path: FixtureFiles.realModel)
        let clock = ContinuousClock()
        var elements = 0
        let elapsed = try clock.measure {
            for info in gguf.tensors { elements += try gguf.tensor(info.name).count }
        }
        #expect(elements == 134_515_008)
        print("dequantized \(elements) elements of \(gguf.tensors.count) tensors in \(elapsed)")
    }
}
