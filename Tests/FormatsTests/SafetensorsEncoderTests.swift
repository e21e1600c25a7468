import Formats
import Foundation
import Linalg
import Testing

@Suite struct SafetensorsEncoderTests {
    @Test func safetensorsEncoderRoundTripsAndChecksShapes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-st-\(UUID()).safetensors").path
        try SafetensorsEncoder.write([.init(name: "a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), .init(name: "b", shape: [1], values: [-1])],
                                     metadata: ["format": "pt"], to: path)
        let file = try SafetensorsCheckpoint(path: path)
        #expect(try file.tensor("a") == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(try file.tensor("b").scalars == [-1])
        #expect(file.metadata["format"] == "pt")
        #expect(throws: FormatError.self) { try SafetensorsEncoder.encode([.init(name: "a", shape: [2, 2], values: [1])]) }
        #expect(throws: FormatError.self) { try SafetensorsEncoder.encode([.init(name: "a", shape: [Int.max, 4], values: [1])]) }
    }
}
