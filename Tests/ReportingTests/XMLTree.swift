import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML document as a flat list of elements, for checking SVG and HTML output.
struct XMLTree {
    struct Element {
        var name: String
        var attributes: [String: String]
        /// Character data directly inside the element (entities decoded).
        var text: String
        var parent: Int?
    }

    var elements: [Element] = []

    /// Parses `markup`; `nil` when it is not well-formed XML.
    init?(_ markup: String) {
        let collector = Collector()
        let parser = XMLParser(data: Data(markup.utf8))
        parser.delegate = collector
        guard parser.parse(), collector.stack.isEmpty else { return nil }
        elements = collector.elements
    }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }

    /// Text of every element named `name`.
    func texts(_ name: String) -> [String] { all(name).map(\.text) }

    /// `<rect>` elements that carry a `<title>` child, with that title.
    func tooltipRects() -> [(rect: Element, tooltip: String)] {
        elements.compactMap { e in
            guard e.name == "title", let p = e.parent, elements[p].name == "rect" else { return nil }
            return (elements[p], e.text)
        }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var stack: [Int] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            elements.append(Element(name: elementName, attributes: attributeDict, text: "", parent: stack.last))
            stack.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let top = stack.last { elements[top].text += string }
        }
    }
}
