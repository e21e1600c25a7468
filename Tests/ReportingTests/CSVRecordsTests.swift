import Reporting
import Testing

/// CSVRecords reads back what CSVTable writes (quotes, commas, doubled quotes, line breaks).
struct CSVRecordsTests {
    @Test func parsesQuotedFieldsAndLineBreaks() {
        let text = "a,\"b,c\",\"d\"\"e\"\n1,,\"x\ny\"\n"
        #expect(CSVRecords.parse(text) == [["a", "b,c", "d\"e"], ["1", "", "x\ny"]])
        #expect(CSVRecords.parse("p,q") == [["p", "q"]])
        #expect(CSVRecords.parse("") == [])
        var table = CSVTable(header: ["token", "context"])
        table.append([.string(" and"), .string("basil[ and] \"olive\", oil\nnext")])
        #expect(CSVRecords.parse(table.rendered()) == [["token", "context"], [" and", "basil[ and] \"olive\", oil\nnext"]])
    }
}
