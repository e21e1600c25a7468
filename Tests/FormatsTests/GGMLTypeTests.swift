import Formats
import Testing

@Suite struct GGMLTypeTests {
    @Test func blockSizesMatchGGML() {
        let expected: [(GGMLType, Int, Int)] = [
            (.f32, 4, 1), (.f16, 2, 1), (.bf16, 2, 1), (.q8_0, 34, 32), (.q4_0, 18, 32), (.q4_1, 20, 32),
            (.q5_0, 22, 32), (.q5_1, 24, 32), (.q4_K, 144, 256), (.q5_K, 176, 256), (.q6_K, 210, 256),
            (.q2_K, 84, 256), (.q3_K, 110, 256), (.q8_K, 292, 256), (.iq4_XS, 136, 256), (.f64, 8, 1),
        ]
        for (type, bytes, block) in expected {
            #expect(type.bytesPerBlock == bytes, "\(type) bytes per block")
            #expect(type.blockSize == block, "\(type) block size")
        }
    }

    @Test func idsAndNames() {
        #expect(GGMLType(rawValue: 3) == .q4_1)
        #expect(GGMLType(rawValue: 14) == .q6_K)
        #expect(GGMLType(rawValue: 30) == .bf16)
        #expect(GGMLType(rawValue: 4) == nil)  // removed Q4_2
        #expect(GGMLType.q4_K.name == "Q4_K")
    }

    @Test func byteCount() {
        #expect(GGMLType.q4_1.byteCount(elements: 64) == 40)
        #expect(GGMLType.q4_1.byteCount(elements: 33) == nil)
        #expect(GGMLType.f32.byteCount(elements: Int.max / 2) == nil)
    }
}
