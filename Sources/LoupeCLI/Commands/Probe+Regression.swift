import ArgumentParser
import Foundation
import Probes
import Reporting
import Store

extension Loupe.ProbeTrain {
    struct RegressionLayerOut: Encodable {
        let hook: String; let layer: Int?; let trainR2: Double?; let testR2: Double?; let cvR2Mean: Double?; let cvR2Std: Double?
        let controlR2: Double?; let baselineR2: Double?; let trainMSE: Double; let testMSE: Double; let baselineMSE: Double
        let controlMSE: Double?; let alpha: Double; let trainRows: Int; let testRows: Int; let outliers: [Int]
    }
    struct RegressionOutput: Encodable {
        let dataset: String; let target: String; let position: String; let probe: String; let examples: Int
        let best: String?; let layers: [RegressionLayerOut]; let finding: [String]; let report: String
    }

    /// The regression experiment the options describe: alpha by cross-validation unless --alpha is a number.
    func regressionExperiment() -> RegressionExperiment {
        let fixed = alpha.flatMap(Double.init)
        let rule: OutlierRule? = keepOutliers ? nil : outlierFactor.map(OutlierRule.init) ?? (noStandardize ? nil : OutlierRule())
        return RegressionExperiment(alpha: fixed ?? 1, grid: fixed == nil ? RegressionExperiment.defaultGrid : [],
                                    standardize: !noStandardize, testFraction: testFraction, folds: folds, seed: seed,
                                    outlierRule: rule, control: !noControl)
    }

    /// `--probe ridge --target FIELD`: one ridge regression per hook, the report, and the table or JSON.
    func runRegression(_ training: ProbeTraining, target: String, hooks: [String],
                       holders: [String: CaptureSummary]) throws {
        let report = try training.runRegression(target: target, regression: regressionExperiment(), hooks: hooks,
                                                holders: holders, progress: Console.progress)
        let label = training.name + "-" + target
        var folder = try out.map { try ReportFolder(directory: URL(fileURLWithPath: $0)) }
            ?? ReportFolder(analysis: "probe", label: label)
        let names = training.promptNames()
        try report.write(to: &folder, command: commandLine(), names: { names[$0] ?? String($0) })
        let reportPath = out ?? "reports/" + ReportFolder.folderName(analysis: "probe", label: label)
        let finite = { (x: Double) in x.isFinite ? x : nil }
        if format == .json {
            return try Console.json(RegressionOutput(
                dataset: report.dataset, target: target, position: report.position.rawValue, probe: "ridge",
                examples: report.examples, best: report.best?.hook,
                layers: report.layers.map { l in
                    let r = l.result
                    return RegressionLayerOut(hook: l.hook, layer: l.layer, trainR2: finite(r.trainR2), testR2: finite(r.testR2),
                                              cvR2Mean: finite(r.cvR2Mean), cvR2Std: finite(r.cvR2Std), controlR2: finite(r.controlR2),
                                              baselineR2: finite(r.baselineR2), trainMSE: r.trainMSE, testMSE: r.testMSE,
                                              baselineMSE: r.baselineMSE, controlMSE: finite(r.controlMSE), alpha: r.alpha,
                                              trainRows: r.trainRows, testRows: r.testRows, outliers: r.outlierPrompts)
                }, finding: report.finding, report: reportPath))
        }
        Console.out("ridge probe (\(alpha.flatMap(Double.init).map { "alpha \($0)" } ?? "alpha by CV")\(noStandardize ? "" : ", standardized")) "
                    + "on \(report.dataset) / \(target): \(report.examples) examples, position \(report.position.rawValue)")
        let width = max(4, report.layers.map(\.hook.count).max() ?? 4)
        Console.out("hook".padding(toLength: width, withPad: " ", startingAt: 0)
                    + "  train R²  test R²  cv R²    control  train RMSE  test RMSE  mean RMSE  alpha")
        let num = { (x: Double) in x.isNaN ? "  -     " : String(format: "%7.3f ", x) }
        for l in report.layers {
            let r = l.result
            Console.out(l.hook.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + num(r.trainR2) + "  " + num(r.testR2)
                        + num(r.cvR2Mean) + " " + num(r.controlR2)
                        + String(format: "  %10.3g  %9.3g  %9.3g  %g", r.trainMSE.squareRoot(), r.testMSE.squareRoot(),
                                 r.baselineMSE.squareRoot(), r.alpha))
        }
        Console.out("RMSE = √MSE (layers.csv and --format json give the MSEs); mean RMSE: predicting the training mean for the test rows")
        if let b = report.best {
            Console.out("best: \(b.hook) (by cross-validated R²); training-mean baseline RMSE \(String(format: "%.3g", b.result.baselineMSE.squareRoot()))")
        }
        for s in report.finding { Console.out(s) }
        Console.out("report written to \(reportPath)")
    }
}
