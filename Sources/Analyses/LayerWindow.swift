/// ROME's window of layers around a layer (causal tracing's MLP and attention restorations,
/// attention knockout): `layer - w/2` up to but not including `layer + ceil(w/2)`, clipped to
/// `0..<layers`. A width below 1 counts as 1.
public func layerWindow(around layer: Int, width: Int, layers: Int) -> Range<Int> {
    let w = max(width, 1)
    return max(0, layer - w / 2)..<min(layers, layer + (w + 1) / 2)
}
