import Foundation
import LoupeCLI
import LoupeTestSupport
import Testing

/// `loupe trace` and `loupe patch` end to end: their reports, JSON and errors.
@Suite(.serialized, .enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct AnalysisCommandTests {
    @Test func patchWritesAReportAndJSON() throws {
        let dir = try captureFolder()
        let out = dir.appendingPathComponent("patch").path
        let result = try json(runLoupe(["patch", "--clean", "The capital of France is", "--corrupt", "The capital of Italy is",
                                        "--answer", " Paris", "--wrong", " Rome", "--layers", "0,29", "--sites", "resid_pre,z",
                                        "--out", out, "--format", "json"])) as! [String: Any]
        let grids = result["grids"] as! [String: Any]
        #expect(Set(grids.keys) == ["resid_pre", "z"])
        let residPre = grids["resid_pre"] as! [[[String: Any]]]
        #expect(residPre.count == 30 && residPre[1][0]["logitDifference"] is NSNull && residPre[0][3]["logitDifference"] is Double)
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(Set(files).isSuperset(of: ["summary.txt", "positions.csv", "patching.svg", "heads.csv", "heads.svg", "index.html"]), "\(files)")
        let summary = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8)
        #expect(summary.contains("France/ Italy") || summary.contains("France/␣Italy"), "\(summary)")
        #expect(summary.contains("command") && summary.contains("--corrupt"), "\(summary)")
        let csv = try String(contentsOfFile: out + "/positions.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0] == "site,layer,position,token,logit_diff,normalized,p_answer,ie_logit_diff,ie_p_answer")
        #expect(csv.count == 1 + 30 * 5)
        // Layer 0, the country's position: patching it restores the clean run; its indirect
        // effect is the whole clean - corrupted gap (both metrics).
        let row = try #require(csv.first { $0.hasPrefix("resid_pre,0,3,") })
        let cells = row.split(separator: ",").map(String.init)
        #expect(abs(Double(cells[5])! - 1) < 1e-3, "\(row)")
        let clean = result["clean"] as! [String: Double], corrupted = result["corrupted"] as! [String: Double]
        #expect(abs(Double(cells[7])! - (clean["logitDifference"]! - corrupted["logitDifference"]!)) < 1e-3, "\(row)")
        #expect(abs(Double(cells[8])! - (clean["probability"]! - corrupted["probability"]!)) < 1e-4, "\(row)")
        let effects = (result["indirectEffects"] as! [String: Any])["resid_pre"] as! [[[String: Any]]]
        #expect(abs((effects[0][3]["logitDifference"] as! Double) - Double(cells[7])!) < 1e-3 && effects[1][0]["logitDifference"] is NSNull)

        let text = try runLoupe(["patch", "--clean", "The capital of France is", "--corrupt", "The capital of Italy is",
                                 "--answer", " Paris", "--wrong", " Rome", "--layers", "0", "--sites", "resid_pre", "--no-report"])
        #expect(text.contains("resid_pre (denoising)") && text.contains("* France/ Italy"), "\(text)")
    }

    @Test func knockoutWritesAReport() throws {
        let out = try captureFolder().appendingPathComponent("ko").path
        let result = try json(runLoupe(["knockout", "--prompt", "The Great Wall is located in the country of",
                                        "--subject", "The Great Wall", "--blocks", "subject", "--out", out, "--format", "json"])) as! [String: Any]
        let p = (result["probabilities"] as! [String: Any])["subject"] as! [Double]
        #expect(p.count == 30 && p[21] < 0.5 * (result["cleanProbability"] as! Double), "\(p)")
        let csv = try String(contentsOfFile: out + "/knockout.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0] == "block,layer,window,p,relative_change_percent" && csv[1].hasPrefix("subject,0,0-4,") && csv.count == 31)
        let summary = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8)
        #expect(summary.contains("largest drop, subject -> last") && summary.contains("p(␣China) by 7") && summary.contains("kept (attention sink)"), "\(summary)")
        #expect(FileManager.default.fileExists(atPath: out + "/knockout.svg") && FileManager.default.fileExists(atPath: out + "/index.html"))
        #expect(loupeError(["knockout", "--prompt", "a b", "--subject", "a", "--blocks", "everything"]).contains("unknown block 'everything'"))
    }

    @Test func patchErrorsShowTheTokens() throws {
        let unequal = loupeError(["patch", "--clean", "The Eiffel Tower is in", "--corrupt", "Rome is in",
                                  "--answer", " Paris", "--wrong", " Rome", "--no-report"])
        #expect(unequal.contains("same number of tokens") && unequal.contains("clean   (") && unequal.contains("'Rome' ' is' ' in'"), "\(unequal)")
        let notOne = loupeError(["patch", "--clean", "The capital of France is", "--corrupt", "The capital of Italy is",
                                 "--answer", " Parisians", "--wrong", " Rome", "--no-report"])
        #expect(notOne.contains("is not a single token"), "\(notOne)")
        let site = loupeError(["patch", "--clean", "a", "--corrupt", "b", "--answer", "x", "--wrong", "y", "--sites", "resid_post"])
        #expect(site.contains("unknown site 'resid_post'"), "\(site)")
    }
}

/// `loupe trace --facts` on a small file: skipped facts are listed, roles averaged, report written.
@Suite(.enabled(if: TestFiles.hasRealModel, "needs the default model: run scripts/setup.sh"))
struct TraceFactsCommandTests {
    @Test func factsAreTracedAveragedAndSkippedWithAReason() throws {
        let dir = try captureFolder()
        let facts = dir.appendingPathComponent("facts.jsonl").path
        try """
            {"prompt": "The Colosseum is located in the city of", "subject": "The Colosseum", "answer": " Rome"}
            {"prompt": "Big Ben is located in the city of", "subject": "Big Ben", "answer": " London"}

            {"prompt": "Machu Picchu is located in the country of", "subject": "Machu Picchu", "answer": " Peru"}
            {"prompt": "The Louvre is in Paris", "subject": "Notre Dame"}
            """.write(toFile: facts, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("report").path
        let result = try json(runLoupe(["trace", "--facts", facts, "--samples", "2", "--kinds", "mlp", "--out", out,
                                        "--format", "json"])) as! [String: Any]
        let list = result["facts"] as! [[String: Any]]
        #expect(list.count == 4 && list.map { $0["result"] != nil } == [true, false, true, false])
        #expect((list[1]["skipped"] as? String)?.contains("not '␣London'") == true || (list[1]["skipped"] as? String)?.contains("not ' London'") == true, "\(list[1])")
        #expect((list[3]["skipped"] as? String)?.contains("'Notre Dame' does not occur") == true, "\(list[3])")
        let averages = (result["roleAverages"] as! [String: Any])["mlp"] as! [String: Any]
        let last = averages["last subject token"] as! [String: Any]
        #expect(last["facts"] as? Int == 2 && (last["mean"] as! [Double]).count == 30)
        let roles = try String(contentsOfFile: out + "/roles.csv", encoding: .utf8).split(separator: "\n")
        #expect(roles[0] == "kind,role,layer,mean,ci_low,ci_high,facts" && roles.count == 1 + 6 * 30)
        #expect(FileManager.default.fileExists(atPath: out + "/roles-mlp.svg") && FileManager.default.fileExists(atPath: out + "/facts.csv"))
        let summary = try String(contentsOfFile: out + "/summary.txt", encoding: .utf8)
        #expect(summary.contains("facts traced:") && summary.contains("2 of 4"), "\(summary)")

        #expect(loupeError(["trace", "--facts", facts, "--prompt", "x"]).contains("cannot be combined"))
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try "{\"prompt\": \"a\", \"subject\": \"a\"}\n{\"prompt\": 3}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(loupeError(["trace", "--facts", bad]).contains("bad.jsonl:2: needs string fields"))
    }
}
