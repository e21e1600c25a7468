import Foundation
import Reporting
import Testing

@Suite struct NumberFormatTests {
    @Test func sixSignificantDigits() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (1, "1"), (-2.5, "-2.5"), (1.0 / 3.0, "0.333333"),
            (123456789, "1.23457e+08"), (1e-7, "1e-07"), (-1e-300, "-1e-300"), (0.1 + 0.2, "0.3"),
            (.nan, "nan"), (-Double.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf"),
        ]
        for (value, expected) in cases {
            #expect(NumberFormat.string(value) == expected, "\(value)")
        }
        #expect(NumberFormat.string(Float(0.1)) == "0.1")
    }

    @Test func fixedDecimals() {
        #expect(NumberFormat.fixed(-0.001, decimals: 2) == "0.00")
        #expect(NumberFormat.fixed(-0.006, decimals: 2) == "-0.01")
        #expect(NumberFormat.fixed(3.14159, decimals: 3) == "3.142")
        #expect(NumberFormat.fixed(.nan, decimals: 1) == "nan")
    }
}

@Suite struct EscapingTests {
    static let hostile = "<script>alert(\"x\")</script> & 'q'"

    @Test func markupEscapesTheFiveCharacters() {
        #expect(Markup.escape(Self.hostile)
            == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;")
    }

    @Test func markupMakesControlCharactersVisible() {
        #expect(Markup.escape("a\u{0}b\u{1B}c\td") == "a␀b␛c\td")
    }

    @Test func tokenLabels() {
        #expect(TokenLabel.display(" Paris") == "␣Paris")
        #expect(TokenLabel.display("\n\n") == "↵↵")
        #expect(TokenLabel.display("\r\n\t") == "␍↵⇥")
        #expect(TokenLabel.display("\u{0}\u{7F}") == "␀␡")
        #expect(TokenLabel.display("") == "∅")
        #expect(TokenLabel.display("abc\u{202E}def") == "abc⟨U+202E⟩def")
        #expect(TokenLabel.display("\u{200B}x") == "⟨U+200B⟩x")
        #expect(TokenLabel.display("👩‍💻🎉") == "👩‍💻🎉")
        #expect(TokenLabel.display("שלום") == "שלום")
        let long = TokenLabel.display(String(repeating: "x", count: 40))
        #expect(long.count == 24 && long.hasSuffix("…"))
        #expect(TokenLabel.display("abcdef", maxLength: 4) == "abc…")
    }
}

@Suite struct CSVTableTests {
    @Test func trickyCells() {
        let table = CSVTable(header: ["token", "value", "n"], rows: [
            [" Paris", 0.1, 3],
            ["a,b", .double(-0.0), -1],
            ["say \"hi\"", .double(.nan), 0],
            ["line\nbreak", 1e-7, 42],
            ["", .double(.infinity), 0],
            ["cr\rx", 123456789.0, 7],
        ])
        let expected = [
            #"token,value,n"#,
            #"" Paris",0.1,3"#,
            #""a,b",0,-1"#,
            #""say ""hi""",nan,0"#,
            #""line"#,
            #"break",1e-07,42"#,
            #",inf,0"#,
            "\"cr\rx\",1.23457e+08,7",
        ]
        #expect(table.rendered() == expected.joined(separator: "\n") + "\n")
    }

    @Test func headerIsQuotedToo() {
        #expect(CSVTable(header: ["a,b", "c"]).rendered() == "\"a,b\",c\n")
    }

    @Test func longFormForHeatmaps() {
        var table = CSVTable.longForm()
        table.appendLongForm(kind: "state", values: [[0.5, 1], [0.25, 0]], tokens: [" The", "\"x\""], layers: [3, 4])
        table.appendLongForm(kind: "mlp", values: [[2]], tokens: ["a"])
        let expected = [
            #"kind,layer,position,token,value"#,
            #"state,3,0," The",0.5"#,
            #"state,4,0," The",1"#,
            #"state,3,1,"""x""",0.25"#,
            #"state,4,1,"""x""",0"#,
            #"mlp,0,0,a,2"#,
        ]
        #expect(table.rendered() == expected.joined(separator: "\n") + "\n")
    }
}

@Suite struct SummaryTextTests {
    @Test func alignedFieldsAndWrappedSentences() {
        var summary = SummaryText(title: "Causal trace")
        summary.field("prompt", "The Eiffel Tower is in")
        summary.field("answer", " Paris")
        summary.field("p(answer)", 0.912345678)
        summary.field("layers", 30)
        summary.sentence(String(repeating: "word ", count: 20) + "end.")
        summary.field("noise", 0.1)
        var narrow = summary
        narrow.width = 30
        #expect(narrow.rendered() == """
            Causal trace
            ============

            prompt:    The Eiffel Tower is in
            answer:     Paris
            p(answer): 0.912346
            layers:    30

            word word word word word word
            word word word word word word
            word word word word word word
            word word end.

            noise: 0.1

            """)
    }
}
