import Linalg
import Models
import Tokenizers

/// The noise scale of causal tracing: ROME uses three times the standard deviation of the
/// model's token embeddings, measured over a sample of ordinary text.
public enum NoiseLevel {
    /// A few sentences of plain English whose tokens' embeddings set the scale.
    public static let sampleText = """
    The history of the city begins with a small settlement on the river. Over the centuries it \
    grew into a center of trade, art and science, and today millions of people visit its \
    museums, churches and parks. The weather is mild in spring and autumn. Many famous writers, \
    painters and musicians were born here, and the local university is one of the oldest in Europe.
    """

    /// Standard deviation of all embedding entries of the tokens of `text`.
    public static func embeddingStd(_ model: LoadedModel, text: String = sampleText) throws -> Float {
        let ids = try model.tokenizer.encode(text)
        let e = model.transformer.weights.tokenEmbedding, d = model.config.dModel
        var sum = 0.0, sumSquares = 0.0
        for id in ids {
            let row = e.row(id)
            for j in 0..<d {
                let v = Double(row[j])
                sum += v
                sumSquares += v * v
            }
        }
        let count = Double(ids.count * d)
        let mean = sum / count
        return Float((sumSquares / count - mean * mean).squareRoot())
    }
}
