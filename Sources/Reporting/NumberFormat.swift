import Foundation

/// The one number format used in every report file, so files diff cleanly between runs.
///
/// Values print like C's `%.6g` in the POSIX locale (`0.333333`, `1.5e-07`, `1.23457e+08`),
/// except that a negative zero prints as `0` and non-finite values as `nan`, `inf`, `-inf`.
public enum NumberFormat {
    /// `value` with 6 significant digits (`%.6g`), `-0` as `0`, `nan`/`inf`/`-inf` spelled out.
    public static func string(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return droppingNegativeZero(String(format: "%.6g", value))
    }

    /// `value` with 6 significant digits; see ``string(_:)-(Double)``.
    public static func string(_ value: Float) -> String {
        string(Double(value))
    }

    /// `value` with exactly `decimals` digits after the point (`%.*f`), `-0.00` as `0.00`.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        precondition(decimals >= 0 && decimals <= 17, "decimals \(decimals) not in 0...17")
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return droppingNegativeZero(String(format: "%.\(decimals)f", value))
    }

    /// A drawing coordinate: at most 2 decimals, trailing zeros dropped (`12.5`, `3`).
    static func coordinate(_ value: Double) -> String {
        var text = fixed(value, decimals: 2)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// `-0`, `-0.00` and `-0e+00` become unsigned: a minus sign with no nonzero digit after it.
    private static func droppingNegativeZero(_ text: String) -> String {
        guard text.hasPrefix("-") else { return text }
        let mantissa = text.prefix { $0 != "e" }
        if mantissa.contains(where: { ("1"..."9").contains($0) }) { return text }
        return String(text.dropFirst())
    }
}
