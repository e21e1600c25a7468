/// An sRGB colour with 8-bit channels.
public struct RGB: Sendable, Hashable, CustomStringConvertible {
    /// Red, 0...255.
    public var red: UInt8
    /// Green, 0...255.
    public var green: UInt8
    /// Blue, 0...255.
    public var blue: UInt8

    /// A colour from its channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// `#rrggbb`, lower case, as written into SVG `fill` attributes.
    public var hex: String {
        "#" + [red, green, blue].map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// Same as ``hex``.
    public var description: String { hex }

    /// Ten distinct colours for series (Tableau 10), used in order when a series names none.
    public static let palette: [RGB] = [
        0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac,
    ].map(RGB.init(hex:))
}

/// A colour ramp: colours at evenly spaced stops, interpolated linearly in sRGB.
///
/// The sequential ramps are ColorBrewer's 9-class schemes, which matplotlib's `Purples`,
/// `Greens` and `Reds` (used in Meng et al.'s causal tracing figures) are built from.
public struct ColorRamp: Sendable, Hashable {
    /// Colours at positions `0, 1/(n-1), ..., 1`; at least two.
    public let stops: [RGB]

    /// A ramp through `stops`, evenly spaced from 0 to 1.
    public init(stops: [RGB]) {
        precondition(stops.count >= 2, "a colour ramp needs at least 2 stops, got \(stops.count)")
        self.stops = stops
    }

    /// The colour at the ramp's low end (t = 0).
    public var low: RGB { stops[0] }
    /// The colour at the ramp's high end (t = 1).
    public var high: RGB { stops[stops.count - 1] }

    /// The colour at `t`, clamped to 0...1 (NaN gives ``low``).
    public func color(at t: Double) -> RGB {
        let t = t.isNaN ? 0 : min(1, max(0, t))
        let scaled = t * Double(stops.count - 1)
        let i = min(Int(scaled), stops.count - 2)
        let f = scaled - Double(i)
        if f == 0 { return stops[i] }
        if f == 1 { return stops[i + 1] }
        let a = stops[i], b = stops[i + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8((Double(x) + (Double(y) - Double(x)) * f).rounded())
        }
        return RGB(red: mix(a.red, b.red), green: mix(a.green, b.green), blue: mix(a.blue, b.blue))
    }

    /// A strong colour from the ramp (t = 0.8) for lines that go with its heatmap.
    public var accent: RGB { color(at: 0.8) }

    /// White to purple, for hidden states (ColorBrewer Purples).
    public static let purples = ColorRamp(hexStops: [
        0xfcfbfd, 0xefedf5, 0xdadaeb, 0xbcbddc, 0x9e9ac8, 0x807dba, 0x6a51a3, 0x54278f, 0x3f007d])
    /// White to green, for MLP outputs (ColorBrewer Greens).
    public static let greens = ColorRamp(hexStops: [
        0xf7fcf5, 0xe5f5e0, 0xc7e9c0, 0xa1d99b, 0x74c476, 0x41ab5d, 0x238b45, 0x006d2c, 0x00441b])
    /// White to red, for attention outputs (ColorBrewer Reds).
    public static let reds = ColorRamp(hexStops: [
        0xfff5f0, 0xfee0d2, 0xfcbba1, 0xfc9272, 0xfb6a4a, 0xef3b2c, 0xcb181d, 0xa50f15, 0x67000d])
    /// White to blue (ColorBrewer Blues).
    public static let blues = ColorRamp(hexStops: [
        0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b])
    /// Blue through white to red, for signed values centred on zero (ColorBrewer RdBu, reversed);
    /// pair it with a symmetric value range.
    public static let blueWhiteRed = ColorRamp(hexStops: [
        0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b])

    private init(hexStops: [UInt32]) {
        self.init(stops: hexStops.map(RGB.init(hex:)))
    }
}
