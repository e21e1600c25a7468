import Linalg

/// Anything that holds named tensors: a GGUF file or a safetensors checkpoint.
public protocol TensorSource: Sendable {
    /// The file or folder the tensors come from, for messages.
    var path: String { get }
    /// All tensor names, in file order.
    var tensorNames: [String] { get }
    /// Row-major shape (outermost first) of tensor `name`, or nil when there is none.
    func shape(of name: String) -> [Int]?
    /// Tensor `name` as Float32 with its row-major shape.
    /// - Throws: ``FormatError/missingTensor(file:name:closeMatches:)`` when there is none,
    ///   listing close names; other ``FormatError``s when its type cannot be converted.
    func tensor(_ name: String) throws -> Tensor
}
